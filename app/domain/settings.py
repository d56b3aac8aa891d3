"""Programme settings and their defaults. Stored in the database, changed by an
administrator, every change audited (see app.services.settings)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

from app.core.errors import ValidationError


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
    # registered it (company code, kana name, paying account), the line ends the
    # bank wants ('crlf', 'lf' or 'none') and the business days from building a
    # batch to its transfer date.
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

    def to_json_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["outreach_start"] = self.outreach_start.isoformat()
        return data


SETTING_NAMES = tuple(f.name for f in fields(Settings))


def parse_setting(key: str, value: Any) -> Any:
    """Turn a stored or typed value into the setting's type, or refuse it."""
    if key not in SETTING_NAMES:
        raise ValidationError(key, f"不明な設定項目です: {key}", f"Unknown setting: {key}")
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
        raise ValidationError(
            key, f"設定 {key} の値が正しくありません: {value}", f"Bad value for {key}: {value}"
        ) from exc


# Settings that take one of a few words: refused when saved, not when a letter batch
# or a transfer file needs them.
CHOICES = {
    "letter_date_style": ("western", "era"),
    "zengin_line_end": ("crlf", "lf", "none"),
    "zengin_account_type": ("ordinary", "current", "savings"),
    "operator_second_factor": ("required", "relaxed"),
}


def _choice(key: str, value: str) -> str:
    word = value.strip().lower()
    if word not in CHOICES[key]:
        options = " / ".join(CHOICES[key])
        raise ValidationError(key, f"設定 {key} は {options} のいずれかです: {value}",
                              f"{key} must be one of {options}: {value}")
    return word


# Counts that make no sense at zero (a hold of no time, a letter after no attempt).
AT_LEAST_ONE = frozenset({"failed_attempts_before_letter", "queue_hold_minutes",
                          "idle_lock_minutes",
                          "programme_victims", "programme_total_yen"})


def settings_from(stored: dict[str, Any]) -> Settings:
    values = {k: _stored(k, v) for k, v in stored.items() if k in SETTING_NAMES}
    return Settings(**values)


def _stored(key: str, value: Any) -> Any:
    """A stored word saved before its choices were checked still loads (the letters or
    the transfer file that need it say what is wrong); everything else as typed."""
    if key in CHOICES and str(value).strip().lower() not in CHOICES[key]:
        return str(value)
    return parse_setting(key, value)
