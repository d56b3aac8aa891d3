"""The balance-refund programme (残高払戻し): its states and the rules deciding each
application (../shared/spec/balance-refund.md, "What happens to an application").

Pure: no database, no Qt. The services hand in what they know of the member, the
applicant and the compensation side; ``decide`` says which state the application
starts in and why, in the spec's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from app.core.clock import JST
from app.domain.text import email_key, phone_digits, search_key

# The service closed on 30 September 2019 at 24:00: a member who closed the account on
# or before that day had nothing left to refund.
SERVICE_CLOSED_ON = date(2019, 9, 30)
DEFAULT_APPLICATIONS_FROM = date(2019, 10, 1)
DEFAULT_DEADLINE = date(2020, 1, 10)


class RefundState(StrEnum):
    """Where an application stands. The first eight are the spec's import states."""

    DUPLICATE = "duplicate"
    UNMATCHED = "unmatched"
    REFUSED_CLOSED = "refused_closed"
    REFUSED_NO_BALANCE = "refused_no_balance"
    LATE = "late"
    HELD_OVERLAP = "held_overlap"
    CONFIRMED = "confirmed"
    AWAITING_IDENTITY = "awaiting_identity"
    # After the import: an operator's or a supervisor's decision, then the payout.
    REFUSED = "refused"  # identity not confirmed, or a supervisor refused a late one
    AWAITING_METHOD = "awaiting_method"  # a 払出証書 came back unpaid: a new method is needed
    PAID = "paid"

    @property
    def label_ja(self) -> str:
        return _LABELS_JA[self]


_LABELS_JA = {
    RefundState.DUPLICATE: "重複申出",
    RefundState.UNMATCHED: "会員未特定",
    RefundState.REFUSED_CLOSED: "不可（退会済）",
    RefundState.REFUSED_NO_BALANCE: "不可（残高なし）",
    RefundState.LATE: "期限後申出",
    RefundState.HELD_OVERLAP: "補償と重複（保留）",
    RefundState.CONFIRMED: "本人確認済",
    RefundState.AWAITING_IDENTITY: "本人確認待ち",
    RefundState.REFUSED: "払戻不可",
    RefundState.AWAITING_METHOD: "払戻方法の再指定待ち",
    RefundState.PAID: "払戻済",
}

# Why an application was refused, as a code the refusal letter words
# (resources/letters/refund_refusal.toml [reasons]) and the audit trail records:
# code -> (Japanese, English), short. refused_closed and refused_no_balance are their
# own codes; an application refused by a decision (state refused) keeps its code in
# refund_application.refusal_code.
REFUSAL_REASONS: dict[str, tuple[str, str]] = {
    "account_closed": ("サービス終了前に退会済のため、払い戻す残高がない",
                       "the account was closed before the service ended: no balance left"),
    "no_balance": ("サービス終了時点の残高が0円", "the closing balance is 0 yen"),
    "identity_not_confirmed": ("登録されている連絡先で本人確認ができなかった",
                               "identity could not be confirmed through the contact on record"),
    "member_not_found": ("お申出の内容に一致する会員が見つからなかった",
                         "no member matches the application"),
    "late": ("申出期限後のお申出で、払戻しの対象とならなかった",
             "applied after the deadline and not taken in"),
    "compensated": ("残高の全額が補償で返金済のチャージに由来する",
                    "the whole balance came from charges compensation repaid"),
}
# The code a refusal from each state takes unless the decision names another.
REFUSAL_FROM_STATE: dict[str, str] = {
    "awaiting_identity": "identity_not_confirmed", "unmatched": "member_not_found",
    "late": "late", "held_overlap": "compensated",
}


def refusal_code(state: str, stored: str | None) -> str | None:
    """The refusal's code for an application in ``state`` (None when not refused)."""
    if state == "refused_closed":
        return "account_closed"
    if state == "refused_no_balance":
        return "no_balance"
    if state == "refused":
        return stored if stored in REFUSAL_REASONS else "identity_not_confirmed"
    return None


IMPORT_STATES: tuple[RefundState, ...] = tuple(RefundState)[:8]
REFUSED_STATES = frozenset({RefundState.REFUSED_CLOSED, RefundState.REFUSED_NO_BALANCE,
                            RefundState.REFUSED})
# The work lists: who must act on each.
WORK_LISTS: dict[str, RefundState] = {
    "unmatched": RefundState.UNMATCHED,
    "awaiting_identity": RefundState.AWAITING_IDENTITY,
    "late": RefundState.LATE,
    "held_overlap": RefundState.HELD_OVERLAP,
}
SUPERVISOR_STATES = frozenset({RefundState.LATE, RefundState.HELD_OVERLAP})


class Route(StrEnum):
    APP = "app"
    WEB = "web"
    PHONE = "phone"


