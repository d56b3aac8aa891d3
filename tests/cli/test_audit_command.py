"""`hosho audit verify` and `hosho audit export` on the 808-victim demo."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import time

import pytest

from tests.cli.test_command import hosho


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("audit") / "demo.sqlite3")
    made = hosho("demo", "--db", db)
    assert made.returncode == 0, made.stderr
    return db


def test_verify_says_intact_with_the_count(demo_db):
    started = time.perf_counter()
    shown = hosho("audit", "verify", "--json", "--db", demo_db)
    elapsed = time.perf_counter() - started
    assert shown.returncode == 0, shown.stdout + shown.stderr
    report = json.loads(shown.stdout)
    with sqlite3.connect(demo_db) as conn:
        events = conn.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    assert report["intact"] is True
    assert report["count"] == events > 808
    print(f"verify of {events:,} events, process included: {elapsed:.2f}s")
    plain = hosho("audit", "verify", "--db", demo_db)
    assert plain.returncode == 0 and f"{events:,}" in plain.stdout


def test_verify_fails_at_the_first_edited_event(demo_db, tmp_path):
    copy = tmp_path / "tampered.sqlite3"
    shutil.copy(demo_db, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TRIGGER audit_event_no_update")
        conn.execute("UPDATE audit_event SET actor_login = 'nobody' WHERE seq IN (500, 900)")
    shown = hosho("audit", "verify", "--db", str(copy))
    assert shown.returncode == 1
    assert "seq 500" in shown.stdout and "altered" in shown.stdout
    report = json.loads(hosho("audit", "verify", "--json", "--db", str(copy)).stdout)
    assert report["intact"] is False and report["broken_seq"] == 500 and report["count"] == 499


def test_export_one_case_as_csv_for_an_auditor(demo_db, tmp_path):
    with sqlite3.connect(demo_db) as conn:
        number, events = conn.execute(
            "SELECT c.case_number, count(*) FROM audit_event e JOIN case_file c "
            "ON c.id = e.case_id GROUP BY c.case_number ORDER BY count(*) DESC").fetchone()
        exports_before = conn.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'audit.export'").fetchone()[0]
    out = tmp_path / "trail.csv"
    shown = hosho("audit", "export", "--out", str(out), "--case", number, "--db", demo_db)
    assert shown.returncode == 0, shown.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][0] == "seq" and len(rows) == events + 1
    assert {r[6] for r in rows[1:]} == {number}
    with sqlite3.connect(demo_db) as conn:
        exports_after = conn.execute(
            "SELECT count(*) FROM audit_event WHERE action = 'audit.export'").fetchone()[0]
    assert exports_after == exports_before + 1
    assert hosho("audit", "verify", "--db", demo_db).returncode == 0


def test_export_refuses_a_bad_date(demo_db, tmp_path):
    shown = hosho("audit", "export", "--out", str(tmp_path / "x.csv"), "--from", "2019/08/01",
                  "--db", demo_db)
    assert shown.returncode != 0
    assert "YYYY-MM-DD" in shown.stderr + shown.stdout
