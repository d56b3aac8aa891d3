"""The `hosho` command line: subcommands for the back office and scripting."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sqlite3
import sys
from collections.abc import Callable

from sqlalchemy.exc import OperationalError

from app.commands.desk import (
    add_code_option,
    at_centre,
    desk_of,
    refuse_as,
    refuse_local_only,
    step_up_code,
)
from app.core.errors import HoshoError, UserError
from app.core.paths import demo_db_path
from app.domain.roles import Role
from app.services.gateway import FileIn, FileOut
from app.services.opening import created_databases, open_context
from app.storage import migrate
from app.storage.db import environment_problem


def cmd_demo(args: argparse.Namespace) -> int:
    from app.services.demo import DEMO_PASSWORD, build_demo
    from app.services.demo_refunds import DEMO_AS_OF

    ctx = open_context(args.db or os.environ.get("HOSHO_DB") or str(demo_db_path()), create=True)
    result = build_demo(ctx, victims=args.victims, seed=args.seed,
                        progress=lambda done, total: print(f"  {done:,}/{total:,}",
                                                           file=sys.stderr))
    print(f"デモデータを作成しました / demo programme created: {ctx.db.url}")
    print(f"  被害者 victims {result.victims:,}  案件 cases {result.cases:,}  "
          f"被害 incidents {result.incidents:,}  請求総額 claimed {result.claimed_total:,}円")
    day = DEMO_AS_OF
    print(f"  残高払戻し refund members {result.refund_members:,}  "
          f"申出 applications {result.refund_applications:,} "
          f"（{day.year}年{day.month}月{day.day}日時点の申請 / applications as of "
          f"{day:%d %b %Y}; the refund programme's own day, the window shows it）")
    print(f"  デモ用アカウント（パスワードはすべて {DEMO_PASSWORD}）/ demo accounts, password "
          f"{DEMO_PASSWORD}:")
    for login, display, role in result.staff:
        print(f"    {login:<8} {role:<10} {display}")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from app.services.stats import programme_stats

    figures = desk_of(args).read(programme_stats)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
        return 0
    print(f"被害者 victims: {figures['victims']:,}")
    print(f"案件 cases: {figures['cases']:,}   被害 incidents: {figures['incidents']:,}")
    print(f"請求総額 claimed: {figures['claimed_total']:,}円   支払済 paid: "
          f"{figures['paid_total']:,}円")
    for channel, amount in figures["claimed_by_channel"].items():
        print(f"  {channel:<18} {amount:>14,}円")
    for status, count in figures["cases_by_status"].items():
        if count:
            print(f"  {status:<18} {count:>8,}")
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    ctx = open_context(args.db, upgrade=False)
    result = migrate.upgrade(ctx.db)
    if not result.changed:
        print(f"データベースは最新です（{result.after}）/ already at {result.after}")
        return 0
    print(f"{result.before or '空 empty'} → {result.after}")
    if result.backup:
        print(f"バックアップ backup: {result.backup}")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("パスワード / password: ")
    if getpass.getpass("もう一度 / again: ") != first:
        raise UserError("パスワードが一致しません。", "The passwords do not match.")
    return first


# The operator commands are the window's (app.services.operator_admin): at a centre the
# signed-in administrator gives a fresh code (--code) before each act; the system (the
# command line on its own database) needs none.

def cmd_operator_add(args: argparse.Namespace) -> int:
    from app.services import operator_admin
    from app.services.operators import check_password_policy

    password = _read_password(args)
    # Refused before the database is opened (or created): a weak password makes no file.
    check_password_policy(args.login.strip(), password, args.name or args.login)
    desk = desk_of(args, create=True)
    view, _ = desk.write(operator_admin.add, args.login, args.name or args.login,
                         Role(args.role), step_up_code(args, desk), password=password,
                         must_change_password=args.must_change).value
    print(f"操作者を登録しました / operator added: {view.login} ({view.role.value})")
    return 0


def cmd_operator_reset_password(args: argparse.Namespace) -> int:
    from app.services import operator_admin

    chosen = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    desk = desk_of(args)
    password = desk.write(operator_admin.reset_password, args.login,
                          step_up_code(args, desk), password=chosen).value
    print(f"パスワードを再設定しました / password reset: {args.login.strip()}")
    if chosen is None:
        print(f"一時パスワード / one-time password: {password}")
    print("次回のサインインで新しいパスワードの設定が必要です / "
          "a new password is required at the next sign-in")
    return 0


def cmd_operator_reset_second_factor(args: argparse.Namespace) -> int:
    from app.services import operator_admin

    desk = desk_of(args)
    desk.write(operator_admin.reset_second_factor, args.login, step_up_code(args, desk))
    print(f"二段階認証を解除しました / second factor cleared: {args.login.strip()} "
          "(次回サインイン時に再登録 / enrol again at the next sign-in)")
    return 0


def cmd_operator_list(args: argparse.Namespace) -> int:
    from app.services.operators import list_operators

    rows = desk_of(args).read(list_operators)
    if args.json:
        print(json.dumps([{"login": r.login, "name": r.display_name, "role": r.role.value,
                           "active": r.active} for r in rows], ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        state = "" if row.active else " (無効 inactive)"
        print(f"{row.login:<16} {row.role.value:<10} {row.display_name}{state}")
    return 0


def _parse_map(items: list[str]) -> dict[str, str]:
    mapping = {}
    for item in items:
        column, sep, field_name = item.partition("=")
        if not sep or not column.strip() or not field_name.strip():
            raise UserError(f"--map は 列名=項目名 の形で指定してください: {item}",
                            f"--map takes COLUMN=field: {item}")
        mapping[column.strip()] = field_name.strip()
    return mapping


def _print_import(summary, errors_path: str | None) -> None:
    mode = "（試行・書き込みなし）/ dry run, nothing written" if summary.dry_run else ""
    print(f"{summary.file_name}: {summary.encoding} {mode}")
    print(f"  読込 read {summary.read:,}  取込 accepted {summary.accepted:,}  "
          f"重複 duplicate {summary.duplicate:,}  不一致 conflict {summary.conflict:,}  "
          f"不備 rejected {summary.rejected:,}")
    print(f"  新規被害者 victims created {summary.victimscreated_databases:,}  "
          f"新規案件 cases created {summary.casescreated_databases:,}")
    for channel, amount in summary.amount_accepted_by_channel.items():
        print(f"  {channel:<18} {amount:>14,}円")
    if summary.unknown_columns:
        print("  無視した列 unknown columns: " + ", ".join(summary.unknown_columns))
    for row in summary.refused[:20]:
        print(f"  {row.line}行目 line {row.line}: " + " | ".join(row.reasons))
    if summary.conflict + summary.rejected > 20:
        print(f"  … {summary.conflict + summary.rejected - 20:,} more")
    if errors_path:
        print(f"  取り込めなかった行 refused rows: {errors_path}")


def cmd_import_csv(args: argparse.Namespace) -> int:
    from app.importers.incident_csv import preview
    from app.services.import_errors import import_spooling_refused
    from app.services.imports import import_incidents

    mapping = _parse_map(args.map or [])
    desk = desk_of(args)
    # The file is on this desk: read here for its header, uploaded for the import.
    if args.errors:
        header = preview(args.path, rows=0, mapping=mapping or None).header
        summary = desk.write(import_spooling_refused, FileIn(args.path),
                             mapping=mapping or None, dry_run=args.dry_run,
                             spool=FileOut(args.errors), header=header).value
    else:
        summary = desk.write(import_incidents, FileIn(args.path), mapping=mapping or None,
                             dry_run=args.dry_run).value
    if args.json:
        print(json.dumps(summary.as_json(), ensure_ascii=False, indent=2))
    else:
        _print_import(summary, args.errors)
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=argparse.SUPPRESS,
                        help="SQLite file or database URL (default: $HOSHO_DB, then the user "
                             "data folder)")
    common.add_argument("--server", default=argparse.SUPPRESS, metavar="URL",
                        help="centre mode: the centre server (default: $HOSHO_SERVER)")
    common.add_argument("--ca-file", default=argparse.SUPPRESS, metavar="FILE",
                        help="centre mode: the CA certificate the server's is signed by")
    parser = argparse.ArgumentParser(prog="hosho", parents=[common],
                                     description="Hoshō Desk 補償デスク")
    parser.add_argument("--demo", action="store_true",
                        help="open the window on the demo programme (created on first use)")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", parents=[common], help="build the demo programme")
    demo.add_argument("--victims", type=int, default=808)
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(handler=cmd_demo)
    stats = sub.add_parser("stats", parents=[common], help="programme figures")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=cmd_stats)
    db = sub.add_parser("db", help="database maintenance").add_subparsers(dest="db_command",
                                                                         required=True)
    db.add_parser("upgrade", parents=[common], help="upgrade the schema (backs up SQLite)"
                  ).set_defaults(handler=cmd_db_upgrade)
    from app.commands.server import add_db_roles

    add_db_roles(db, common)
    from app.commands import db as db_commands

    db_commands.register(db, common)
    _add_operator_commands(sub, common)
    imp = sub.add_parser("import-csv", parents=[common], help="import a reported-incident file")
    imp.add_argument("path")
    imp.add_argument("--map", action="append", metavar="COLUMN=field",
                     help="map a column to a field (or to 'ignore'); may repeat")
    imp.add_argument("--dry-run", action="store_true", help="report the figures, write nothing")
    imp.add_argument("--errors", metavar="OUT.csv", help="write the refused rows here")
    imp.add_argument("--json", action="store_true")
    imp.set_defaults(handler=cmd_import_csv)
    # Late import: the areas' modules (app.commands) register their own subcommands.
    from app.commands import register_all

    register_all(sub, common)
    return parser


def _add_operator_commands(sub, common: argparse.ArgumentParser) -> None:
    ops = sub.add_parser("operator", help="operator accounts").add_subparsers(
        dest="operator_command", required=True)
    add = ops.add_parser("add", parents=[common], help="add an operator")
    add.add_argument("login")
    add.add_argument("--role", choices=[r.value for r in Role], required=True)
    add.add_argument("--name", help="display name")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input")
    add.add_argument("--must-change", action="store_true",
                     help="require a new password at first sign-in")
    add_code_option(add, "at a centre: the signed-in administrator's")
    add.set_defaults(handler=cmd_operator_add)
    listing = ops.add_parser("list", parents=[common], help="list operators")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=cmd_operator_list)
    reset = ops.add_parser("reset-password", parents=[common],
                           help="set a one-time password; a new one is required at sign-in")
    reset.add_argument("login")
    reset.add_argument("--password-stdin", action="store_true",
                       help="read the one-time password from standard input "
                            "(otherwise one is generated and printed)")
    add_code_option(reset, "at a centre: the signed-in administrator's")
    reset.set_defaults(handler=cmd_operator_reset_password)
    totp = ops.add_parser("reset-second-factor", parents=[common],
                          help="clear a lost authenticator; it is set up again at sign-in")
    totp.add_argument("login")
    add_code_option(totp, "at a centre: the signed-in administrator's")
    totp.set_defaults(handler=cmd_operator_reset_second_factor)


def _remove_unused_databases() -> None:
    """Remove the SQLite files this run created, unless something was written to them
    (every change writes an audit event; an upgraded empty schema is not a database)."""
    while created_databases:
        db = created_databases.pop()
        path = db.path
        db.dispose()
        if path is None or not path.exists():
            continue
        with contextlib.closing(sqlite3.connect(path)) as conn:
            try:
                used = conn.execute("SELECT EXISTS (SELECT 1 FROM audit_event)").fetchone()[0]
            except sqlite3.Error:  # no schema yet
                used = False
        if not used:
            for leftover in (path, *(path.with_name(path.name + s)
                                     for s in ("-wal", "-shm", "-journal"))):
                leftover.unlink(missing_ok=True)


def run(argv: list[str], gui: Callable[[argparse.Namespace], int]) -> int:
    try:
        code = _run(argv, gui)
    except BaseException:
        _remove_unused_databases()
        raise
    if code not in (0, None):
        _remove_unused_databases()
    created_databases.clear()
    return code


def _run(argv: list[str], gui: Callable[[argparse.Namespace], int]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "db"):
        args.db = None
    handler = getattr(args, "handler", None)
    try:
        if handler and at_centre(args):
            # Every other subcommand runs through the centre's gateway (desk_of).
            refuse_local_only(args)
            refuse_as(args)
            if args.db:
                raise UserError("センターモード（--server）では --db は使えません。データベースは"
                                "サーバーだけが持ちます。",
                                "--db is refused in centre mode (--server): the server alone "
                                "holds the database.")
        return handler(args) if handler else gui(args)
    except HoshoError as exc:
        print(f"hosho: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UserError) else 3
    except OperationalError as exc:
        if exc.statement is not None:
            raise  # a statement the database refused: a bug, not the environment
        # connecting failed (the server unreachable, the file unreadable)
        print(f"hosho: {environment_problem(exc)}", file=sys.stderr)
        return 3
    except OSError as exc:  # a file named on the command line that cannot be read or written
        where = exc.filename or ""
        print(f"hosho: ファイルを開けません / cannot open file: {where} ({exc.strerror})",
              file=sys.stderr)
        return 2
