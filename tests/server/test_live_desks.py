"""Live desks: a change at one desk is pushed by the server to the others."""

from __future__ import annotations

import json
import threading
import time

import pytest

from app.services import cases, intake, settings
from tests.services.helpers import incident, victim


def watching(desk) -> tuple[list, threading.Event]:
    seen: list[dict] = []
    arrived = threading.Event()

    def on_change(event: dict) -> None:
        seen.append(event)
        arrived.set()

    desk.watch(on_change)
    return seen, arrived




def test_a_change_at_one_desk_reaches_another(desks):
    first, second = desks("op1"), desks("op2")
    seen, arrived = watching(second)
    case = None
    for _ in range(20):  # the stream opens asynchronously: retry the first change
        case = first.write(intake.take_phone_intake, victim(), incident())
        if arrived.wait(0.5):
            break
    assert seen, "no change event arrived"
    seen.clear()
    arrived.clear()
    first.write(cases.add_note, case.id, "折り返し希望")
    assert arrived.wait(10)
    assert seen[0]["service"] == "cases.add_note" and seen[0]["case_id"] == case.id
    # What the write changed, as the writing desk was told: the second desk refreshes
    # from it as from its own writes; no personal data, and not who wrote it.
    assert seen[0]["changed"] == first.changed.as_dict()
    assert set(seen[0]) == {"service", "case_id", "changed"}


def test_a_desk_is_not_sent_its_own_changes(desks):
    first, second = desks("op1"), desks("op2")
    mine, mine_arrived = watching(first)
    case = first.write(intake.take_phone_intake, victim(), incident())
    for _ in range(20):  # until the first desk's stream is open
        second.write(cases.add_note, case.id, "marker")
        if mine_arrived.wait(0.5):
            break
    mine.clear()
    mine_arrived.clear()
    first.write(cases.add_note, case.id, "自分の変更")  # its own: not sent back
    second.write(intake.take_phone_intake, victim(), incident())  # a marker after it
    assert mine_arrived.wait(10)
    time.sleep(0.2)
    assert [e["service"] for e in mine] == ["intake.take_phone_intake"]


def test_a_big_change_is_announced_in_payloads_postgresql_takes():
    from app.server.changes import PAYLOAD_LIMIT, event_of, payloads
    from app.services.changes import Changed

    changed = Changed(cases=frozenset(range(1, 20_001)), victims=frozenset(range(5, 9)),
                      settings=True)
    parts = [json.loads(p) for p in payloads(event_of("x.y", {}, None, changed, 7))]
    assert len(parts) > 1
    assert all(len(json.dumps(p)) < PAYLOAD_LIMIT for p in parts)
    got = Changed()
    for part in parts:
        assert part["origin"] == 7 and part["changed"]["settings"] is True
        got = got | Changed.from_dict(part["changed"])
    assert got == changed


def test_reads_send_no_event(desks):
    first, second = desks("op1"), desks("op2")
    seen, arrived = watching(second)
    for _ in range(20):
        first.write(intake.take_phone_intake, victim(), incident())
        if arrived.wait(0.5):
            break
    seen.clear()
    arrived.clear()
    first.read(settings.get)
    first.write(cases.get_case, 1)
    first.write(cases.add_note, 1, "x")  # a marker: events keep their order
    assert arrived.wait(10)
    assert [e["service"] for e in seen] == ["cases.add_note"]


@pytest.mark.parametrize("ended", ["signed_out"])
def test_no_stream_without_a_session(server, ended):
    import httpx

    with httpx.Client(base_url=server) as client:
        assert client.get("/events").status_code == 401


def test_two_server_processes_share_changes(ctx, server, staff, db):
    """Two servers on one PostgreSQL database: a change through one reaches a desk of
    the other (LISTEN/NOTIFY). On SQLite a centre runs one server."""
    from app.services.context import AppContext
    from app.storage.db import Database
    from tests.server.conftest import running_server, sign_in

    if db.engine.dialect.name != "postgresql":
        pytest.skip("several server processes are PostgreSQL's")
    other_ctx = AppContext(db=Database(db.url), clock=ctx.clock)
    with running_server(other_ctx) as other_url:
        here, there = sign_in(ctx, server, staff, "op1"), sign_in(ctx, other_url, staff, "op2")
        seen, arrived = watching(there)
        for _ in range(20):
            case = here.write(intake.take_phone_intake, victim(), incident())
            if arrived.wait(0.5):
                break
        assert seen and seen[-1]["service"] == "intake.take_phone_intake"
        seen.clear()
        arrived.clear()
        here.write(cases.add_note, case.id, "別のサーバーへ")
        assert arrived.wait(10)
        assert seen[0]["service"] == "cases.add_note" and seen[0]["case_id"] == case.id
        here.close()
        there.close()
    other_ctx.db.dispose()


@pytest.mark.slow
def test_two_server_processes_share_changes_through_postgresql(ctx, server, staff, db):
    """The same with a second server that is a process of its own (``hosho serve``):
    desk A at this test's server (process 1), desk B at the other (process 2)."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    import httpx

    from app.domain.roles import SYSTEM_ACTOR, Role
    from app.services import operators
    from tests.conftest import PASSWORD
    from tests.server.conftest import Values, free_port, sign_in

    if db.engine.dialect.name != "postgresql":
        pytest.skip("several server processes are PostgreSQL's")
    # The other process keeps real time, not the test's clock: there an operator without
    # an authenticator signs in with the password alone.
    settings.change_many(ctx, SYSTEM_ACTOR, {"operator_second_factor": "relaxed"})
    operators.add_operator(ctx, SYSTEM_ACTOR, "op9", "OP9", Role.OPERATOR, PASSWORD)
    port = free_port()
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen([sys.executable, "-m", "app.main", "serve", "--db", db.url,
                                "--listen", f"127.0.0.1:{port}"],
                               env=dict(os.environ, PYTHONPATH=str(root)),
                               stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):  # waiting for start-up, not measuring it
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        here = sign_in(ctx, server, staff, "op1")
        from app.remote.gateway import RemoteGateway

        there = Values(RemoteGateway(f"http://127.0.0.1:{port}"))
        there.sign_in("op9", PASSWORD)
        assert there.stage == "active"
        seen, arrived = watching(there)
        for _ in range(20):
            case = here.write(intake.take_phone_intake, victim(), incident())
            if arrived.wait(0.5):
                break
        assert seen, "no change reached the other process's desk"
        seen.clear()
        arrived.clear()
        here.write(cases.add_note, case.id, "別のプロセスへ")
        assert arrived.wait(10)
        assert seen[0]["service"] == "cases.add_note" and seen[0]["case_id"] == case.id
        assert case.id in seen[0]["changed"]["cases"]
        # And back: B's change at process 2 reaches A at process 1.
        back, heard = watching(here)
        for _ in range(20):
            there.write(cases.add_note, case.id, "折り返し")
            if heard.wait(0.5):
                break
        assert back and back[-1]["service"] == "cases.add_note"
        here.close()
        there.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(60)
