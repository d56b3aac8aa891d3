"""`hosho letters refund_*` as an administrator scripts it: the refund programme's
letters through the same batches, codes and mailing as the compensation letters."""

from __future__ import annotations

import json

from pypdf import PdfReader

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


def test_refund_letters_due_produced_found_and_mailed(tmp_path):
    from app.domain.roles import SYSTEM_ACTOR
    from app.services.context import AppContext
    from app.services.refunds_import import import_applications, import_balances

    db = str(tmp_path / "r.sqlite3")
    database = Database(db)
    migrate.upgrade(database)
    ctx = AppContext(database)  # the files imported in process: the letters by command
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, [
        member("M1", 12_345), member("M2", 0)]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("A1", "M1"), application("A2", "M2")]))
    database.dispose()
    due = hosho("letters", "due", "--json", "--db", db)
    assert due.returncode == 0, due.stderr
    assert json.loads(due.stdout) == {"refund_confirmation": 1, "refund_refusal": 1,
                                      "refund_payment": 0}
    out = tmp_path / "confirm.pdf"
    made = hosho("letters", "refund_confirmation", "--out", str(out), "--json", "--db", db)
    assert made.returncode == 0, made.stderr
    result = json.loads(made.stdout)
    assert result["programme"] == "refund" and result["letters"] == 1
    assert result["produced"][0]["application_id"] == "A1"
    text = "".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "12,345円" in text and "払戻金額確定のお知らせ" in text
    found = json.loads(hosho("letters", "find", result["produced"][0]["code"], "--json",
                             "--db", db).stdout)
    assert found["application_id"] == "A1" and found["programme"] == "refund"
    assert found["case_number"] is None
    again = hosho("letters", "refund_confirmation", "--application", "A1",
                  "--out", str(tmp_path / "again.pdf"), "--db", db)
    assert again.returncode == 1 and "A1" in again.stdout  # refused: produced already
    batches = json.loads(hosho("letters", "batches", "--json", "--db", db).stdout)
    assert [(b["programme"], b["kind"]) for b in batches] == [("refund",
                                                                "refund_confirmation")]
    mailed = hosho("letters", "mark-mailed", str(result["batch_id"]), "--json", "--db", db)
    assert mailed.returncode == 0, mailed.stderr
    assert json.loads(mailed.stdout) == {"batch_id": result["batch_id"], "letters": 1,
                                         "moved": [], "stayed": []}
