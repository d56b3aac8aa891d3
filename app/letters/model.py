"""The letters engine's input and output: plain frozen dataclasses, no database, no Qt.

The caller (a service) turns a case into a :class:`LetterData`, generates the
letter code, and records the :class:`BatchResult` on the cases.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Literal

from app.core.errors import ValidationError
from app.domain.case_number import parse_case_number
from app.domain.channels import DEFAULT_PAYOUT_KIND, Channel, PayoutKind, allowed_payout_kinds
from app.domain.money import check_yen
from app.domain.settings import Settings
from app.domain.text import mask_tail
from app.letters.errors import LetterDataError

DateStyle = Literal["western", "era"]
ACCOUNT_TYPE_LABELS = {"ordinary": "普通", "current": "当座", "savings": "貯蓄"}
_LETTER_CODE = re.compile(r"^[0-9A-Z][0-9A-Z-]{2,15}$")
# The first third of an A4 sheet folded for a 長形3号 envelope.
FIRST_FOLD_MM = 99.0
A4_WIDTH_MM, A4_HEIGHT_MM = 210.0, 297.0
_DEFAULTS = Settings()


COMPENSATION, REFUND = "compensation", "refund"  # the two programmes


class LetterKind(StrEnum):
    GUIDANCE = "guidance"  # 補償手続きのご案内 (+ page 2: 補償申請書)
    DEFICIENCY = "deficiency"  # 書類不備のご連絡
    PAYMENT_NOTICE = "payment_notice"  # 補償完了のお知らせ
    # The balance-refund programme's: a refund application's, not a case's.
    REFUND_CONFIRMATION = "refund_confirmation"  # 払戻金額確定のお知らせ
    REFUND_REFUSAL = "refund_refusal"  # 残高払戻しのお申出についてのご連絡
    REFUND_PAYMENT = "refund_payment"  # 残高払戻しのお知らせ (transfer, or 払出証書)

    @property
    def programme(self) -> str:
        """"compensation" (a case's letter) or "refund" (a refund application's)."""
        return REFUND if self.value.startswith("refund_") else COMPENSATION


REFUND_KINDS = tuple(k for k in LetterKind if k.programme == REFUND)


@dataclass(frozen=True)
class LetterSettings:
    """Everything about letters that an administrator may change.

    The window is measured on the unfolded A4 sheet from its top-left corner, in
    millimetres; the default suits common 長形3号 window envelopes (window about
    90 x 45 mm, 20 mm from the left and 15 mm from the top of the folded letter).
    Print the alignment sheet (``render_alignment_sheet``) to check a new stock.
    """

    # The defaults are the programme settings' own (one place to change them).
    organization: str = _DEFAULTS.letter_organization
    support_centre: str = _DEFAULTS.letter_support_centre
    hotline: str = _DEFAULTS.hotline
    hotline_hours: str = _DEFAULTS.letter_hotline_hours
    # Optional return address, printed in the sender block and on the claim form.
    sender_postal_code: str = _DEFAULTS.letter_sender_postal_code
    sender_address: str = _DEFAULTS.letter_sender_address
    date_style: DateStyle = _DEFAULTS.letter_date_style
    window_x_mm: float = float(_DEFAULTS.letter_window_x_mm)
    window_y_mm: float = float(_DEFAULTS.letter_window_y_mm)
    window_width_mm: float = float(_DEFAULTS.letter_window_width_mm)
    window_height_mm: float = float(_DEFAULTS.letter_window_height_mm)
    # None: the bundled subset; or the path of the original ipamjm.ttf (IPA Font License 3.1(2)).
    fallback_font: Path | None = None
    # None: resources/letters.
    wording_dir: Path | None = None
    # Letters per intermediate PDF in a batch: bounds memory for big batches.
    chunk_letters: int = 500

    def __post_init__(self) -> None:
        if self.date_style not in ("western", "era"):
            raise ValidationError("date_style", "日付の形式は western か era です。",
                                  f"date_style must be 'western' or 'era', not {self.date_style!r}")
        x, y = self.window_x_mm, self.window_y_mm
        w, h = self.window_width_mm, self.window_height_mm
        if not (w >= 50 and h >= 25 and x >= 5 and y >= 5 and x + w <= A4_WIDTH_MM - 60
                and y + h <= FIRST_FOLD_MM - 10):
            raise ValidationError(
                "window", "封筒の窓の位置・大きさが用紙の宛名欄に収まりません。",
                "the envelope window must be at least 50 x 25 mm, inside the top third of "
                "the sheet, and leave room for the sender block on the right",
            )
        if self.chunk_letters < 1:
            raise ValidationError("chunk_letters", "1以上を指定してください。",
                                  "chunk_letters must be at least 1")

    @classmethod
    def from_settings(cls, s: Settings) -> LetterSettings:
        """What the administrator set in the programme settings."""
        return cls(
            organization=s.letter_organization, support_centre=s.letter_support_centre,
            hotline=s.hotline, hotline_hours=s.letter_hotline_hours,
            sender_postal_code=s.letter_sender_postal_code,
            sender_address=s.letter_sender_address, date_style=s.letter_date_style,
            window_x_mm=float(s.letter_window_x_mm), window_y_mm=float(s.letter_window_y_mm),
            window_width_mm=float(s.letter_window_width_mm),
            window_height_mm=float(s.letter_window_height_mm),
        )


@dataclass(frozen=True)
class Recipient:
    name: str  # printed exactly as given, followed by 様
    postal_code: str  # '1020084' or '102-0084'; printed 〒102-0084
    address: str  # may hold '\n' between lines
    building: str = ""  # building / room, printed on its own line

    @property
    def postal_code_display(self) -> str:
        digits = re.sub(r"\D", "", self.postal_code.translate(_FULL_WIDTH_DIGITS))
        return f"{digits[:3]}-{digits[3:]}" if len(digits) == 7 else self.postal_code


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９－", "0123456789-")


@dataclass(frozen=True)
class Incident:
    occurred_at: date
    channel: Channel
    amount: int  # whole yen
    merchant: str | None = None

    def __post_init__(self) -> None:
        _coerce(self, "channel", Channel)


@dataclass(frozen=True)
class BankPayout:
    bank_name: str
    branch_name: str
    account_type: str  # 'ordinary' | 'current' | 'savings' or the Japanese label
    account_number: str  # printed masked: only the last 3 digits
    holder_kana: str = ""

    kind = PayoutKind.BANK_ACCOUNT

    @property
    def account_type_label(self) -> str:
        return ACCOUNT_TYPE_LABELS.get(self.account_type, self.account_type)

    @property
    def masked_account(self) -> str:
        return mask_tail(self.account_number, 3)


@dataclass(frozen=True)
class NanacoPayout:
    nanaco_number: str  # printed masked: only the last 4 digits

    kind = PayoutKind.NANACO

    @property
    def masked_number(self) -> str:
        """'1234567890123456' -> '**** **** **** 3456' (groups of four, as on the card)."""
        masked = mask_tail(self.nanaco_number.replace(" ", "").replace("-", ""), 4)
        return " ".join(masked[i:i + 4] for i in range(0, len(masked), 4))


@dataclass(frozen=True)
class CardPayout:
    issuer: str
    last4: str
    billing_confirmation_date: date | None = None
    payment_date: date | None = None

    kind = PayoutKind.CARD_CANCELLATION


@dataclass(frozen=True)
class PostalOrderPayout:
    """A refund paid by ゆうちょ 払出証書: before it is issued (a confirmation says it will
    come), or issued, with its number (printed masked) and the day to cash it by."""

    certificate_number: str = ""
    cash_by: date | None = None

    kind = "postal_order"

    @property
    def masked_number(self) -> str:
        return mask_tail(self.certificate_number, 4)


Payout = BankPayout | NanacoPayout | CardPayout | PostalOrderPayout


def payout_from_details(details) -> Payout:
    """Build a Payout from app.domain.payout.PayoutDetails (duck-typed: no import cycle)."""
    kind = PayoutKind(details.kind)
    if kind is PayoutKind.BANK_ACCOUNT:
        return BankPayout(details.bank_name or "", details.branch_name or "",
                          details.account_type or "", details.account_number or "",
                          details.holder_kana or "")
    if kind is PayoutKind.NANACO:
        return NanacoPayout(details.nanaco_number or "")
    return CardPayout(details.card_issuer or "", details.card_last4 or "",
                      details.billing_confirmation_date, details.payment_date)


@dataclass(frozen=True)
class LetterData:
    """One letter to print. Which fields matter depends on ``kind``:

    - guidance: ``incidents`` (at least one); ``payout`` optional (a credit card
      already known is shown on the claim form; a BankPayout on a credit_charge
      case means the charge was billed and is refunded by transfer);
      ``reply_by`` optional.
    - deficiency: ``deficiency_items`` (codes from resources/letters/deficiency.toml),
      ``deficiency_note`` optional free text, ``reply_by`` optional.
    - payment_notice: ``paid_amount``, ``paid_date`` and ``payout`` (how it was paid).

    A refund letter belongs to an application, not a case: ``case_number`` is "" and
    ``channel`` None, and ``application_id`` (申出番号) stands where the case number is.

    - refund_confirmation: ``balance``, ``refund_amount``, ``from_charges`` (the part of
      the balance compensation gave back, 0 or None when none), ``payout`` (BankPayout,
      or PostalOrderPayout not yet issued), ``applied_on``.
    - refund_refusal: ``refusal_reason`` (a code of app.domain.refunds.REFUSAL_REASONS,
      worded by refund_refusal.toml), ``closed_on`` for account_closed, ``applied_on``.
    - refund_payment: ``paid_amount`` and ``payout``: a BankPayout with ``paid_date``,
      or an issued PostalOrderPayout (number and the day to cash it by).
    """

    kind: LetterKind
    letter_code: str  # generated by the caller, unique; 3-16 of A-Z 0-9 and '-'
    case_number: str  # H-0001234-7; "" on a refund letter
    channel: Channel | None
    recipient: Recipient
    issue_date: date
    incidents: tuple[Incident, ...] = ()
    claimed_total: int | None = None  # None: the sum of the incidents
    payout: Payout | None = None
    deficiency_items: tuple[str, ...] = ()
    deficiency_note: str = ""
    paid_amount: int | None = None
    paid_date: date | None = None
    reply_by: date | None = None
    # The balance-refund programme's letters (see above).
    application_id: str = ""
    applied_on: date | None = None
    balance: int | None = None
    from_charges: int | None = None
    refund_amount: int | None = None
    refusal_reason: str = ""
    closed_on: date | None = None

    def __post_init__(self) -> None:
        """Plain strings from the database ('guidance', 'debit_charge') are accepted."""
        _coerce(self, "kind", LetterKind)
        if self.channel is not None:
            _coerce(self, "channel", Channel)
        for name in ("incidents", "deficiency_items"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @property
    def programme(self) -> str:
        return self.kind.programme if isinstance(self.kind, LetterKind) else COMPENSATION

    @property
    def reference(self) -> str:
        """The number the letter is filed under: the case number, or on a refund letter
        the application number (申出番号)."""
        return self.application_id if self.programme == REFUND else self.case_number

    @property
    def payout_kind(self) -> PayoutKind:
        if self.payout is not None:
            return self.payout.kind
        return DEFAULT_PAYOUT_KIND[self.channel]

    @property
    def total(self) -> int:
        if self.claimed_total is not None:
            return self.claimed_total
        return sum(i.amount for i in self.incidents)

    def validate(self) -> None:
        """Raise LetterDataError when the data cannot make this kind of letter."""
        if not isinstance(self.kind, LetterKind):
            _bad("kind", "文書の種類が不明です。", f"unknown kind {self.kind!r}")
        if not _LETTER_CODE.match(self.letter_code or ""):
            _bad("letter_code", "文書番号は英大文字・数字・ハイフンの3〜16文字です。",
                 f"letter code {self.letter_code!r} must be 3-16 of A-Z, 0-9 and '-'")
        if self.programme == REFUND:
            self._validate_refund()
        elif parse_case_number(self.case_number or "") != self.case_number:
            _bad("case_number", f"案件番号 {self.case_number} が正しくありません。",
                 f"{self.case_number!r} is not a canonical case number")
        if not self.recipient.name.strip() or not self.recipient.address.strip():
            _bad("recipient", "宛名（氏名・住所）がありません。", "recipient name/address missing")
        if len(re.sub(r"\D", "", self.recipient.postal_code_display)) != 7:
            _bad("recipient.postal_code", "郵便番号は7桁です。",
                 f"postal code {self.recipient.postal_code!r} is not 7 digits")
        if self.programme == COMPENSATION and self.payout is not None and (
                self.payout.kind not in allowed_payout_kinds(self.channel)):
            _bad("payout", f"{self.channel.label_ja}の案件にこの支払方法は使えません。",
                 f"a {self.channel} case cannot be paid by {self.payout.kind}")
        for index, incident in enumerate(self.incidents):
            try:
                check_yen(incident.amount, what=f"incidents[{index}].amount")
            except (TypeError, ValueError) as exc:
                _bad(f"incidents[{index}].amount", "被害金額が正しくありません。", str(exc))
        if self.incidents and self.claimed_total is not None and self.claimed_total != sum(
                i.amount for i in self.incidents):
            _bad("claimed_total", "請求金額が被害金額の合計と一致しません。",
                 "claimed_total differs from the sum of the incidents")
        if self.kind is LetterKind.GUIDANCE and not self.incidents:
            _bad("incidents", "被害の記録がないため案内を作成できません。",
                 "a guidance letter needs at least one incident")
        if self.kind is LetterKind.DEFICIENCY and not self.deficiency_items:
            _bad("deficiency_items", "不備の項目が選ばれていません。",
                 "a deficiency letter needs at least one item")
        if self.kind is LetterKind.PAYMENT_NOTICE:
            if self.paid_amount is None or self.paid_date is None or self.payout is None:
                _bad("paid_amount", "補償金額・補償日・補償方法がそろっていません。",
                     "a payment notice needs paid_amount, paid_date and payout")
            try:
                check_yen(self.paid_amount, what="paid_amount")
            except (TypeError, ValueError) as exc:
                _bad("paid_amount", "補償金額が正しくありません。", str(exc))


    def _validate_refund(self) -> None:
        reference = (self.application_id or "").strip()
        if not reference or len(reference) > 64 or reference != self.application_id:
            _bad("application_id", "申出番号がありません。",
                 "a refund letter needs its application number")
        if self.case_number or self.incidents:
            _bad("case_number", "払戻しの書面は案件ではなく申出のものです。",
                 "a refund letter belongs to an application, not to a case")
        if self.kind is LetterKind.REFUND_CONFIRMATION:
            for name in ("balance", "refund_amount"):
                try:
                    check_yen(getattr(self, name), what=name)
                except (TypeError, ValueError) as exc:
                    _bad(name, "残高・払戻金額が正しくありません。", str(exc))
            if not 0 < self.refund_amount <= self.balance or self.refund_amount + (
                    self.from_charges or 0) != self.balance:
                _bad("refund_amount", "払戻金額が残高と一致しません。",
                     "the refund must be the balance less the part compensation gave back")
            if not isinstance(self.payout, BankPayout | PostalOrderPayout):
                _bad("payout", "払戻方法がありません。", "a confirmation needs the method")
        elif self.kind is LetterKind.REFUND_REFUSAL:
            if not self.refusal_reason:
                _bad("refusal_reason", "払戻不可の理由がありません。",
                     "a refusal letter needs its reason")
        elif self.kind is LetterKind.REFUND_PAYMENT:
            try:
                check_yen(self.paid_amount, what="paid_amount")
            except (TypeError, ValueError) as exc:
                _bad("paid_amount", "払戻金額が正しくありません。", str(exc))
            if not self.paid_amount:
                _bad("paid_amount", "払戻金額がありません。", "nothing was refunded")
            p = self.payout
            if isinstance(p, BankPayout):
                if self.paid_date is None:
                    _bad("paid_date", "振込日がありません。", "a transfer notice needs its date")
            elif isinstance(p, PostalOrderPayout):
                if not p.certificate_number.strip() or p.cash_by is None:
                    _bad("payout", "払出証書の番号・換金期限がありません。",
                         "a 払出証書 notice needs the certificate number and its cash-by day")
            else:
                _bad("payout", "払戻方法がありません。", "a payment notice needs the method")


def _coerce(obj: object, name: str, enum: type) -> None:
    value = getattr(obj, name)
    if not isinstance(value, enum):
        # an unknown value stays as it is: validate() refuses it, naming the field
        with contextlib.suppress(ValueError):
            object.__setattr__(obj, name, enum(value))


def _bad(field_name: str, ja: str, en: str) -> None:
    raise LetterDataError(field_name, ja, en)


@dataclass(frozen=True)
class RenderedLetter:
    case_number: str  # the letter's reference: the case number, or a refund's 申出番号
    letter_code: str
    kind: LetterKind
    pages: int
    first_page: int  # 1-based page of the batch PDF where this letter starts (1 per case)
    sha256: str  # of this letter's file (per case) or of the batch file
    path: Path  # the batch PDF, or this letter's own file


@dataclass(frozen=True)
class RefusedLetter:
    case_number: str  # the letter's reference, as RenderedLetter
    letter_code: str
    kind: LetterKind | str
    reason: str  # Japanese / English, names the character and its U+ code point
    field: str | None = None
    character: str | None = None
    codepoint: str | None = None  # 'U+E000'
    ja: str = ""  # the reason in one language, for the screen
    en: str = ""


@dataclass(frozen=True)
class BatchResult:
    out: Path | None  # the batch PDF, or per_case_dir; None when nothing was written
    rendered: tuple[RenderedLetter, ...] = ()
    refused: tuple[RefusedLetter, ...] = ()
    total_pages: int = 0
    sha256: str | None = None  # of the batch PDF (None per case or when nothing written)
    cancelled: bool = False
    files: tuple[Path, ...] = field(default=())  # every file written
