"""`hosho queue`, `hosho dashboard` and `hosho settings` as an administrator uses them."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_command import hosho


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = str(tmp_path_factory.mktemp("cli") / "demo.sqlite3")
    made = hosho("demo", "--victims", "120", "--db", db)
    assert made.returncode == 0, made.stderr
    return db


def test_queue_lists_promised_channels_first(demo_db):
    shown = hosho("queue", "--json", "--limit", "500", "--db", demo_db)
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert rows, "the demo has received cases waiting for guidance"
    promised = [r["channel"] in ("nanaco_charge", "unauthorized_use") for r in rows]
    assert promised == sorted(promised, reverse=True)
    dates = [r["contact_received_at"] for r in rows if r["call_back_at"] is None
             and r["channel"] in ("nanaco_charge", "unauthorized_use")]
    assert dates == sorted(dates)
    limited = json.loads(hosho("queue", "--json", "--limit", "3", "--db", demo_db).stdout)
    assert limited == rows[:3]


def test_dashboard_json_matches_stats(demo_db):
    board = json.loads(hosho("dashboard", "--json", "--db", demo_db).stdout)
    stats = json.loads(hosho("stats", "--json", "--db", demo_db).stdout)
    assert board["victims"] == stats["victims"] == 120
    assert board["totals"]["claimed"] == stats["claimed_total"]
    assert board["totals"]["paid"] == stats["paid_total"]
    assert board["public_victims"] == 808
    assert board["victims_difference"] == 120 - 808


def test_dashboard_csv_and_pdf(demo_db, tmp_path):
    csv_path, pdf_path = tmp_path / "f.csv", tmp_path / "r.pdf"
    done = hosho("dashboard", "--db", demo_db, "--csv", str(csv_path), "--pdf", str(pdf_path))
    assert done.returncode == 0, done.stderr
    assert "programme,public_victims,808" in csv_path.read_text(encoding="utf-8-sig")
    assert pdf_path.read_bytes().startswith(b"%PDF")


def test_settings_get_set_and_refusal(demo_db):
    assert hosho("settings", "get", "queue_hold_minutes", "--db", demo_db).stdout.strip() == (
        "queue_hold_minutes = 15")
    changed = hosho("settings", "set", "queue_hold_minutes", "20", "--db", demo_db)
    assert changed.returncode == 0, changed.stderr
    values = json.loads(hosho("settings", "get", "--json", "--db", demo_db).stdout)
    assert values["queue_hold_minutes"] == 20
    assert values["outreach_start"] == "2019-08-19"
    bad = hosho("settings", "set", "queue_hold_minutes", "soon", "--db", demo_db)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    unknown = hosho("settings", "set", "colour", "blue", "--db", demo_db)
    assert unknown.returncode == 2 and "Unknown setting" in unknown.stderr


def test_unreachable_sweep_runs(demo_db):
    done = hosho("queue", "--sweep-unreachable", "--db", demo_db)
    assert done.returncode == 0, done.stderr
    assert "unreachable" in done.stdout
