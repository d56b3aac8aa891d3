"""`hosho settings set` for the sender of the 総合振込 file, and `hosho payouts export`
with a sender stored before the checks: one clear line and exit 2, never exit 70."""

from __future__ import annotations

import json

import pytest

from app.services.context import AppContext
from app.storage.db import Database
from app.storage.models import Setting
from tests.cli.test_command import hosho
from tests.cli.test_payouts_commands import _demo


@pytest.fixture(scope="module")
def small_db(tmp_path_factory) -> str:
    db = str(tmp_path_factory.mktemp("zengin") / "small.sqlite3")
    assert hosho("demo", "--victims", "1", "--db", db).returncode == 0
    return db


@pytest.mark.parametrize("key, value, label", [
    ("zengin_company_code", "12345678901", "総合振込：委託者コード"),
    ("zengin_company_code", "ABCDEFGHIJ", "総合振込：委託者コード"),
    ("zengin_account_number", "12345678", "総合振込：口座番号"),
    ("zengin_account_type", "savings", "総合振込：預金種目"),
])  # every setting and width: tests/services/test_settings_admin.py
def test_a_sender_setting_out_of_the_layout_is_refused_in_one_line(small_db, key, value,
                                                                    label):
    db = small_db
    refused = hosho("settings", "set", key, value, "--db", db)
    assert refused.returncode == 2, refused.stderr
    assert label in refused.stderr and "Traceback" not in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    shown = json.loads(hosho("settings", "get", key, "--json", "--db", db).stdout)
    assert shown[key] != value


def test_the_help_says_which_line_ends_some_banks_refuse():
    shown = hosho("settings", "set", "--help")
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    assert "zengin_line_end" in text and "refused by some banks" in text
    assert "一部の銀行" in text


def test_an_export_with_a_sender_stored_past_the_checks_exits_2(tmp_path):
    db = _demo(tmp_path)
    database = Database(db)
    ctx = AppContext(database)
    with ctx.db.write() as session:
        row = session.get(Setting, "zengin_company_code")
        row.value = json.dumps("ABCDEFGHIJK")  # as a text editor on the database could
        session.add(row)
    database.dispose()
    built = json.loads(hosho("payouts", "batch", "--db", db, "--as", "sato", "--json").stdout)
    number = str(built["id"])
    from tests.cli.test_payouts_commands import _enrolled

    code = _enrolled(db, "kimura").now()
    released = hosho("payouts", "release", number, "--db", db, "--as", "kimura", "--code", code)
    assert released.returncode == 0, released.stderr
    out = tmp_path / "furikomi.txt"
    exported = hosho("payouts", "export", number, "--db", db, "--out", str(out))
    assert exported.returncode == 2, exported.stderr
    assert "総合振込：委託者コード" in exported.stderr and "Traceback" not in exported.stderr
    assert not out.exists()
    shown = hosho("settings", "get", "zengin_company_code", "--db", db)  # to be fixed
    assert shown.returncode == 0 and shown.stdout.strip() == "zengin_company_code = ABCDEFGHIJK"
