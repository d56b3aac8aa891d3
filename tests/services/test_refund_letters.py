"""The balance-refund programme's letters: due from the applications' states, each kind
once per application (a 払出証書's notice once per certificate), through the same batch
machinery as the compensation letters (codes, audit, mark mailed, find)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.core.errors import ChangedMeanwhile, UserError
from app.domain.roles import SYSTEM_ACTOR
from app.letters import LetterKind
from app.services import letters as svc
from app.services import payouts, refunds
from app.services.letters import BatchRequest
from app.services.payouts import ResultEntry
from app.services.refunds_import import import_applications, import_balances
from app.storage.models import AuditEvent, Letter, LetterBatch, RefundApplication
from tests.conftest import step_up_code
from tests.services.helpers import SENDER
from tests.services.refund_helpers import APPLICATION_HEADER, BALANCE_HEADER, application, write_csv

CONFIRMATION = LetterKind.REFUND_CONFIRMATION
REFUSAL = LetterKind.REFUND_REFUSAL
PAYMENT = LetterKind.REFUND_PAYMENT


def _member(member_id, balance, fraud="", *, name, kana, closed=""):
    return [member_id, str(balance), str(fraud), name, kana, "090-1111-2222", "", "102-0084",
            "東京都千代田区二番町8番地8", "1980-01-02", closed]


@pytest.fixture
def apps(ctx, clock, staff, tmp_path):
    from app.services import settings

    clock.advance(days=200)  # 2020-03-07
    settings.change_many(ctx, SYSTEM_ACTOR, SENDER)
    import_balances(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "b.csv", BALANCE_HEADER, [
        _member("T1", 5000, name="佐藤 花子", kana="サトウ ハナコ"),
        _member("F1", 38_615, 10_000, name="鈴木 一郎", kana="スズキ イチロウ"),
        _member("P1", 3000, name="高橋 美咲", kana="タカハシ ミサキ"),
        _member("CL", 4000, name="田中 翔太", kana="タナカ ショウタ", closed="2019-08-20"),
        _member("NB", 0, name="伊藤 健", kana="イトウ ケン"),
        _member("W1", 2500, name="渡辺 直子", kana="ワタナベ ナオコ")]))
    import_applications(ctx, SYSTEM_ACTOR, write_csv(tmp_path / "a.csv", APPLICATION_HEADER, [
        application("A-T1", "T1", kana="サトウ ハナコ", applied="2019-11-01 10:00"),
        application("A-F1", "F1", kana="スズキ イチロウ", applied="2019-11-02 10:00"),
        application("A-P1", "P1", kana="タカハシ ミサキ", method="払出証書",
                    applied="2019-11-03 10:00"),
        application("A-CL", "CL", kana="タナカ ショウタ"),
        application("A-NB", "NB", kana="イトウ ケン"),
        application("A-W1", "W1", kana="ワタナベ ナオコ", route="Web")]))
    with ctx.db.read() as session:
        return dict(session.execute(select(RefundApplication.application_id,
                                           RefundApplication.id)).all())


def _text(path) -> str:
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in PdfReader(str(path)).pages))


def _produce(ctx, staff, kind, out, **kw):
    return svc.produce_batch(ctx, staff["op1"], BatchRequest(kind, **kw), out)


def _events(ctx, action):
    with ctx.db.read() as session:
        return session.execute(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.seq)).scalars().all()


def test_confirmation_says_the_amount_and_how_it_will_be_paid(ctx, staff, apps, tmp_path):
    assert svc.refund_letters_due(ctx) == {"refund_confirmation": 3, "refund_refusal": 2,
                                           "refund_payment": 0}
    chosen = svc.choose_applications(ctx, BatchRequest(CONFIRMATION))
    assert [c.application_id for c in chosen] == ["A-T1", "A-F1", "A-P1"]
    out = tmp_path / "confirm.pdf"
    summary = _produce(ctx, staff, CONFIRMATION, out)
    assert [x.case_number for x in summary.letters] == ["A-T1", "A-F1", "A-P1"]
    assert all(x.case_id is None and x.application_ref for x in summary.letters)
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(str(out)).pages]
    assert len(pages) == 3  # one sheet each
    t1, f1, p1 = pages
    assert "佐藤花子様" in t1 and "払戻金額確定のお知らせ" in t1 and "5,000円" in t1
    assert "申出番号A-T1" in t1 and "2019年11月1日" in t1 and "2020年3月7日" in t1
    assert "銀行振込" in t1 and "****567" in t1 and "1234567" not in t1
    assert "みずほ銀行" in t1  # the bank's name from its code
    # the balance less the part compensation gave back
    assert "38,615円" in f1 and "10,000円" in f1 and "28,615円" in f1
    assert "補償でご返金済" in f1 and "補償でご返金済" not in t1
    assert "高橋美咲様" in p1 and "ゆうちょ銀行の払出証書" in p1 and "3,000円" in p1
    assert "〒102-0084" in t1 and "パスワード" in t1
    for row in summary.letters:
        assert row.code in "".join(pages)
    events = _events(ctx, "letter.produce")
    assert [e.case_id for e in events] == [None] * 3
    assert '"application_id": "A-T1"' in events[0].after and '"programme": "refund"' in \
        events[0].after
    batch = svc.list_batches(ctx)[0]
    assert batch.programme == "refund" and batch.kind is CONFIRMATION
    found = svc.find_letter(ctx, summary.letters[0].code.lower().replace("-", ""))
    assert found.application_id == "A-T1" and found.case_id is None
    assert found.programme == "refund"


def test_no_letter_twice_for_the_same_application_and_kind(ctx, staff, apps, tmp_path):
    first = _produce(ctx, staff, CONFIRMATION, tmp_path / "1.pdf")
    assert len(first.letters) == 3
    with pytest.raises(UserError, match="No refund application"):
        _produce(ctx, staff, CONFIRMATION, tmp_path / "2.pdf")
    again = _produce(ctx, staff, CONFIRMATION, tmp_path / "3.pdf",
                     application_ids=("A-T1",))
    assert again.batch_id is None and [r.case_number for r in again.refused] == ["A-T1"]
    assert not (tmp_path / "3.pdf").exists()
    with pytest.raises(ChangedMeanwhile), ctx.db.write() as session:  # the database says no
        session.add(Letter(application_ref=apps["A-T1"], kind=CONFIRMATION.value,
                           code="ZZZZ-0001", created_at=ctx.clock.now()))
        session.flush()
    with pytest.raises(ChangedMeanwhile), ctx.db.write() as session:  # a case's or an app's
        session.add(Letter(kind="guidance", code="ZZZZ-0002", created_at=ctx.clock.now()))
        session.flush()
    with ctx.db.read() as session:
        assert len(session.execute(select(Letter)).all()) == 3


def test_refusal_says_the_reason_in_the_letter_and_the_audit(ctx, staff, apps, tmp_path):
    refunds.refuse(ctx, staff["op1"], apps["A-W1"], "登録電話番号に3回架電し不通")
    refused = _events(ctx, "refund.refuse")[0]
    assert '"refusal": "identity_not_confirmed"' in refused.after
    assert "本人確認ができなかった" in refused.after and refused.reason.startswith("登録電話")
    out = tmp_path / "refusal.pdf"
    summary = _produce(ctx, staff, REFUSAL, out)
    assert [x.case_number for x in summary.letters] == ["A-CL", "A-NB", "A-W1"]
    cl, nb, w1 = (re.sub(r"\s+", "", p.extract_text()) for p in PdfReader(str(out)).pages)
    assert "残高払戻しのお申出についてのご連絡" in cl and "田中翔太様" in cl
    assert "2019年8月20日に7payの退会のお手続き" in cl
    assert "残高が0円" in nb and "伊藤健様" in nb
    assert "ご本人様の確認を試みましたが" in w1
    assert "3回架電" not in w1  # the operator's note is for the record, not the letter
    events = {e.entity_id: e for e in _events(ctx, "letter.produce")}
    by_app = {x.case_number: events[x.letter_id] for x in summary.letters}
    assert '"refusal": "account_closed"' in by_app["A-CL"].after
    assert "2019年8月20日に7payの退会のお手続き" in by_app["A-CL"].after
    assert '"refusal": "no_balance"' in by_app["A-NB"].after
    assert "ご本人様の確認を試みましたが" in by_app["A-W1"].after


def test_mark_mailed_is_audited_and_moves_nothing(ctx, staff, apps, tmp_path):
    summary = _produce(ctx, staff, REFUSAL, tmp_path / "r.pdf")
    mailed = svc.mark_mailed(ctx, staff["op1"], summary.batch_id)
    assert mailed.letters == 2 and mailed.moved == () and mailed.stayed == ()
    events = _events(ctx, "letter.mailed")
    assert [e.entity_id for e in events] == [x.letter_id for x in summary.letters]
    assert all(e.actor_login == "op1" and e.case_id is None for e in events)
    assert '"application_id": "A-CL"' in events[0].after
    assert '"programme": "refund"' in _events(ctx, "letter.batch_mailed")[0].after
    with ctx.db.read() as session:
        assert all(x.mailed_at for x in session.execute(select(Letter)).scalars())
        assert session.get(LetterBatch, summary.batch_id).mailed_by == staff["op1"].operator_id
    assert refunds.get_application(ctx, apps["A-CL"]).state == "refused_closed"
    with pytest.raises(UserError):
        svc.mark_mailed(ctx, staff["op1"], summary.batch_id)


def _pay_by_transfer(ctx, staff, tmp_path, entries):
    batch = payouts.build_batch(ctx, staff["sv1"], refunds=True)
    payouts.release_batch(ctx, staff["sv2"], batch.id,
                          second_factor=step_up_code(ctx, staff["sv2"]))
    payouts.export_batch(ctx, staff["sv2"], batch.id, tmp_path / f"f{batch.id}.txt",
                         second_factor=step_up_code(ctx, staff["sv2"]))
    payouts.mark_sent(ctx, staff["op1"], batch.id)
    payouts.record_results(ctx, staff["op1"], batch.id, entries)


def test_payment_notice_for_a_transfer(ctx, staff, apps, tmp_path):
    _pay_by_transfer(ctx, staff, tmp_path, [ResultEntry("払戻 A-T1", "done"),
                                            ResultEntry("払戻 A-F1", "returned", "口座なし")])
    out = tmp_path / "paid.pdf"
    summary = _produce(ctx, staff, PAYMENT, out)
    assert [x.case_number for x in summary.letters] == ["A-T1"]  # A-F1 was returned
    text = _text(out)
    assert "残高払戻しのお知らせ" in text and "佐藤花子様" in text and "5,000円" in text
    assert "振込日2020年3月7日" in text and "****567" in text
    assert "2020年3月7日に、上記の口座へ5,000円をお振込みいたしました" in text
    with pytest.raises(UserError):
        _produce(ctx, staff, PAYMENT, tmp_path / "again.pdf")


def test_postal_order_expired_and_reissued_gets_a_notice_for_each(ctx, staff, apps, clock,
                                                                  tmp_path):
    ref = apps["A-P1"]
    refunds.postal_request_list(ctx, staff["sv1"], tmp_path / "yucho1.csv",
                                second_factor=step_up_code(ctx, staff["sv1"]))
    assert svc.refund_letters_due(ctx)["refund_payment"] == 0  # requested, not yet issued
    refunds.postal_issued(ctx, staff["op1"], ref, "00120-3-456789", date(2020, 5, 31))
    first = _produce(ctx, staff, PAYMENT, tmp_path / "p1.pdf")
    text = _text(tmp_path / "p1.pdf")
    assert "高橋美咲様" in text and "3,000円" in text and "換金期限2020年5月31日" in text
    assert "2020年5月31日までに" in text and "6789" in text and "456789" not in text
    # it expires, comes back, and the member asks for a 払出証書 again
    clock.advance(days=90)
    refunds.postal_returned(ctx, staff["op1"], ref, "有効期限切れで返送")
    refunds.change_method(ctx, staff["op1"], ref, "払出証書", how="phone_on_record")
    # confirmed again, but told by the payment notice: no confirmation after it
    assert svc.refund_letters_due(ctx)["refund_confirmation"] == 2
    refunds.postal_request_list(ctx, staff["sv1"], tmp_path / "yucho2.csv",
                                second_factor=step_up_code(ctx, staff["sv1"]))
    refunds.postal_issued(ctx, staff["op1"], ref, "00120-3-999111", date(2020, 9, 30))
    second = _produce(ctx, staff, PAYMENT, tmp_path / "p2.pdf")
    text = _text(tmp_path / "p2.pdf")
    assert "換金期限2020年9月30日" in text and "9111" in text and "6789" not in text
    with ctx.db.read() as session:
        rows = session.execute(select(Letter).where(Letter.application_ref == ref,
                                                    Letter.kind == PAYMENT.value)).scalars()
        orders = [x.postal_order_id for x in rows]
    assert len(orders) == 2 and len(set(orders)) == 2 and None not in orders
    assert [x.case_number for x in first.letters + second.letters] == ["A-P1", "A-P1"]
    with pytest.raises(UserError):  # once per certificate
        _produce(ctx, staff, PAYMENT, tmp_path / "p3.pdf")
    # cashed: paid, and nothing more is due (the notice went with the certificate)
    refunds.postal_cashed(ctx, staff["op1"], ref)
    assert svc.refund_letters_due(ctx)["refund_payment"] == 0


def test_a_postal_order_past_its_day_is_not_due(ctx, staff, apps, clock, tmp_path):
    refunds.postal_request_list(ctx, staff["sv1"], tmp_path / "yucho.csv",
                                second_factor=step_up_code(ctx, staff["sv1"]))
    refunds.postal_issued(ctx, staff["op1"], apps["A-P1"], "No.1", date(2020, 3, 31))
    assert svc.refund_letters_due(ctx)["refund_payment"] == 1
    clock.advance(days=30)
    assert svc.refund_letters_due(ctx)["refund_payment"] == 0


def test_kinds_and_numbers_do_not_mix(ctx, staff, apps, tmp_path):
    with pytest.raises(UserError):
        _produce(ctx, staff, CONFIRMATION, tmp_path / "x.pdf", case_numbers=("H-0000001-8",))
    with pytest.raises(UserError):
        _produce(ctx, staff, LetterKind.GUIDANCE, tmp_path / "y.pdf",
                 application_ids=("A-T1",))
    with pytest.raises(UserError, match="A-ZZ"):
        _produce(ctx, staff, CONFIRMATION, tmp_path / "z.pdf", application_ids=("A-ZZ",))
