"""One error boundary (issue #14): what the database refuses is sorted in one place.
A constraint someone else's data trips is a change made meanwhile (reload, retry), a
lost race too; a busy or full database is an environment problem saying what to do;
anything else is a bug, shown by its reference. No driver text, no values."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.core.errors import ChangedMeanwhile, EnvironmentProblem
from app.core.i18n import error_text, set_locale
from app.services import intake
from app.storage import db as storage
from app.storage.db import Database, database_refusal
from tests.conftest import database_refuses
from tests.services.helpers import incident, victim

_SECOND_CASE = (
    "INSERT INTO case_file (case_number, victim_id, channel, status, claimed_amount, "
    "created_at, updated_at, version) SELECT case_number, victim_id, 'nanaco_charge', "
    "status, 0, created_at, updated_at, 1 FROM case_file")


def test_a_constraint_is_a_change_made_meanwhile_naming_no_one(ctx, staff):
    intake.take_phone_intake(ctx, staff["op1"], victim(name="漏洩 花子"), incident())
    with database_refuses() as refused, ctx.db.write() as session:
        session.execute(text(_SECOND_CASE))  # the same case number twice
    set_locale("ja")
    shown = error_text(refused.value)
    assert "他の操作者が先に変更" in shown and "漏洩" not in shown
    assert "case_number" in refused.value.ja


def _victim(session, name: str, member: str) -> None:
    session.execute(text("UPDATE counter SET value = value + 1"))


class _Orig(Exception):
    def __init__(self, sqlstate: str, message: str = "") -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize("state", ["40001", "40P01"])
def test_a_lost_race_is_a_change_made_meanwhile(state):
    refusal = database_refusal(OperationalError("UPDATE ...", {}, _Orig(state)))
    assert isinstance(refusal, ChangedMeanwhile) and "もう一度" in refusal.ja


def test_a_full_disk_says_nothing_was_saved():
    refusal = database_refusal(OperationalError("INSERT ...", {}, sqlite3.OperationalError(
        "database or disk is full")))
    assert isinstance(refusal, EnvironmentProblem) and "何も保存されていません" in refusal.ja


def test_a_busy_database_says_to_try_again(tmp_path, sqlite_template, monkeypatch):
    monkeypatch.setattr(storage, "BUSY_TIMEOUT_MS", 200)
    path = tmp_path / "busy.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another desk in the middle of a write
    database = Database(str(path))
    try:
        with pytest.raises(EnvironmentProblem) as caught, database.write() as session:
            _victim(session, "山田 太郎", "7i0000000001")
        assert "使用中" in caught.value.ja and "try again" in caught.value.en
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        database.dispose()


def test_anything_else_is_a_bug_shown_by_its_reference():
    set_locale("ja")
    shown = error_text(KeyError("山田 太郎"))
    assert "参照番号" in shown and "KeyError" in shown and "山田" not in shown


def test_the_busy_check_runs_beside_a_writer_thread():
    """The boundary holds on the lane's thread as on the caller's (no thread-local state)."""
    results = []
    worker = threading.Thread(target=lambda: results.append(
        isinstance(database_refusal(OperationalError("x", {}, _Orig("40001"))),
                   ChangedMeanwhile)))
    worker.start()
    worker.join(timeout=30)
    assert results == [True]
