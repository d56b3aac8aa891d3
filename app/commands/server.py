"""`hosho serve`, `hosho sessions`, and the command line in centre mode
(`hosho --server URL login|logout|…`).

In centre mode the command line holds no database URL: it signs in at the server
like a desk (password, then the authenticator code) and keeps the session token in
a file readable by the user alone. The subcommands then run through the server as
that operator, with that operator's rights: ``--as`` names nobody there. Every
subcommand reaches the services through app.commands.desk.desk_of, here or there.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from app.commands.desk import desk_of
from app.core.errors import UserError
from app.core.paths import user_data_dir
from app.remote.where import ca_file_of, server_of

# The token file ------------------------------------------------------------------------

def token_file() -> Path:
    return user_data_dir() / "server-sessions.json"


def _tokens() -> dict[str, str]:
    path = token_file()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _save_tokens(tokens: dict[str, str]) -> None:
    """Owner-only from the first byte: the token is the operator's signed-in session."""
    path = token_file()
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(tokens, out)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def remote(args: argparse.Namespace):
    """The signed-in gateway of ``hosho --server URL``."""
    from app.remote.gateway import RemoteGateway

    url = server_of(args)
    token = _tokens().get(url.rstrip("/"))
    if token is None:
        raise UserError(f"サーバー {url} にサインインしていません。`hosho --server {url} login "
                        "ログイン名` でサインインしてください。",
                        f"Not signed in at {url}: run `hosho --server {url} login LOGIN`.")
    return RemoteGateway(url, ca_file=ca_file_of(args), token=token)


# login / logout --------------------------------------------------------------------------

def cmd_login(args: argparse.Namespace) -> int:
    from app.remote.gateway import RemoteGateway

    url = server_of(args)
    if url is None:
        raise UserError("login には --server URL（または HOSHO_SERVER）が必要です。",
                        "login needs --server URL (or HOSHO_SERVER).")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("パスワード / password: ")
    gateway = RemoteGateway(url, ca_file=ca_file_of(args))
    view = gateway.sign_in(args.login, password)
    if gateway.stage == "code":
        code = args.code or getpass.getpass("認証アプリの確認コード / authenticator code: ")
        view = gateway.verify_code(code)
    if gateway.stage != "active":
        gateway.sign_out()
        raise UserError("この操作者は先に画面でサインインし、認証アプリの登録またはパスワード"
                        "の変更を済ませてください。",
                        "Sign in once in the window first, to set up the authenticator or "
                        "change the password.")
    tokens = _tokens()
    tokens[url.rstrip("/")] = gateway.token
    _save_tokens(tokens)
    print(f"サインインしました / signed in: {view.login} ({view.role.value}) at {url}")
    return 0


def cmd_logout(args: argparse.Namespace) -> int:
    url = server_of(args)
    if url is None:
        raise UserError("logout には --server URL が必要です。", "logout needs --server URL.")
    tokens = _tokens()
    if url.rstrip("/") in tokens:
        remote(args).sign_out()
        del tokens[url.rstrip("/")]
        _save_tokens(tokens)
    print(f"サインアウトしました / signed out of {url}")
    return 0


# serve -----------------------------------------------------------------------------------

def cmd_serve(args: argparse.Namespace) -> int:
    from app.server.run import check_transport, parse_listen, serve
    from app.services import second_factor
    from app.services.opening import open_context

    host, _port = parse_listen(args.listen)
    check_transport(host, args.tls_cert, args.tls_key)  # before touching the database
    if args.totp_key:
        os.environ[second_factor.KEY_FILE_ENV] = args.totp_key
    second_factor.cipher()  # an unreadable key file stops the start, not a sign-in
    ctx = open_context(args.db, upgrade=False)
    if args.workers > 1:
        url = ctx.db.url
        ctx.db.dispose()
        from app.server.run import serve_workers

        return serve_workers(url, args.listen, args.workers, args.tls_cert, args.tls_key)
    return serve(ctx, args.listen, args.tls_cert, args.tls_key)


# sessions --------------------------------------------------------------------------------

