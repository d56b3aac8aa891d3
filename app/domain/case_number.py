"""Case numbers an operator can read over the phone: H-0001234-7.

Digits only (letters are misheard on the phone), a fixed width, and a Luhn
check digit so that a transposed digit read back by a caller is caught.
"""

from __future__ import annotations

import re

_PATTERN = re.compile(r"^H-?(\d{7})-?(\d)$")


def luhn_digit(digits: str) -> int:
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return (10 - total % 10) % 10


def format_case_number(sequence: int) -> str:
    if not 0 < sequence < 10_000_000:
        raise ValueError(f"case sequence out of range: {sequence}")
    body = f"{sequence:07d}"
    return f"H-{body}-{luhn_digit(body)}"


def parse_case_number(text: str) -> str | None:
    """Return the canonical form if ``text`` is a valid case number, else None.

    Accepts lower case, full-width digits and missing hyphens: h00012347.
    """
    import unicodedata

    cleaned = unicodedata.normalize("NFKC", text).strip().upper().replace(" ", "")
    match = _PATTERN.match(cleaned)
    if not match or luhn_digit(match.group(1)) != int(match.group(2)):
        return None
    return f"H-{match.group(1)}-{match.group(2)}"


def one_digit_away(text: str) -> list[str]:
    """The valid case numbers one digit away from a well-formed number whose check digit
    fails (a digit misheard on the phone): the check digit put right, and each body
    digit changed to the one value that makes the given check digit hold. Empty for a
    valid number or for text that is not a case number's shape."""
    import unicodedata

    cleaned = unicodedata.normalize("NFKC", text).strip().upper().replace(" ", "")
    match = _PATTERN.match(cleaned)
    if not match:
        return []
    body, check = match.group(1), int(match.group(2))
    if luhn_digit(body) == check:
        return []
    found = [f"H-{body}-{luhn_digit(body)}"]
    for position in range(len(body)):
        for digit in "0123456789":
            if digit == body[position]:
                continue
            changed = body[:position] + digit + body[position + 1:]
            if int(changed) and luhn_digit(changed) == check:
                found.append(f"H-{changed}-{check}")
    return sorted(found)
