"""Two desks saving the same record at once, each on its own connection: exactly one
wins, the other is refused with a conflict and nothing of its save is written.

The race is forced, not hoped for. Each desk is held inside its transaction just
before it writes the row (every read it bases the save on is done). The first
desk is let go only once the second has got that far too, or is seen waiting
for the first: on PostgreSQL blocked by the first's locks (pg_blocking_pids), on
SQLite its BEGIN IMMEDIATE, which cannot succeed while the first desk's write
transaction is open. A second desk that got to its write goes on only after the
first has committed: the interleaving that loses an update when nothing stops it.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, select, text

from app.core.errors import ConflictError
from app.domain.roles import SYSTEM_ACTOR, Actor
from app.domain.states import Status
from app.services import cases, intake, operators, settings, victims
from app.services.cases import MoveRequest
from app.services.payout_details import set_payout_details
from app.storage.db import Database
from app.storage.models import AuditEvent, PayoutDetail, Victim
from tests.services.helpers import BANK, OTHER_BANK, incident, victim

GUARD_S = 60  # only against a hang: a race that works never comes near it
CONFLICT = "他の操作者が先に更新しました"


@dataclass
class Outcome:
    value: object = None
    error: BaseException | None = None


@dataclass
class Race:
    """Run ``first`` and ``second`` (each a service call) in that forced interleaving."""

    db: Database
    table: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The write that saves: an UPDATE or INSERT of the row (an INSERT ... ON CONFLICT
        # DO NOTHING only makes sure a row exists to lock).
        self.writes = re.compile(rf'^\s*(UPDATE|INSERT\s+INTO)\s+"?{self.table}"?\s'
                                 r'(?!.*ON CONFLICT)', re.S | re.I)
        self.roles: dict[int, str] = {}
        self.at_write = {"first": threading.Event(), "second": threading.Event()}
        self.began = threading.Event()
        self.go = threading.Event()
        self.first_done = threading.Event()
        self.how: str | None = None  # how the second desk met the first

    # -- the hook inside the desks' transactions ----------------------------------
    def _before(self, _conn, _cursor, statement, *_args) -> None:
        role = self.roles.get(threading.get_ident())
        if role == "second" and statement.startswith("BEGIN"):
            self.began.set()
        if role is None or self.at_write[role].is_set() or not self.writes.match(statement):
            return
        self.at_write[role].set()
        _wait(self.go if role == "first" else self.first_done, f"{role} desk released")

    def _desk(self, role: str, call: Callable[[], object]) -> None:
        self.roles[threading.get_ident()] = role
        try:
            self.outcomes[role] = Outcome(value=call())
        except BaseException as exc:  # judged by the test
            self.outcomes[role] = Outcome(error=exc)
        finally:
            if role == "first":
                self.first_done.set()

    def _second_waits(self) -> bool:
        if self.db.is_sqlite:
            return self.began.is_set()
        # Only the two desks use this database, and the first is held in Python: a
        # backend blocked by another one is the second, stuck behind the first's locks.
        with self.db.engine.connect() as conn:
            return bool(conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND cardinality(pg_blocking_pids(pid)) > 0")).scalar())

    def _second_in_the_race(self) -> bool:
        if self.at_write["second"].is_set():
            self.how = "got to its write"
        elif self._second_waits():
            self.how = "waited"
        elif "second" in self.outcomes:
            self.how = "ended first"  # refused for another reason: no race happened
        return self.how is not None

    def run(self, first: Callable[[], object], second: Callable[[], object]) -> None:
        event.listen(self.db.engine, "before_cursor_execute", self._before)
        try:
            one = threading.Thread(target=self._desk, args=("first", first))
            two = threading.Thread(target=self._desk, args=("second", second))
            one.start()
            _wait(self.at_write["first"], "first desk got to its write", alive=one)
            two.start()
            _until(self._second_in_the_race, "second desk got to its write or waits")
            self.go.set()
            one.join(GUARD_S)
            two.join(GUARD_S)
            assert not one.is_alive() and not two.is_alive(), "a desk hung"
        finally:
            self.go.set()
            event.remove(self.db.engine, "before_cursor_execute", self._before)

    # -- the verdict --------------------------------------------------------------
    def winner(self) -> object:
        """Exactly one desk saved (the first); the other was refused as a conflict."""
        assert self.how in ("got to its write", "waited"), f"no race: the second desk {self.how}"
        first, second = self.outcomes["first"], self.outcomes["second"]
        assert first.error is None, f"the first desk failed: {first.error!r}"
        assert isinstance(second.error, ConflictError), (
            f"the second desk was not refused: {second.error or second.value!r}")
        assert CONFLICT in second.error.ja and "Another operator" in second.error.en
        return first.value


def _wait(flag: threading.Event, what: str, alive: threading.Thread | None = None) -> None:
    _until(lambda: flag.is_set() or (alive is not None and not alive.is_alive()), what)


def _until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + GUARD_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the race never reached: {what}")
        time.sleep(0.01)


def events(ctx, action: str, entity_id: int | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action)
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == entity_id)
    with ctx.db.read() as session:
        return list(session.execute(query.order_by(AuditEvent.id)).scalars())


def open_case(ctx, staff):
    return intake.take_phone_intake(ctx, staff["op1"], victim(), incident())


# -- the victim record ----------------------------------------------------------------
def test_two_desks_saving_the_same_victim(ctx, staff):
    case = open_case(ctx, staff)
    seen = case.victim  # what both windows show
    race = Race(ctx.db, "victim")

    def save(actor: Actor, address: str):
        return lambda: victims.update_victim(ctx, actor, seen.id, victim(address=address),
                                             seen.version)

    race.run(save(staff["op1"], "東京都港区芝公園4丁目2番8号"),
             save(staff["op2"], "大阪府大阪市北区梅田1丁目1番1号"))
    won = race.winner()
    assert won.version == seen.version + 1
    with ctx.db.read() as session:
        stored = session.get(Victim, seen.id)
        assert (stored.address, stored.version) == ("東京都港区芝公園4丁目2番8号", won.version)
    assert len(events(ctx, "victim.update", seen.id)) == 1


# -- the case's moves -----------------------------------------------------------------
def test_two_desks_moving_the_same_case(ctx, staff):
    case = open_case(ctx, staff)
    race = Race(ctx.db, "case_file")
    race.run(
        lambda: cases.move_case(ctx, staff["op1"], case.id,
                                MoveRequest(Status.CONTACTED, expected_version=case.version)),
        lambda: cases.move_case(ctx, staff["op2"], case.id,
                                MoveRequest(Status.ON_HOLD, reason="本人不在",
                                            expected_version=case.version)))
    won = race.winner()
    fresh = cases.get_case(ctx, staff["op2"], case.id)
    assert (fresh.status, fresh.version) == (Status.CONTACTED, won.version)
    assert [e.action for e in events(ctx, "case.contact") + events(ctx, "case.hold")] \
        == ["case.contact"]


# -- payout details -------------------------------------------------------------------
def test_two_desks_saving_payout_details_of_the_same_case(ctx, staff):
    case = open_case(ctx, staff)
    race = Race(ctx.db, "case_file")

    def save(actor: Actor, details):
        return lambda: set_payout_details(ctx, actor, case.id, details,
                                          expected_version=case.version)

    race.run(save(staff["op1"], BANK), save(staff["op2"], OTHER_BANK))
    won = race.winner()
    with ctx.db.read() as session:
        stored = session.get(PayoutDetail, case.id)
        assert (stored.bank_code, stored.account_number) == ("0001", "1234567")
    assert won.version == case.version + 1
    assert len(events(ctx, "payout.set")) == 1


# -- settings -------------------------------------------------------------------------
def _setting_events(ctx, key: str) -> list[tuple]:
    return [(json.loads(e.before)[key], json.loads(e.after)[key])
            for e in events(ctx, "setting.change") if key in json.loads(e.after)]


@pytest.mark.parametrize("stored_before", [False, True], ids=["default", "stored"])
def test_two_administrators_saving_the_same_setting(ctx, staff, stored_before):
    admin2 = operators.add_operator(ctx, SYSTEM_ACTOR, "admin2", "ADMIN2",
                                    staff["admin1"].role, "another long passphrase").as_actor()
    if stored_before:
        settings.change(ctx, SYSTEM_ACTOR, "hotline", "0120-000-001")
    seen = settings.get(ctx).to_json_dict()  # what both pages show
    race = Race(ctx.db, "setting")

    def save(actor: Actor, hotline: str):
        return lambda: settings.change_many(ctx, actor, {"hotline": hotline},
                                            expected={"hotline": seen["hotline"]})

    race.run(save(staff["admin1"], "0120-111-111"), save(admin2, "0120-222-222"))
    won = race.winner()
    assert won.hotline == settings.get(ctx).hotline == "0120-111-111"
    assert _setting_events(ctx, "hotline")[-1] == (seen["hotline"], "0120-111-111")
    assert len(_setting_events(ctx, "hotline")) == 1 + stored_before


def test_a_save_from_a_stale_settings_page_is_refused(ctx, staff):
    seen = settings.get(ctx).to_json_dict()
    settings.change_many(ctx, staff["admin1"], {"hotline": "0120-111-111"},
                         expected={"hotline": seen["hotline"]})
    with pytest.raises(ConflictError) as refused:
        settings.change_many(ctx, staff["admin1"],
                             {"hotline": "0120-222-222", "queue_hold_minutes": 30},
                             expected={"hotline": seen["hotline"], "queue_hold_minutes": 15})
    assert CONFLICT in refused.value.ja and refused.value.keys == ("hotline",)
    now = settings.get(ctx)
    assert (now.hotline, now.queue_hold_minutes) == ("0120-111-111", 15)  # nothing half written
    assert _setting_events(ctx, "hotline") == [(seen["hotline"], "0120-111-111")]


def test_a_setting_changed_elsewhere_does_not_block_other_keys(ctx, staff):
    seen = settings.get(ctx).to_json_dict()
    settings.change_many(ctx, staff["admin1"], {"hotline": "0120-111-111"},
                         expected={"hotline": seen["hotline"]})
    # The stale page changes another key only: nothing it did not see is overwritten.
    done = settings.change_many(ctx, staff["admin1"], {"queue_hold_minutes": 30},
                                expected={"queue_hold_minutes": seen["queue_hold_minutes"]})
    assert (done.hotline, done.queue_hold_minutes) == ("0120-111-111", 30)


def test_the_command_line_sets_a_value_without_an_expectation(ctx):
    settings.change(ctx, SYSTEM_ACTOR, "hotline", "0120-111-111")
    settings.change(ctx, SYSTEM_ACTOR, "hotline", "0120-222-222")
    assert _setting_events(ctx, "hotline") == [("0120-192-044", "0120-111-111"),
                                               ("0120-111-111", "0120-222-222")]


# -- an incident added by phone while the case is being verified ------------------------
def test_an_incident_added_while_the_case_is_verified(ctx, staff):
    """The intake takes no expected version, but it changes the case: it must not slip
    a larger claim under a verification (nor reuse its version number)."""
    case = open_case(ctx, staff)
    cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], case.id, BANK)
    ready = cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    race = Race(ctx.db, "case_file")
    race.run(
        lambda: cases.move_case(ctx, staff["op1"], case.id, MoveRequest(
            Status.VERIFIED, verified_amount=30_000, expected_version=ready.version)),
        lambda: intake.take_phone_intake(ctx, staff["op2"], victim(), incident(amount=5_000),
                                         existing_victim_id=case.victim.id))
    assert race.how in ("got to its write", "waited")
    verified, added = race.outcomes["first"], race.outcomes["second"]
    assert verified.error is None
    assert "確認済以降" in getattr(added.error, "ja", ""), added.error or added.value
    fresh = cases.get_case(ctx, staff["op1"], case.id)
    assert (fresh.status, fresh.claimed_amount, fresh.verified_amount) == (
        Status.VERIFIED, 30_000, 30_000)
    assert fresh.version == ready.version + 1
    assert len(events(ctx, "incident.add")) == 1  # the first call's only
