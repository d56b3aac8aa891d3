"""Programme settings and their defaults. Stored in the database, changed by an
administrator, every change audited (see app.services.settings)."""

from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from app.core.errors import ValidationError
from app.domain.zengin import to_zengin_kana


@dataclass(frozen=True)
class Settings:
    outreach_start: date = date(2019, 8, 19)
    hotline: str = "0120-192-044"
    incident_ceiling: int = 1_000_000
    failed_attempts_before_letter: int = 3
    # A contact on record for less than this cannot confirm a payout change:
    # an address given in the same call is not "on record".
    contact_settle_hours: int = 72
    # A payout-details change this many hours or less before approval is flagged
    # as suspicious (app.services.suspicion).
    suspicious_payout_change_hours: int = 48
    credit_due_business_days: int = 3
    programme_victims: int = 808
    programme_total_yen: int = 38_615_473
    # Outreach queue and deadlines (app.services.queue, app.services.dashboard).
    queue_hold_minutes: int = 15
    # A case just attempted (no answer, wrong number) is not offered again before this.
    queue_retry_minutes: int = 120
    letter_unanswered_days: int = 14
    documents_reminder_days: int = 14
    payment_late_business_days: int = 5
    # Letters (app.services.letters): the sender block, the date style
    # ('western' or 'era') and the envelope window on the A4 sheet, in mm.
    letter_organization: str = "株式会社セブン・ペイ"
    letter_support_centre: str = "7pay 補償受付センター"
    letter_hotline_hours: str = "24時間・年中無休"
    letter_sender_postal_code: str = ""
    letter_sender_address: str = ""
    letter_date_style: str = "western"
    letter_window_x_mm: int = 20
    letter_window_y_mm: int = 15
    letter_window_width_mm: int = 90
    letter_window_height_mm: int = 45
    # Payouts (app.services.payouts): the sender of the 総合振込 file, as the bank
    # registered it (company code, kana name, paying account: 'ordinary', 'current'
    # or 'other', the header's 1, 2 or 9), the line ends the bank wants ('crlf', 'lf'
    # or 'none') and the business days from building a batch to its transfer date.
    zengin_company_code: str = ""
    zengin_company_name: str = ""
    zengin_bank_code: str = ""
    zengin_branch_code: str = ""
    zengin_account_type: str = "ordinary"
    zengin_account_number: str = ""
    zengin_line_end: str = "crlf"
    zengin_lead_business_days: int = 2
    # Sign-in (app.ui.idle_lock): minutes without input before the window locks.
    idle_lock_minutes: int = 10
    # Sign-in (app.services.operators): 'required' asks operators for an authenticator
    # code at every sign-in, as supervisors and administrators always are; 'relaxed'
    # lets operators without one sign in with the password alone (the dashboard says so).
    operator_second_factor: str = "required"
    # The balance-refund programme's own window (app.domain.refunds): applications from
    # this day; after the deadline day (24:00 Japan time) a supervisor decides.
    refund_applications_from: date = date(2019, 10, 1)
    refund_deadline: date = date(2020, 1, 10)

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("outreach_start", "refund_applications_from", "refund_deadline"):
            data[name] = getattr(self, name).isoformat()
        return data


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def parse_setting(key: str, value: Any) -> Any:
    """Turn a stored or typed value into the setting's type, or refuse it."""
    if key not in SETTING_NAMES:
        raise ValidationError(key, f"不明な設定項目です: {key}", f"Unknown setting: {key}")
    if key in SENDER_CHECKS:
        return SENDER_CHECKS[key](key, value)
    default = getattr(Settings(), key)
    try:
        if isinstance(default, date):
            return value if isinstance(value, date) else date.fromisoformat(str(value))
        if isinstance(default, bool):
            return bool(value)
        if isinstance(default, int):
            number = int(value)
            if number < 0 or str(number) != str(value).strip().lstrip("+"):
                raise ValueError(value)
            if number < 1 and key in AT_LEAST_ONE:
                raise ValueError(value)
            return number
        if key in CHOICES:
            return _choice(key, str(value))
        return str(value)
    except (TypeError, ValueError) as exc:
        ja, en = LABELS.get(key, (f"設定 {key}", key))
        raise ValidationError(
            key, f"{ja}の値が正しくありません: {value}", f"Bad value for {en}: {value}"
        ) from exc


# Settings that take one of a few words: refused when saved, not when a letter batch
# or a transfer file needs them.
CHOICES = {
    "letter_date_style": ("western", "era"),
    "zengin_line_end": ("crlf", "lf", "none"),
    # The header's 預金種目 is 1, 2 or 9: a savings (貯蓄, 4) account cannot send.
    "zengin_account_type": ("ordinary", "current", "other"),
    "operator_second_factor": ("required", "relaxed"),
}


def _choice(key: str, value: str) -> str:
    word = value.strip().lower()
    if word not in CHOICES[key]:
        options = " / ".join(CHOICES[key])
        ja, en = LABELS.get(key, (f"設定 {key}", key))
        savings = (key, word) == ("zengin_account_type", "savings")  # saved by older versions
        why_ja = "（貯蓄預金は振込元にできません）" if savings else ""
        why_en = " (a savings account cannot send)" if savings else ""
        raise ValidationError(key, f"{ja}は {options} のいずれかです{why_ja}: {value}",
                              f"{en} must be one of {options}{why_en}: {value}")
    return word


# -- the sender of the 総合振込 file -----------------------------------------------------

