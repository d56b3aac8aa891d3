"""Live desks: a change at one desk is pushed by the server to the others."""

from __future__ import annotations

import threading

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
    assert seen[0] == {"service": "cases.add_note", "case_id": case.id}


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
        assert seen[0] == {"service": "cases.add_note", "case_id": case.id}
        here.close()
        there.close()
    other_ctx.db.dispose()
