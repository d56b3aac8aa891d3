"""`hosho refunds import-balances / import-applications` and `hosho stats` as an
administrator runs them: real processes, real files."""

from __future__ import annotations

import json

from app.storage import migrate
from app.storage.db import Database
from tests.cli.test_command import hosho
from tests.services.refund_helpers import (
    APPLICATION_HEADER,
    BALANCE_HEADER,
    application,
    member,
    write_csv,
)


def test_imports_json_then_stats(tmp_path):
    db = str(tmp_path / "r.sqlite3")
    migrate.upgrade(Database(db))
    balances = write_csv(tmp_path / "b.csv", BALANCE_HEADER,
                         [member("M1", 5000), member("M2", 0), member("M3", "x")], "cp932")
    dry = hosho("refunds", "import-balances", str(balances), "--dry-run", "--json", "--db", db)
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["accepted"] == 2
    done = json.loads(hosho("refunds", "import-balances", str(balances), "--json",
                            "--db", db).stdout)
    assert {k: done[k] for k in ("read", "accepted", "duplicate", "conflict", "rejected")} == \
        {"read": 3, "accepted": 2, "duplicate": 0, "conflict": 0, "rejected": 1}
    apps = write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("A1", "M1"), application("A2", "M2"), application("A3", "M1", route="Web")])
    shown = hosho("refunds", "import-applications", str(apps), "--json", "--db", db)
    result = json.loads(shown.stdout)
    assert result["accepted"] == 3
    assert result["states"]["confirmed"] == 1
    assert result["states"]["refused_no_balance"] == 1
    assert result["states"]["duplicate"] == 1
    figures = json.loads(hosho("stats", "--json", "--db", db).stdout)["refunds"]
    assert figures["members"] == 2 and figures["balance_total"] == 5000
    assert figures["applications"] == 3 and figures["refundable_total"] == 5000
    assert figures["refunded_total"] == 0
    assert figures["states"]["paid"] == 0 and figures["states"]["refused"] == 0


def test_a_refused_file_is_one_bilingual_line(tmp_path):
    db = str(tmp_path / "r.sqlite3")
    migrate.upgrade(Database(db))
    bad = write_csv(tmp_path / "bad.csv", ["会員ID"], [["M1"]])
    shown = hosho("refunds", "import-balances", str(bad), "--db", db)
    assert shown.returncode == 2
    assert "残高" in shown.stderr and "balance" in shown.stderr
