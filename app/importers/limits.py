"""How long each stored value of an incident may be, and how large a file's rows may grow.

PostgreSQL refuses a value longer than its column (SQLite would store it), so the
importer and phone intake check these first, the same on both databases. They are the
column lengths in app.storage.models (tests/importers/test_csv_limits.py holds them
equal); the Text columns (address, note) have none there, so these are the program's own.
A field's folded search key (name_key, kana_key, email_key) has its field's limit too.
"""

from __future__ import annotations

MAX_CHARS: dict[str, int] = {
    "report_id": 64,
    "member_id": 64,
    "name": 200,
    "name_kana": 200,
    "phone": 40,
    "email": 254,
    "postal_code": 8,
    "address": 1000,
    "card_issuer": 100,
    "card_last4": 4,
    "merchant": 200,
    "note": 4000,
}

# A phone's digits are stored in their own column (victim.phone_digits).
MAX_PHONE_DIGITS = 20
# The amount columns are 64-bit integers: no ceiling setting can let more through.
MAX_YEN = 2**63 - 1