def cmd_sessions_list(args: argparse.Namespace) -> int:
    from app.services import sessions

    rows = desk_of(args).write(sessions.list_sessions, args.all).value
    if args.json:
        print(json.dumps([{"id": r.id, "login": r.login, "role": r.role.value,
                           "address": r.client_address, "state": r.state,
                           "signed_in": r.created_at.isoformat(),
                           "last_seen": r.last_seen_at.isoformat(),
                           "ended": r.end_reason} for r in rows], ensure_ascii=False, indent=2))
        return 0
    for r in rows:
        print(f"{r.id:>6} {r.login:<16} {r.role.value:<10} {r.client_address:<16} "
              f"{r.state:<7} {r.created_at:%Y-%m-%d %H:%M} {r.last_seen_at:%H:%M}"
              f"{' ' + r.end_reason if r.end_reason else ''}")
    return 0


def cmd_sessions_end(args: argparse.Namespace) -> int:
    from app.services import sessions

    desk_of(args).write(sessions.end_session, args.session)
    print(f"セッションを終了しました / session ended: {args.session}")
    return 0


def register(sub, common: argparse.ArgumentParser) -> None:
    serve = sub.add_parser("serve", parents=[common],
                           help="run the centre server: it alone holds the database")
    serve.add_argument("--listen", required=True, metavar="HOST:PORT")
    serve.add_argument("--tls-cert", metavar="FILE", help="certificate chain (PEM)")
    serve.add_argument("--tls-key", metavar="FILE", help="private key (PEM)")
    serve.add_argument("--workers", type=int, default=1, metavar="N",
                       help="server processes (PostgreSQL only; about one per core)")
    serve.add_argument("--totp-key", metavar="FILE",
                       help="the key the authenticators' secrets are sealed under "
                            "(default: $HOSHO_TOTP_KEY_FILE; make one with "
                            "`hosho db seal-secrets --new-key`)")
    serve.set_defaults(handler=cmd_serve)
    login = sub.add_parser("login", parents=[common], help="sign in at the centre server")
    login.add_argument("login")
    login.add_argument("--password-stdin", action="store_true")
    login.add_argument("--code", metavar="CODE", help="the authenticator code")
    login.set_defaults(handler=cmd_login)
    sub.add_parser("logout", parents=[common], help="end the session at the centre server"
                   ).set_defaults(handler=cmd_logout)
    sess = sub.add_parser("sessions", help="sessions at the centre server (administrators)"
                          ).add_subparsers(dest="sessions_command", required=True)
    listing = sess.add_parser("list", parents=[common], help="open sessions")
    listing.add_argument("--all", action="store_true", help="ended ones too")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_sessions_list)
    end = sess.add_parser("end", parents=[common], help="end a session")
    end.add_argument("session", type=int)
    end.set_defaults(handler=cmd_sessions_end)


# db roles ----------------------------------------------------------------------------------

def cmd_db_roles(args: argparse.Namespace) -> int:
    from app.services.opening import resolve_db
    from app.storage import roles
    from app.storage.db import Database, normalise_url

    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise UserError("パスワードが空です。", "The password is empty.")
    db = Database(normalise_url(resolve_db(args.db)))
    try:
        with db.engine.begin() as conn:
            done = roles.apply(conn, args.server_role, password)
    finally:
        db.dispose()
    print(f"ロール {args.server_role} の権限を設定しました / role {args.server_role} granted "
          f"({len(done)} statements)")
    return 0


def cmd_db_seal_secrets(args: argparse.Namespace) -> int:
    from app.services import second_factor
    from app.services.opening import open_context

    path = Path(args.key_file)
    if args.new_key:
        second_factor.new_key_file(path)
        print(f"鍵ファイルを作成しました / key file created: {path}")
    os.environ[second_factor.KEY_FILE_ENV] = str(path)
    count = second_factor.encrypt_secrets(open_context(args.db))
    print(f"暗号化した秘密鍵 / secrets sealed: {count}")
    return 0


def add_db_roles(db_commands, common: argparse.ArgumentParser) -> None:
    seal = db_commands.add_parser(
        "seal-secrets", parents=[common],
        help="encrypt the authenticators' secrets under a key file the server holds")
    seal.add_argument("--key-file", required=True, metavar="FILE")
    seal.add_argument("--new-key", action="store_true", help="create the key file first")
    seal.set_defaults(handler=cmd_db_seal_secrets)
    roles = db_commands.add_parser(
        "roles", parents=[common],
        help="create or update the server's PostgreSQL login role (--db: the owner's URL)")
    roles.add_argument("--server-role", required=True, metavar="NAME")
    roles.add_argument("--password-stdin", action="store_true",
                       help="set the role's password, read from standard input")
    roles.set_defaults(handler=cmd_db_roles)
