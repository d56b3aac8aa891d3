"""The case list query: search keys, filters and credit deadline flags."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.clock import jst_datetime
from app.core.errors import ValidationError
from app.domain.channels import Channel, PayoutKind
from app.domain.deadlines import DeadlineFlag
from app.domain.payout import PayoutDetails
from app.domain.states import Status
from app.services import intake
from app.services.case_search import CaseQuery, list_cases
from app.services.payout_details import set_payout_details
from tests.services.helpers import incident, victim


def credit_case(ctx, staff, name, phone, billing: date):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(name=name, phone=phone),
                                    incident(Channel.CREDIT_CHARGE))
    set_payout_details(ctx, staff["op1"], case.id, PayoutDetails(
        PayoutKind.CARD_CANCELLATION, card_issuer="JCB", card_last4="1234",
        billing_confirmation_date=billing, payment_date=date(2019, 10, 10)))
    return case


def test_credit_deadline_flags_and_filter(ctx, staff, clock):
    clock.current = jst_datetime(2019, 8, 26, 10)  # a Monday
    overdue = credit_case(ctx, staff, "期限 過ぎ", "03-1000-0001", date(2019, 8, 23))
    due = credit_case(ctx, staff, "期限 間近", "03-1000-0002", date(2019, 8, 28))
    later = credit_case(ctx, staff, "期限 先", "03-1000-0003", date(2019, 9, 20))
    rows = {r.id: r.deadline for r in list_cases(ctx, CaseQuery())}
    assert rows[overdue.id] is DeadlineFlag.OVERDUE
    assert rows[due.id] is DeadlineFlag.DUE
    assert rows[later.id] is DeadlineFlag.NONE
    flagged = {r.id for r in list_cases(ctx, CaseQuery(overdue_only=True))}
    assert flagged == {overdue.id, due.id}


def test_search_reads_what_the_operator_types(ctx, staff):
    case = intake.take_phone_intake(ctx, staff["op1"], victim(member_id="7i000123"), incident())
    for text in ("やまだ", "ﾔﾏﾀﾞ", "山田", "090-1234", "０９０１２３４５６７８", "7i000123",
                 case.case_number, case.case_number.replace("-", "").lower()):
        assert [r.id for r in list_cases(ctx, CaseQuery(text=text))] == [case.id], text
    assert list_cases(ctx, CaseQuery(text="すずき")) == []
    row = list_cases(ctx, CaseQuery())[0]
    assert row.phone_masked == "*******5678"


def test_filters_combine(ctx, staff):
    a = intake.take_phone_intake(ctx, staff["op1"], victim(), incident(Channel.NANACO_CHARGE))
    intake.take_phone_intake(ctx, staff["op1"], victim(phone="03-2222-3333"),
                             incident(Channel.DEBIT_CHARGE))
    rows = list_cases(ctx, CaseQuery(channel=Channel.NANACO_CHARGE, status=Status.RECEIVED))
    assert [r.id for r in rows] == [a.id]


def test_a_letter_code_read_out_by_a_caller_finds_the_case(ctx, staff, tmp_path):
    from app.letters import LetterKind
    from app.services import letters
    from app.services.letters import BatchRequest

    case = intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    other = intake.take_phone_intake(ctx, staff["op1"], victim(phone="03-9999-0000"),
                                     incident())
    summary = letters.produce_batch(ctx, staff["op1"], BatchRequest(
        LetterKind.GUIDANCE, case_ids=(case.id,)), tmp_path / "one.pdf")
    code = summary.letters[0].code
    typed = code.replace("-", "").lower()  # as heard on the phone, without the hyphen
    assert [r.id for r in list_cases(ctx, CaseQuery(text=typed))] == [case.id]
    assert other.id not in [r.id for r in list_cases(ctx, CaseQuery(text=code))]


@pytest.mark.parametrize("text", ["山田\x00", "\x00", "H-\x00", "090\x1b[2J", "やまだ\x7f",
                                  "山田\ud800"])
def test_a_control_character_in_the_search_box_is_refused_with_a_message(ctx, staff, text):
    intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    with pytest.raises(ValidationError) as caught:
        list_cases(ctx, CaseQuery(text=text))
    assert caught.value.field == "text"
    assert "制御文字" in caught.value.ja and "control character" in caught.value.en


def test_an_overlong_search_is_refused_with_a_message(ctx, staff):
    with pytest.raises(ValidationError, match="200"):
        list_cases(ctx, CaseQuery(text="や" * 201))
    assert list_cases(ctx, CaseQuery(text="や" * 200)) == []


def test_like_wildcards_in_a_case_number_search_are_literal(ctx, staff):
    first = intake.take_phone_intake(ctx, staff["op1"], victim(), incident())
    second = intake.take_phone_intake(ctx, staff["op1"], victim(name="佐藤 花子",
                                                                phone="03-3333-4444"),
                                      incident(Channel.NANACO_CHARGE))
    for text in ("H-%", "h-%", "H-_", "H-0%", "H-000000_", "H0%", "H-%-%", "H-\\", "H-\\%"):
        assert list_cases(ctx, CaseQuery(text=text)) == [], text
    both = {first.id, second.id}
    assert {r.id for r in list_cases(ctx, CaseQuery(text="H-000000"))} == both
    prefix = first.case_number[:10]  # "H-0000001-": the number without its check digit
    assert [r.id for r in list_cases(ctx, CaseQuery(text=prefix))] == [first.id]


def _pages(ctx, query, size):
    rows, after = [], None
    while True:
        page = list_cases(ctx, query, size, after)
        rows += page
        if len(page) < size:
            return rows
        after = page[-1].key


def test_keyset_pages_hold_every_row_once_in_every_sort_order_with_ties(ctx, staff):
    from app.services.case_search import SORTABLE

    # Same name, same amount, same channel and state: ties on every sort key but the number.
    for n in range(7):
        same = victim(name="同姓 同名", phone=f"03-2000-{n:04}")
        intake.take_phone_intake(ctx, staff["op1"], same, incident(amount=10_000))
    for n in range(3):
        other = victim(name="別人 太郎", phone=f"03-3000-{n:04}")
        intake.take_phone_intake(ctx, staff["op1"], other,
                                 incident(Channel.NANACO_CHARGE, amount=5_000))
    for sort in SORTABLE:
        for descending in (False, True):
            query = CaseQuery(sort=sort, descending=descending)
            whole = [r.id for r in list_cases(ctx, query, 1000)]
            assert len(whole) == 10
            for size in (1, 3, 4):  # page boundaries inside the runs of equal keys
                assert [r.id for r in _pages(ctx, query, size)] == whole, (sort, descending)
            # among equal keys, by case id in the list's direction
            keys = [r.key for r in list_cases(ctx, query, 1000)]
            assert keys == sorted(keys, reverse=descending), (sort, descending)


def test_a_case_added_before_the_page_does_not_shift_the_next_page(ctx, staff):
    for n in range(4):
        intake.take_phone_intake(ctx, staff["op1"],
                                 victim(name="山田 太郎", phone=f"03-4000-{n:04}"), incident())
    query = CaseQuery(sort="name")
    first = list_cases(ctx, query, 2)
    # Another desk opens a case that sorts first, between the two pages.
    early = intake.take_phone_intake(ctx, staff["op2"],
                                     victim(name="あべ はじめ", phone="03-5000-0001"), incident())
    second = list_cases(ctx, query, 2, first[-1].key)
    assert not {r.id for r in first} & {r.id for r in second}  # OFFSET 2 would repeat one
    now = [r.id for r in list_cases(ctx, query, 10)]
    assert now[0] == early.id and [r.id for r in second] == now[3:5]