class Method(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    POSTAL_ORDER = "postal_order"  # ゆうちょ 払出証書


# The channels whose charges compensation reverses or repays, so that part of a closing
# balance may be money compensation already gave back.
OVERLAP_CHANNELS = frozenset({"credit_charge", "debit_charge"})

# How an operator confirmed identity: always through the contact on record.
IDENTITY_HOW = {
    "phone_on_record": ("登録電話番号に架電して確認", "called the phone number on record"),
    "email_on_record": ("登録メールアドレスで確認", "confirmed by the e-mail on record"),
    "letter_to_address": ("登録住所への郵送で確認", "by a letter to the address on record"),
}


@dataclass(frozen=True)
class Member:
    """A member's closing balance and contact on record, as the decision needs them."""

    balance: int
    fraud_charge_balance: int | None
    name_kana: str | None
    phone: str | None
    email: str | None
    birth_date: date | None
    closed_on: date | None
    overlapping_victim: bool  # a compensation victim with a credit or debit charge case


@dataclass(frozen=True)
class Applicant:
    route: Route
    applied_at: datetime
    name_kana: str | None
    phone: str | None
    email: str | None
    birth_date: date | None


@dataclass(frozen=True)
class Decision:
    state: RefundState
    ja: str
    en: str


def deadline_end(deadline: date) -> datetime:
    """The end of the deadline day, Japan time (2020-01-10 24:00 by default)."""
    return datetime.combine(deadline + timedelta(days=1), time(0), tzinfo=JST)


def refundable_amount(balance: int, fraud_charge_balance: int | None) -> int:
    """The balance less the part that came from charges under compensation; never more
    than the balance, never below zero."""
    return max(0, balance - min(balance, fraud_charge_balance or 0))


def identity_matches(member: Member, applicant: Applicant) -> bool:
    """Kana equal after the search folding, the phone digits or the e-mail equal, and
    the birth dates equal where both are given."""
    kana = search_key(applicant.name_kana)
    if not kana or kana != search_key(member.name_kana):
        return False
    phone = phone_digits(applicant.phone)
    mail = email_key(applicant.email)
    contact = (bool(phone) and phone == phone_digits(member.phone)) or (
        bool(mail) and mail == email_key(member.email))
    if not contact:
        return False
    return not (member.birth_date and applicant.birth_date
                and member.birth_date != applicant.birth_date)


def decide(member: Member | None, applicant: Applicant, *, earlier_standing: bool,
           deadline: date) -> Decision:
    """The state an application starts in, checked in the spec's order."""
    if earlier_standing:
        return Decision(RefundState.DUPLICATE,
                        "同じ会員の申出が既にあります（先の申出が有効です）。",
                        "The member already has an application (the earlier one stands).")
    if member is None:
        return Decision(RefundState.UNMATCHED,
                        "会員が見つかりません。オペレーターが会員を特定します。",
                        "No member found: an operator must find the member.")
    if member.closed_on is not None and member.closed_on <= SERVICE_CLOSED_ON:
        return Decision(RefundState.REFUSED_CLOSED,
                        f"{member.closed_on:%Y年%m月%d日}に退会済のため、払い戻す残高はありません。",
                        f"The account was closed on {member.closed_on}: no balance is left.")
    if member.balance == 0:
        return Decision(RefundState.REFUSED_NO_BALANCE, "サービス終了時点の残高が0円です。",
                        "The closing balance is 0 yen.")
    if applicant.applied_at >= deadline_end(deadline):
        return Decision(RefundState.LATE,
                        f"申出期限（{deadline:%Y年%m月%d日}）後の申出です。スーパーバイザーが判断します。",
                        f"Applied after the deadline ({deadline}): a supervisor decides.")
    if member.overlapping_victim and member.fraud_charge_balance is None:
        return Decision(RefundState.HELD_OVERLAP,
                        "補償対象のチャージ被害があり、残高のうち不正チャージ由来の額が不明です。"
                        "スーパーバイザーが判断します。",
                        "The member has a charge under compensation and the balance file does "
                        "not say which part came from it: a supervisor decides.")
    if applicant.route is Route.APP and identity_matches(member, applicant):
        return Decision(RefundState.CONFIRMED, "アプリからの申出で、登録内容と一致しました。",
                        "An app application whose details match the record.")
    return Decision(RefundState.AWAITING_IDENTITY,
                    "登録されている連絡先で本人確認が必要です。",
                    "Identity must be confirmed through the contact on record.")


def parse_route(text: str) -> Route:
    """アプリ / app, Web / web / フォーム, 電話 / phone."""
    key = search_key(text)
    for route, words in _ROUTE_WORDS.items():
        if key in words:
            return route
    raise ValueError(text)


def parse_method(text: str) -> Method:
    """口座振込 / bank_transfer, 払出証書 / postal_order."""
    key = search_key(text).replace("-", "_").replace(" ", "_")
    for method, words in _METHOD_WORDS.items():
        if key in words:
            return method
    raise ValueError(text)


_ROUTE_WORDS = {
    Route.APP: {"app", "あぷり", "7-elevenあぷり"},
    Route.WEB: {"web", "ふぉーむ", "webふぉーむ", "form"},
    Route.PHONE: {"phone", "でんわ", "電話"},
}
_METHOD_WORDS = {
    Method.BANK_TRANSFER: {"bank_transfer", "口座振込", "振込", "banktransfer"},
    Method.POSTAL_ORDER: {"postal_order", "払出証書", "ゆうちょ払出証書", "postalorder"},
}


@dataclass(frozen=True)
class Overlap:
    """One person's money in both programmes, as reconciliation weighs it.

    Compensation makes the person's losses good (``losses``: what it decided for each
    case, paid or to pay); the refund gives back the person's own part of the balance.
    What the two pay together may not pass the losses plus the balance, less the part
    of the balance that came from the charges under compensation (it is in the losses
    already). Where the balance file does not say that part, as much of the balance as
    the credit and debit charges could explain is taken to be it.
    """

    charges: int  # the person's credit and debit charge claims under compensation
    losses: int  # everything compensation decided to make good, paid or to pay
    balance: int  # the closing balance
    fraud_charge_balance: int | None
    compensation: int  # what compensation has paid and will pay
    refund: int  # what the refund has paid and will pay

    @property
    def from_charges(self) -> int:
        if self.fraud_charge_balance is None:
            return min(self.balance, self.charges)
        return min(self.balance, self.fraud_charge_balance)

    @property
    def allowed(self) -> int:
        return self.losses + self.balance - self.from_charges

    @property
    def excess(self) -> int:
        return max(0, self.compensation + self.refund - self.allowed)
