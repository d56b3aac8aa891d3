"""`hosho payouts ...` and `hosho reconcile` as a back office runs them: real processes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyotp
from sqlalchemy import text

from app.core.clock import FixedClock
from app.domain.roles import SYSTEM_ACTOR
from app.exports.zengin import split_records
from app.services import payouts, second_factor, settings
from app.services.context import AppContext
from app.storage.db import Database
from tests.cli.test_command import hosho
from tests.services.test_payouts import SENDER


def _demo(tmp_path) -> str:
    db = str(tmp_path / "pay.sqlite3")
    assert hosho("demo", "--db", db, "--victims", "120", "--seed", "11").returncode == 0
    database = Database(db)
    settings.change_many(AppContext(database), SYSTEM_ACTOR, SENDER)
    database.dispose()
    return db


def _enrolled(db: str, login: str) -> pyotp.TOTP:
    """The supervisor's authenticator, set up a minute ago (so that the code it shows
    now has not been used yet)."""
    database = Database(db)
    ctx = AppContext(database, FixedClock(datetime.now(UTC) - timedelta(minutes=1)))
    actor = payouts.supervisor_by_login(ctx, login)
    enrolment = second_factor.begin_enrolment(ctx, actor)
    totp = pyotp.TOTP(enrolment.secret)
    second_factor.confirm_enrolment(ctx, actor, totp.at(ctx.clock.now()))
    database.dispose()
    return totp


def test_batch_release_export_results_and_reconcile(tmp_path):
    db = _demo(tmp_path)
    refused = hosho("payouts", "batch", "--db", db)
    assert refused.returncode == 2 and "--as" in refused.stderr
    built = hosho("payouts", "batch", "--db", db, "--as", "sato", "--json")
    assert built.returncode == 0, built.stderr
    batch = json.loads(built.stdout)
    assert batch["status"] == "built" and batch["items"] > 1
    number = str(batch["id"])

    same = hosho("payouts", "release", number, "--db", db, "--as", "sato")
    assert same.returncode == 2 and "二者確認" in same.stderr
    operator = hosho("payouts", "release", number, "--db", db, "--as", "tanaka")
    assert operator.returncode == 2 and "スーパーバイザーではありません" in operator.stderr
    unenrolled = hosho("payouts", "release", number, "--db", db, "--as", "kimura")
    assert unenrolled.returncode == 2 and "二段階認証を登録" in unenrolled.stderr
    totp = _enrolled(db, "kimura")
    no_code = hosho("payouts", "release", number, "--db", db, "--as", "kimura")
    assert no_code.returncode == 2 and "確認コード" in no_code.stderr  # money leaves: a code
    wrong = hosho("payouts", "release", number, "--db", db, "--as", "kimura", "--code", "000000")
    assert wrong.returncode == 2 and "built" in hosho("payouts", "list", "--db", db).stdout
    released = hosho("payouts", "release", number, "--db", db, "--as", "kimura", "--json",
                     "--code", totp.now())
    assert released.returncode == 0, released.stderr
    assert json.loads(released.stdout)["released_by"] == "kimura"

    out = tmp_path / "furikomi.txt"
    exported = hosho("payouts", "export", number, "--db", db, "--out", str(out))
    assert exported.returncode == 0, exported.stderr
    records = split_records(out.read_bytes())
    assert all(len(r) == 120 for r in records) and len(records) == batch["items"] + 3
    assert int(records[-2][7:19]) == batch["total"]
    assert hosho("payouts", "sent", number, "--db", db).returncode == 0

    items = payouts.batch_items(AppContext(Database(db)), batch["id"])
    results = tmp_path / "results.csv"
    lines = ["案件番号,結果,理由", f"{items[0].case_number},返却,closed_account"]
    lines += [f"{i.seq},done," for i in items[1:]]
    results.write_text("\n".join(lines), encoding="cp932")
    entered = hosho("payouts", "result", number, "--db", db, "--file", str(results))
    assert entered.returncode == 0, entered.stderr
    assert f"返却 returned: {items[0].case_number}" in entered.stdout

    pdf, csv_out = tmp_path / "rec.pdf", tmp_path / "rec.csv"
    shown = hosho("reconcile", "--db", db, "--json", "--pdf", str(pdf), "--csv", str(csv_out))
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    ours = next(b for b in report["batches"] if b["batch_id"] == batch["id"])
    assert report["balanced"] and ours["returned"] == items[0].amount
    assert sum(c["paid"] for c in report["by_channel"].values()) == report["total"]["paid"]
    assert pdf.read_bytes().startswith(b"%PDF") and csv_out.exists()


def test_card_and_nanaco_lists(tmp_path):
    db = _demo(tmp_path)
    issuer = next(iter(payouts.card_issuers_waiting(AppContext(Database(db)))))
    card = tmp_path / "card.csv"
    made = hosho("payouts", "card-list", issuer, "--db", db, "--out", str(card))
    assert made.returncode == 0, made.stderr
    assert card.read_text(encoding="utf-8-sig").startswith("案件番号,カード会社")
    first = card.read_text(encoding="utf-8-sig").splitlines()[1].split(",")[0]
    assert hosho("payouts", "confirm", first, "--db", db).returncode == 0
    nanaco = tmp_path / "nanaco.csv"
    assert hosho("payouts", "nanaco-list", "--db", db, "--out", str(nanaco)).returncode == 0
    again = hosho("payouts", "nanaco-list", "--db", db, "--out", str(nanaco))
    assert again.returncode == 2  # every waiting case is already on a list


def test_no_command_moves_money_off_its_rail(tmp_path):
    """Through `hosho`: no confirmation for a transfer case, no result for a case the
    batch does not hold, a result file refused whole with its lines named, and
    `hosho reconcile` exits 1 once a payment is forced in by SQL."""
    db = _demo(tmp_path)
    ctx = AppContext(Database(db))
    batches = payouts.list_batches(ctx)
    sent = next(b for b in batches if b.status == "sent" and b.pending)
    pending = next(i for i in payouts.batch_items(ctx, sent.id) if i.result is None)
    confirm = hosho("payouts", "confirm", pending.case_number, "--db", db)
    assert confirm.returncode == 2 and "確認待ちの依頼はありません" in confirm.stderr
    card_case = payouts.pending_requests(ctx)[0].case_number
    stray = hosho("payouts", "result", str(sent.id), "--db", db, "--case", card_case, "--done")
    assert stray.returncode == 2 and card_case in stray.stderr
    results = tmp_path / "results.csv"
    results.write_text(f"{pending.case_number},done\n{pending.case_number},done\n",
                       encoding="utf-8")
    twice = hosho("payouts", "result", str(sent.id), "--db", db, "--file", str(results))
    assert twice.returncode == 2 and "2行目" in twice.stderr
    assert next(i for i in payouts.batch_items(ctx, sent.id)
                if i.seq == pending.seq).result is None  # nothing applied
    assert hosho("reconcile", "--db", db).returncode == 0
    with ctx.db.write() as session:
        session.execute(text("UPDATE case_file SET status = 'paid' WHERE case_number = :n"),
                        {"n": pending.case_number})
    shown = hosho("reconcile", "--db", db)
    assert shown.returncode == 1 and pending.case_number in shown.stdout
