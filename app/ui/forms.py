"""Reading what operators type: full-width digits from the IME are normal input."""

from __future__ import annotations

from app.core.errors import ValidationError
from app.services.intake import parse_amount_text


def parse_yen(text: str) -> int | None:
    try:
        return parse_amount_text(text, ceiling=10**12)
    except ValidationError:
        return None