# The labels the settings page shows (app.ui.settings_page.LABELS and its Japanese
# catalog; tests/ui/test_settings_page.py keeps them equal), so that a refusal names
# a setting as the administrator sees it.
LABELS = {
    "zengin_company_code": ("総合振込：委託者コード", "Transfer file: company code"),
    "zengin_company_name": ("総合振込：委託者名（カナ）", "Transfer file: company name (kana)"),
    "zengin_bank_code": ("総合振込：仕向銀行コード", "Transfer file: bank code"),
    "zengin_branch_code": ("総合振込：仕向支店コード", "Transfer file: branch code"),
    "zengin_account_type": ("総合振込：預金種目", "Transfer file: account type"),
    "zengin_account_number": ("総合振込：口座番号", "Transfer file: account number"),
    "zengin_line_end": ("総合振込：改行", "Transfer file: line ends"),
    "zengin_lead_business_days": ("振込指定日：何営業日後", "Transfer date: business days ahead"),
}
# Widths of the header's number fields (委託者コード N(10), 仕向銀行番号 N(4),
# 仕向支店番号 N(3), 口座番号 N(7)) and of 依頼人名 C(40).
SENDER_DIGITS = {"zengin_company_code": 10, "zengin_bank_code": 4, "zengin_branch_code": 3,
                 "zengin_account_number": 7}
COMPANY_NAME_WIDTH = 40
# What a transfer file cannot go without (the account type and line ends have defaults).
SENDER_REQUIRED = ("zengin_company_code", "zengin_company_name", "zengin_bank_code",
                   "zengin_branch_code", "zengin_account_number")


def _sender_digits(key: str, value: Any) -> str:
    """Exactly the width's digits (full-width digits are read as digits); empty clears."""
    text = unicodedata.normalize("NFKC", str(value)).strip()
    width = SENDER_DIGITS[key]
    if text and not (text.isascii() and text.isdigit() and len(text) == width):
        ja, en = LABELS[key]
        raise ValidationError(key, f"{ja}は{width}桁の数字で入力してください: {value}",
                              f"{en} must be {width} digits: {value}")
    return text


def _company_name(key: str, value: Any) -> str:
    """Stored as typed, once it converts to Zengin kana within 40 half-width characters."""
    text = str(value).strip()
    if not text:
        return ""
    ja, en = LABELS[key]
    converted = to_zengin_kana(text, key, ja, en)
    if len(converted) > COMPANY_NAME_WIDTH:
        raise ValidationError(
            key, f"{ja}は半角{COMPANY_NAME_WIDTH}文字以内にしてください"
            f"（濁点・半濁点も1文字）: {converted}（{len(converted)}文字）",
            f"{en} must fit {COMPANY_NAME_WIDTH} half-width characters (a voiced mark is "
            f"one): {converted} ({len(converted)})")
    return text


SENDER_CHECKS = {
    **{key: _sender_digits for key in SENDER_DIGITS},
    "zengin_company_name": _company_name,
    "zengin_account_type": lambda key, value: _choice(key, str(value)),
    "zengin_line_end": lambda key, value: _choice(key, str(value)),
}


def sender_problems(conf: Settings) -> list[tuple[str, str]]:
    """Every sender setting a transfer file cannot be written with, as (ja, en) lines
    naming it by its label: missing, or stored before these checks and invalid."""
    problems = []
    for key in (key for key in LABELS if key in SENDER_CHECKS):  # in the page's order
        value = getattr(conf, key)
        ja, en = LABELS[key]
        if key in SENDER_REQUIRED and not str(value).strip():
            problems.append((f"{ja}が未設定です", f"{en} is not set"))
            continue
        try:
            parse_setting(key, value)
        except ValidationError as exc:
            problems.append((exc.ja, exc.en))
    return problems


# Counts that make no sense at zero (a hold of no time, a letter after no attempt).
AT_LEAST_ONE = frozenset({"failed_attempts_before_letter", "queue_hold_minutes",
                          "idle_lock_minutes",
                          "programme_victims", "programme_total_yen"})


# The largest number a setting takes when changed (the settings page's limit too).
MAXIMUM_NUMBER = 2_000_000_000
# A span of time is added to today's date or walked a business day at a time: past
# these the calendar overflows (year 9999) or a walk runs for ever. Each is more than
# any programme needs (ten years of days, a year of hours, minutes or business days).
SPAN_MAXIMUM = {"_business_days": 250, "_days": 3_650, "_hours": 8_760,
                "_minutes": 525_600}


def maximum_of(key: str) -> int:
    """The largest value a number setting takes when changed."""
    for ending, most in SPAN_MAXIMUM.items():
        if key.endswith(ending):
            return most
    return MAXIMUM_NUMBER


def parse_new_setting(key: str, value: Any) -> Any:
    """``parse_setting`` for a value being saved: a number also at most its maximum
    (a stored one is read as it is, to be fixed)."""
    parsed = parse_setting(key, value)
    most = maximum_of(key)
    if type(parsed) is int and parsed > most:
        ja, en = LABELS.get(key, (f"設定 {key}", key))
        raise ValidationError(key, f"{ja}は {most:,} 以下にしてください: {value}",
                              f"{en} must be at most {most:,}: {value}")
    return parsed


def settings_from(stored: dict[str, Any]) -> Settings:
    values = {k: _stored(k, v) for k, v in stored.items() if k in SETTING_NAMES}
    return Settings(**values)


def _stored(key: str, value: Any) -> Any:
    """A stored word or sender value saved before it was checked still loads (the
    letters or the transfer file that need it say what is wrong); everything else as
    typed."""
    if key in CHOICES or key in SENDER_CHECKS:
        try:
            return parse_setting(key, value)
        except ValidationError:
            return str(value)
    return parse_setting(key, value)
