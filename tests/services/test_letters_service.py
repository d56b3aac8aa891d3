"""Letters on cases: batches recorded all or nothing, mailing moves cases, codes found."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pytest
from pypdf import PdfReader
from sqlmodel import select

from app.core.clock import JST
from app.core.errors import UserError
from app.domain.channels import Channel
from app.domain.states import Status
from app.letters import LetterKind
from app.services import audit_log, cases, intake
from app.services import letters as svc
from app.services.cases import MoveRequest
from app.services.letters import BatchRequest
from app.storage.models import AuditEvent, Letter, LetterBatch, Victim
from tests.services.helpers import incident, victim


def _case(ctx, staff, channel=Channel.DEBIT_CHARGE, **kw):
    return intake.take_phone_intake(ctx, staff["op1"], victim(**kw), incident(channel))


def _text(path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def _letters(ctx):
    with ctx.db.read() as session:
        return session.exec(select(Letter).order_by(Letter.id)).all()


def test_batch_records_each_letter_with_code_hash_and_audit(ctx, staff, tmp_path):
    a = _case(ctx, staff)
    b = _case(ctx, staff, Channel.NANACO_CHARGE, name="佐藤 花子")
    out = tmp_path / "guidance.pdf"
    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(
        LetterKind.GUIDANCE, case_numbers=(a.case_number, b.case_number)), out)
    assert summary.batch_id is not None and out.exists()
    assert [x.case_number for x in summary.letters] == [a.case_number, b.case_number]
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    rows = _letters(ctx)
    assert len(rows) == 2 and {r.file_sha256 for r in rows} == {digest}
    assert all(r.batch_id == summary.batch_id and r.operator_id for r in rows)
    text = _text(out)
    for row in summary.letters:
        assert row.code.replace("-", "") in text.replace("-", "")  # printed on the letter
    assert "パスワード" in text  # never asks for a password
    with ctx.db.read() as session:
        actions = session.exec(select(AuditEvent.action)
                               .where(AuditEvent.case_id == a.id)).all()
    assert "letter.produce" in actions
    assert cases.get_case(ctx, staff["op1"], a.id).status is Status.RECEIVED  # not yet mailed


def test_batch_chains_one_event_per_letter_in_order(ctx, staff, tmp_path):
    made = [_case(ctx, staff, name=f"佐藤 {n}") for n in range(3)]
    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(
        LetterKind.GUIDANCE, case_ids=tuple(c.id for c in made)), tmp_path / "b.pdf")
    with ctx.db.read() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action.in_(
            ("letter.produce", "letter.batch"))).order_by(AuditEvent.seq)).all()
    assert [e.action for e in events] == ["letter.produce"] * 3 + ["letter.batch"]
    assert [(e.entity_id, e.case_id) for e in events[:3]] == [
        (x.letter_id, x.case_id) for x in summary.letters]
    assert [e.operator_id for e in events] == [staff["op1"].operator_id] * 4
    assert '"code"' in events[0].after and summary.letters[0].code in events[0].after
    assert [e.seq for e in events] == list(range(events[0].seq, events[0].seq + 4))
    report = audit_log.verify_chain(ctx)
    assert report.intact, report.problem_en


def test_refused_character_is_listed_and_the_rest_are_produced(ctx, staff, tmp_path):
    good = _case(ctx, staff)
    bad = _case(ctx, staff, name="山田 花子")
    with ctx.db.write() as session:  # a private-use character, as some old systems export
        row = session.exec(select(Victim).where(Victim.name == "山田 花子")).one()
        row.name = "山田 \ue000子"
    out = tmp_path / "batch.pdf"
    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(
        LetterKind.GUIDANCE, case_ids=(good.id, bad.id)), out)
    assert [x.case_number for x in summary.letters] == [good.case_number]
    assert [r.case_number for r in summary.refused] == [bad.case_number]
    assert "U+E000" in summary.refused[0].reason
    japanese, english = summary.refused[0].ja, summary.refused[0].en
    assert "U+E000" in japanese and "U+E000" in english and japanese != english
    assert " / " not in japanese and " / " not in english  # one language each, for the screen
    assert [r.case_id for r in _letters(ctx)] == [good.id]


def test_cancel_records_nothing_and_leaves_no_file(ctx, staff, tmp_path):
    ids = tuple(_case(ctx, staff).id for _ in range(3))
    out = tmp_path / "out" / "cancelled.pdf"
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 2

    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(LetterKind.GUIDANCE,
                                                                case_ids=ids), out,
                                cancel=cancel)
    assert summary.cancelled and summary.batch_id is None
    assert not out.exists() and list(out.parent.iterdir()) == []
    assert _letters(ctx) == []
    with ctx.db.read() as session:
        assert session.exec(select(LetterBatch)).all() == []


def test_rule_picks_channel_and_status_in_outreach_order(ctx, staff, tmp_path):
    _case(ctx, staff)
    n1 = _case(ctx, staff, Channel.NANACO_CHARGE)
    n2 = _case(ctx, staff, Channel.NANACO_CHARGE)
    chosen = svc.choose_cases(ctx, BatchRequest(LetterKind.GUIDANCE,
                                                channel=Channel.NANACO_CHARGE, limit=1))
    assert [c.case_id for c in chosen] == [n1.id]
    chosen = svc.choose_cases(ctx, BatchRequest(LetterKind.GUIDANCE, limit=200))
    assert {n1.id, n2.id} <= {c.case_id for c in chosen}
    assert chosen[0].channel is Channel.NANACO_CHARGE  # promised channels first


def test_mark_mailed_moves_guidance_cases_to_contacted(ctx, staff, tmp_path):
    a = _case(ctx, staff)
    done = _case(ctx, staff)
    cases.move_case(ctx, staff["op1"], done.id, MoveRequest(Status.CONTACTED))
    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(
        LetterKind.GUIDANCE, case_ids=(a.id, done.id)), tmp_path / "g.pdf")
    mailed = svc.mark_mailed(ctx, staff["op2"], summary.batch_id)
    assert [m.case_number for m in mailed.moved] == [a.case_number]
    assert [m.case_number for m in mailed.stayed] == [done.case_number]
    assert mailed.stayed[0].ja == "案内済のため状態は変わりません"
    assert mailed.stayed[0].en == "stays contacted"
    assert cases.get_case(ctx, staff["op1"], a.id).status is Status.CONTACTED
    assert all(r.mailed_at is not None for r in _letters(ctx))
    with pytest.raises(UserError):
        svc.mark_mailed(ctx, staff["op2"], summary.batch_id)


def test_mark_mailed_refuses_nanaco_before_outreach_start(ctx, staff, tmp_path):
    ctx.clock.current = datetime(2019, 8, 10, 10, 0, tzinfo=JST)
    debit = _case(ctx, staff)
    nanaco = _case(ctx, staff, Channel.NANACO_CHARGE)
    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(
        LetterKind.GUIDANCE, case_ids=(debit.id, nanaco.id)), tmp_path / "g.pdf")
    mailed = svc.mark_mailed(ctx, staff["op1"], summary.batch_id)
    assert [m.case_number for m in mailed.moved] == [debit.case_number]
    assert [m.case_number for m in mailed.stayed] == [nanaco.case_number]
    assert "2019-08-19" in mailed.stayed[0].reason
    assert cases.get_case(ctx, staff["op1"], nanaco.id).status is Status.RECEIVED


def test_find_letter_by_code_typed_loosely(ctx, staff, tmp_path):
    a = _case(ctx, staff)
    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(
        LetterKind.GUIDANCE, case_ids=(a.id,)), tmp_path / "g.pdf")
    code = summary.letters[0].code
    typed_lower = code.lower().replace("-", "")
    full_width = "".join(chr(ord(ch) + 0xFEE0) if ch != "-" else "－" for ch in code)
    for typed in (code, typed_lower, full_width, f" {code.lower()} "):
        found = svc.find_letter(ctx, typed)
        assert found is not None and found.case_id == a.id and found.code == code
    assert svc.find_letter(ctx, "ZZZZ-ZZZZ") is None or code == "ZZZZ-ZZZZ"
    assert svc.find_letter(ctx, "not a code") is None


def test_payment_notice_mailed_closes_paid_case(ctx, staff, tmp_path):
    from tests.conftest import approval
    from tests.services.helpers import pay_by_transfer
    from tests.services.test_case_services import to_verified

    a = _case(ctx, staff)
    to_verified(ctx, staff, a.id)
    cases.move_case(ctx, staff["sv1"], a.id, approval(ctx, staff, "sv1"))
    pay_by_transfer(ctx, staff, tmp_path / "furikomi.txt")
    out = tmp_path / "paid.pdf"
    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(LetterKind.PAYMENT_NOTICE),
                                out)
    assert [x.case_number for x in summary.letters] == [a.case_number]
    text = _text(out)
    assert "30,000円" in text and "1234567" not in text  # account number masked
    svc.mark_mailed(ctx, staff["op1"], summary.batch_id)
    assert cases.get_case(ctx, staff["op1"], a.id).status is Status.CLOSED


def test_deficiency_letter_lists_items_and_mailing_sends_case_back(ctx, staff, tmp_path):
    from app.services.payout_details import set_payout_details
    from tests.services.helpers import BANK

    a = _case(ctx, staff)
    cases.move_case(ctx, staff["op1"], a.id, MoveRequest(Status.CONTACTED))
    set_payout_details(ctx, staff["op1"], a.id, BANK)
    cases.move_case(ctx, staff["op1"], a.id, MoveRequest(Status.DOCUMENTS_RECEIVED))
    with pytest.raises(UserError):  # the operator must tick what is missing
        svc.produce_batch(ctx, staff["op1"], BatchRequest(LetterKind.DEFICIENCY),
                          tmp_path / "d.pdf")
    out = tmp_path / "d.pdf"
    summary = svc.produce_batch(ctx, staff["op1"], BatchRequest(
        LetterKind.DEFICIENCY, deficiency_items=("signature_missing",)), out)
    assert [x.case_number for x in summary.letters] == [a.case_number]
    assert "書類不備のご連絡" in _text(out) and "署名" in _text(out)
    svc.mark_mailed(ctx, staff["op1"], summary.batch_id)
    view = cases.get_case(ctx, staff["op1"], a.id)
    assert view.status is Status.CONTACTED and "deficiency" in (view.status_reason or "")
