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
    credit_due_business_days: int = 3
    programme_victims: int = 808
    programme_total_yen: int = 38_615_473

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
            return number
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            key, f"設定 {key} の値が正しくありません: {value}", f"Bad value for {key}: {value}"
        ) from exc


def settings_from(stored: dict[str, Any]) -> Settings:
    values = {k: parse_setting(k, v) for k, v in stored.items() if k in SETTING_NAMES}
    return Settings(**values)
