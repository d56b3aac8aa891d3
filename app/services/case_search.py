"""The case list: paged, filtered and sorted in SQL, never in memory.

Pages are read by key, not by OFFSET: each page starts after the sort key and id of
the last row of the page before (``after=row.key``), so rows another desk adds or
changes meanwhile never shift a page nor show a row twice; ties on the sort key are
broken by case id, in the list's direction.

Search text is read the way an operator types it: a case number, a phone
number in any format, a member ID, or a name or its kana in any script. Name
and kana match from the start (surname first), through a range on the folded
key so that the index serves it on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, or_, select, tuple_
from sqlalchemy.sql import Select

from app.core.clock import today_jst
from app.core.errors import ValidationError
from app.domain.case_number import one_digit_away, parse_case_number
from app.domain.channels import Channel, PayoutKind
from app.domain.deadlines import (
    CREDIT_DEADLINE_STATUSES,
    DeadlineFlag,
    credit_due_horizon,
    credit_flag,
)
from app.domain.states import Status
from app.domain.text import control_character, mask_tail, phone_digits, search_key
from app.services import settings
from app.services.context import AppContext
from app.services.letters import normalise_code
from app.storage.models import Case, Letter, PayoutDetail, Victim

SORTABLE = {
    "case_number": Case.case_number,
    "updated_at": Case.updated_at,
    "claimed_amount": Case.claimed_amount,
    "status": Case.status,
    "channel": Case.channel,
    "name": Victim.name_key,
}
# From this many phone digits a search matches few enough rows to fetch them first and
# sort after; measured on the million-case demo (3-4 digits: walking in order wins).
MIN_NARROW_DIGITS = 5
_TOP = "\U0010ffff"  # above every folded character: the end of a prefix range
MAX_SEARCH_CHARS = 200  # as long as the longest stored name: a longer search finds nothing


@dataclass(frozen=True)
class CaseQuery:
    text: str = ""
    channel: Channel | None = None
    status: Status | None = None
    overdue_only: bool = False
    sort: str = "case_number"
    descending: bool = False


@dataclass(frozen=True)
class CaseRow:
    id: int
    case_number: str
    name: str
    name_kana: str | None
    channel: Channel
    status: Status
    claimed_amount: int
    verified_amount: int | None
    paid_amount: int | None
    phone_masked: str
    account_masked: str
    billing_confirmation_date: date | None
    updated_at: datetime
    deadline: DeadlineFlag = DeadlineFlag.NONE
    sort_value: Any = None  # the value the list is sorted on (a name's folded key...)

    @property
    def key(self) -> tuple[Any, int]:
        """Where the next page starts: ``list_cases(..., after=row.key)``."""
        return (self.sort_value, self.id)


CaseKey = tuple[Any, int]


def _prefix(column, key: str):
    return and_(column >= key, column < key + _TOP)


def search_condition(text: str):
    """The WHERE clause for what the operator typed, or None for no filter.

    Raises ValidationError for a control character (PostgreSQL refuses a NUL, no driver
    encodes a lone surrogate) or a search longer than any stored name.
    """
    text = unicodedata.normalize("NFKC", _checked(text or "")).strip()
    if not text:
        return None
    number = parse_case_number(text)
    if number:
        return Case.case_number == number
    if text.upper().startswith("H-") or text.upper().startswith("H0"):
        # Escaped: "H-%" or "H-_" is what the operator typed, not a pattern.
        return Case.case_number.startswith(text.upper(), autoescape=True)
    conditions = []
    code = normalise_code(text)
    if code:  # a letter code read out by a caller finds the case it was sent about
        conditions.append(Case.id.in_(select(Letter.case_id).where(Letter.code == code)))
    digits = phone_digits(text)
    if digits and len(digits) >= 3 and digits == text.replace("-", "").replace(" ", ""):
        conditions.append(_prefix(Victim.phone_digits, digits))
    conditions.append(Victim.member_id == text)
    key = search_key(text)
    if key:
        conditions.append(_prefix(Victim.name_key, key))
        conditions.append(_prefix(Victim.kana_key, key))
    return or_(*conditions)


def _checked(text: str) -> str:
    char = control_character(text)
    if char is not None:
        raise ValidationError(
            "text",
            f"検索語に制御文字（U+{ord(char):04X}）が含まれています。入力し直してください。",
            f"The search holds a control character (U+{ord(char):04X}): type it again.")
    if len(text.strip()) > MAX_SEARCH_CHARS:
        raise ValidationError(
            "text", f"検索語は{MAX_SEARCH_CHARS}文字以内で入力してください。",
            f"A search is at most {MAX_SEARCH_CHARS} characters.")
    return text


def _is_phone_search(text: str) -> bool:
    text = unicodedata.normalize("NFKC", text or "").strip()
    digits = phone_digits(text)
    return len(digits) >= MIN_NARROW_DIGITS and digits == text.replace("-", "").replace(" ", "")


def _sort_column(query: CaseQuery, condition):
    column = SORTABLE.get(query.sort, Case.case_number)
    if condition is not None and _is_phone_search(query.text):
        # Phone digits match few rows: find them by the phone index, then sort. Given an
        # indexed ORDER BY and bound parameters, SQLite would rather walk the whole list
        # in order and test every row (half a second at a million cases). A name prefix
        # can match a tenth of the list, where walking in order is the quicker plan.
        column = column + 0 if query.sort == "claimed_amount" else column.concat("")
    return column


def build_query(query: CaseQuery, due_horizon: date | None = None,
                after: CaseKey | None = None) -> Select:
    """The list's SQL. ``due_horizon``: the latest billing date that is already due;
    ``after``: the key of the last row already shown (the next page starts after it)."""
    condition = search_condition(query.text)
    column = _sort_column(query, condition)
    stmt = (
        select(Case.id, Case.case_number, Victim.name, Victim.name_kana, Case.channel,
               Case.status, Case.claimed_amount, Case.verified_amount, Case.paid_amount,
               Victim.phone, PayoutDetail.account_number, PayoutDetail.nanaco_number,
               PayoutDetail.billing_confirmation_date, Case.updated_at, PayoutDetail.kind,
               column.label("sort_value"))
        .join(Victim, Victim.id == Case.victim_id)
        .outerjoin(PayoutDetail, PayoutDetail.case_id == Case.id)
    )
    if condition is not None:
        stmt = stmt.where(condition)
    if query.channel:
        stmt = stmt.where(Case.channel == query.channel.value)
    if query.status:
        stmt = stmt.where(Case.status == query.status.value)
    if query.overdue_only and due_horizon is not None:
        stmt = stmt.where(
            Case.channel == Channel.CREDIT_CHARGE.value,
            PayoutDetail.kind == PayoutKind.CARD_CANCELLATION.value,
            Case.status.in_([s.value for s in CREDIT_DEADLINE_STATUSES]),
            PayoutDetail.billing_confirmation_date <= due_horizon,
        )
    if after is not None:
        # (sort value, id) past the last row, in the list's direction: one row-value
        # comparison, which both databases answer from the sort column's index.
        value, case_id = after
        key = tuple_(column, Case.id)
        start = tuple_(bindparam(None, value, type_=column.type), bindparam(None, case_id))
        stmt = stmt.where(key < start if query.descending else key > start)
    order = column.desc() if query.descending else column.asc()
    return stmt.order_by(order, Case.id.desc() if query.descending else Case.id)


def _row(values: tuple, today: date, due_days: int) -> CaseRow:
    (case_id, number, name, kana, channel, status, claimed, verified, paid, phone, account,
     nanaco, billing, updated, kind, sort_value) = values
    # Only a charge still to be cancelled by the card company has this deadline.
    card = kind == PayoutKind.CARD_CANCELLATION.value and channel == Channel.CREDIT_CHARGE.value
    flag = credit_flag(Status(status), billing if card else None, today, due_days)
    return CaseRow(
        id=case_id, case_number=number, name=name, name_kana=kana, channel=Channel(channel),
        status=Status(status), claimed_amount=claimed, verified_amount=verified,
        paid_amount=paid, phone_masked=mask_tail(phone_digits(phone), 4),
        account_masked=mask_tail(account, 3) if account else mask_tail(nanaco, 4),
        billing_confirmation_date=billing, updated_at=updated, deadline=flag,
        sort_value=sort_value,
    )


def list_cases(ctx: AppContext, query: CaseQuery, limit: int = 100,
               after: CaseKey | None = None) -> list[CaseRow]:
    """One page of the case list (the first, or the one after the row whose ``key`` is
    ``after``), each row flagged with its credit deadline."""
    today = today_jst(ctx.clock)
    with ctx.db.read() as session:
        due_days = settings.load(session).credit_due_business_days
        horizon = credit_due_horizon(today, due_days)
        stmt = build_query(query, horizon, after).limit(limit)
        return [_row(values, today, due_days) for values in session.execute(stmt).all()]


def numbers_near(ctx: AppContext, text: str) -> list[str]:
    """For a case number whose check digit fails: the existing cases one digit away."""
    candidates = one_digit_away(text)
    if not candidates:
        return []
    with ctx.db.read() as session:
        found = session.execute(select(Case.case_number)
                                .where(Case.case_number.in_(candidates))).scalars()
        return sorted(found)
