"""The command line's one operation model: every subcommand reaches the services through
a gateway (app.services.gateway), as the window does.

``desk_of(args)`` is that gateway. With ``--server URL`` (or $HOSHO_SERVER) it is the
signed-in session at the centre (app.remote.gateway.RemoteGateway; the operator is the
one signed in with ``hosho --server URL login``, ``--as`` names nobody there). Without
it, the services run here on the database named by ``--db`` (an InProcessGateway) as
the system, or, where a command needs a supervisor (four eyes), as the supervisor
``--as LOGIN`` names. A handler is thus the same code locally and at a centre; files
named on the command line go as FileIn / FileOut, so they stay on the desk's disk
(uploaded to the server, and downloaded from it).

A few subcommands open a database (or a key) by nature and have no place at a centre:
``LOCAL_ONLY``, refused with ``--server``.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from app.core.errors import UserError
from app.remote.where import server_of

# Subcommands that open a database (or make a key) themselves: refused with --server.
LOCAL_ONLY = frozenset({
    "demo", "serve", "db upgrade", "db backup", "db restore", "db roles", "db seal-secrets",
    "audit keygen",
})


def command_name(args: argparse.Namespace) -> str:
    """"payouts release" for ``hosho payouts release 3``: the subcommand's words."""
    top = getattr(args, "command", None)
    if not top:
        return ""
    below = getattr(args, f"{top.replace('-', '_')}_command", None)
    return f"{top} {below}" if below else top


def refuse_as(args: argparse.Namespace) -> None:
    if getattr(args, "as_login", None):
        raise UserError("センターモード（--server）では --as は使えません。サインインした操作者"
                        "として実行されます（`hosho --server URL login`）。",
                        "--as is refused in centre mode (--server): commands run as the "
                        "operator signed in with `hosho --server URL login`.")


def refuse_local_only(args: argparse.Namespace) -> None:
    name = command_name(args)
    if name in LOCAL_ONLY:
        raise UserError(f"`hosho {name}` はデータベース（または鍵）を直接扱うため、センター"
                        "モード（--server）では使えません。サーバーの機械で --server なしで"
                        "実行してください。",
                        f"`hosho {name}` works on a database (or a key) itself and is refused "
                        "in centre mode (--server): run it without --server where the "
                        "database is.")


def at_centre(args: argparse.Namespace) -> bool:
    return bool(server_of(args))


def desk_of(args: argparse.Namespace, *, supervisor: bool = False, create: bool = False):
    """The gateway this subcommand calls the services through (see the module's text).
    ``supervisor``: locally, the command acts as the supervisor ``--as`` names;
    ``create``: locally, the database may be created (``operator add``)."""
    if at_centre(args):
        from app.commands.server import remote

        refuse_as(args)
        return Patient(remote(args))
    from app.domain.roles import SYSTEM_ACTOR
    from app.services.gateway import InProcessGateway
    from app.services.opening import open_context

    ctx = open_context(getattr(args, "db", None), create=create)
    actor = SYSTEM_ACTOR
    if supervisor:
        from app.services.payouts import supervisor_by_login

        if not getattr(args, "as_login", None):
            raise UserError("--as でスーパーバイザーのログイン名を指定してください。",
                            "Name the supervisor with --as LOGIN.")
        actor = supervisor_by_login(ctx, args.as_login)
    return InProcessGateway(ctx, actor)


class Patient:
    """A centre's gateway whose every call runs as a job (app.server.jobs): the server
    streams progress and keeps the connection alive, so a long import, letter batch or
    export is not cut off by the read timeout; an interrupted command (Ctrl-C) drops
    the connection, which cancels the job (the services are all or nothing)."""

    def __init__(self, gateway) -> None:
        self.gateway = gateway

    def read(self, service, *args, watch=None, **kwargs):
        from app.services.progress import Watch

        return self.gateway.read(service, *args, watch=watch or Watch(), **kwargs)

    def write(self, service, *args, watch=None, **kwargs):
        from app.services.progress import Watch

        return self.gateway.write(service, *args, watch=watch or Watch(), **kwargs)

    def __getattr__(self, name: str):
        return getattr(self.gateway, name)


def step_up_code(args: argparse.Namespace, desk) -> str | None:
    """A fresh authenticator code: --code, or asked at a terminal. The system (the
    command line on its own database) needs none; with neither, the service refuses
    (after its other checks, so that a four-eyes refusal is said first)."""
    code = getattr(args, "code", None)
    if code:
        return code
    actor = getattr(desk, "actor", None)
    if actor is not None and actor.is_system:
        return None
    if not sys.stdin.isatty():
        return None
    return getpass.getpass("認証アプリの確認コード / authenticator code: ")


def add_code_option(parser: argparse.ArgumentParser, who: str = "your") -> None:
    parser.add_argument("--code", metavar="CODE",
                        help=f"{who} authenticator code, a fresh one (asked at a terminal if "
                             "absent; not needed on a local database)")
