"""`hosho --server URL login|logout|…`: the command line signs in at the server and
runs as that operator; no --as, no database URL."""

from __future__ import annotations

import io
import os
import stat

import pytest

from app.cli import run
from app.commands.server import token_file
from app.services import payouts
from tests.conftest import PASSWORD, approval, step_up_code
from tests.services.helpers import BANK, incident, victim


def hosho(*argv: str, stdin: str = "") -> int:
    import sys

    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        return run(list(argv), gui=lambda _args: 99)
    finally:
        sys.stdin = old


def login(ctx, server, staff, who: str) -> int:
    return hosho("--server", server, "login", who, "--password-stdin",
                 "--code", step_up_code(ctx, staff[who]), stdin=PASSWORD + "\n")


def approved_case(ctx, staff) -> None:
    from app.domain.states import Status
    from app.services import cases, intake
    from app.services.cases import MoveRequest
    from app.services.payout_details import set_payout_details

    case = intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], case.id, BANK)
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    cases.move_case(ctx, staff["op1"], case.id,
                    MoveRequest(Status.VERIFIED, verified_amount=30_000))
    cases.move_case(ctx, staff["sv1"], case.id, approval(ctx, staff, "sv1"))


def test_login_stores_a_token_only_the_user_reads(ctx, server, staff, capsys):
    assert login(ctx, server, staff, "sv1") == 0
    assert "sv1" in capsys.readouterr().out
    assert stat.S_IMODE(os.stat(token_file()).st_mode) == 0o600
    assert hosho("--server", server, "logout") == 0
    assert hosho("--server", server, "operator", "list") == 2  # signed out: refused


def test_as_is_refused_in_centre_mode(ctx, server, staff, capsys):
    login(ctx, server, staff, "sv1")
    assert hosho("--server", server, "payouts", "batch", "--as", "sv2") == 2
    assert "--as is refused" in capsys.readouterr().err


def test_two_supervisors_need_two_sign_ins(ctx, server, staff, capsys):
    approved_case(ctx, staff)
    login(ctx, server, staff, "sv1")
    assert hosho("--server", server, "payouts", "batch", "--json") == 0
    batch = payouts.list_batches(ctx)[0]
    code = step_up_code(ctx, staff["sv1"])
    # The builder cannot release its own batch, code or not.
    assert hosho("--server", server, "payouts", "release", str(batch.id), "--code", code) == 2
    assert payouts.get_batch(ctx, batch.id).status == batch.status
    login(ctx, server, staff, "sv2")
    code = step_up_code(ctx, staff["sv2"])
    assert hosho("--server", server, "payouts", "release", str(batch.id), "--code", code) == 0
    released = payouts.get_batch(ctx, batch.id)
    assert released.released_by == "sv2" and released.built_by == "sv1"


def test_operator_list_is_for_administrators(ctx, server, staff, capsys):
    hosho("--server", server, "login", "op1", "--password-stdin",
          "--code", step_up_code(ctx, staff["op1"]), stdin=PASSWORD + "\n")
    assert hosho("--server", server, "operator", "list") == 2
    assert "Only" in capsys.readouterr().err


def test_commands_that_open_a_database_are_refused(ctx, server, staff, capsys):
    login(ctx, server, staff, "sv1")
    assert hosho("--server", server, "db", "upgrade") == 2
    assert "refused in centre mode" in capsys.readouterr().err
    assert hosho("--server", server, "stats") == 0  # the others run at the centre


@pytest.mark.parametrize("listen", ["0.0.0.0:8443", "192.0.2.1:8443"])
def test_serve_refuses_plain_http_off_loopback(listen, capsys):
    assert hosho("serve", "--listen", listen) == 2
    assert "needs TLS" in capsys.readouterr().err
