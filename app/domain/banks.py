"""Banks and branches by code or name, from the ``zengin-code`` package.

The package holds today's banks and branches with full-width kana names. A
branch closed since the victim opened the account disappears from it, so the
names entered on a case are kept as entered; this module only helps to pick
them and gives the kana a transfer file carries when the code is still known.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

from app.domain.text import search_key


@dataclass(frozen=True)
class BankEntry:
    code: str
    name: str
    kana: str


@cache
def _banks():
    import zengin_code  # loads ~1,100 banks and their branches: only when asked

    return zengin_code.Bank.all


def preload() -> int:
    """Load the bank table now (a fifth of a second), so that the first search does not
    pause the window: the payout dialog calls this off the GUI thread as it opens."""
    return len(_banks())


def _matches(entry, key: str) -> bool:
    return key in search_key(entry.name) or key in search_key(entry.kana) \
        or key in search_key(entry.hira)


def find_banks(query: str, limit: int = 20) -> list[BankEntry]:
    """Banks whose code starts with, or whose name or kana contains, ``query``."""
    text = unicodedata.normalize("NFKC", query or "").strip()
    if not text:
        return []
    key = search_key(text)
    found = [BankEntry(b.code, b.name, b.kana) for code, b in sorted(_banks().items())
             if code.startswith(text) or _matches(b, key)]
    return found[:limit]


def find_branches(bank_code: str, query: str, limit: int = 20) -> list[BankEntry]:
    bank = _banks().get(bank_code)
    text = unicodedata.normalize("NFKC", query or "").strip()
    if bank is None or not text:
        return []
    key = search_key(text)
    found = [BankEntry(b.code, b.name, b.kana) for code, b in bank.branches.items()
             if code.startswith(text) or _matches(b, key)]
    return found[:limit]


def bank(code: str | None) -> BankEntry | None:
    found = _banks().get(code or "")
    return BankEntry(found.code, found.name, found.kana) if found else None


def branch(bank_code: str | None, branch_code: str | None) -> BankEntry | None:
    found_bank = _banks().get(bank_code or "")
    found = found_bank.branches.get(branch_code or "") if found_bank else None
    return BankEntry(found.code, found.name, found.kana) if found else None
