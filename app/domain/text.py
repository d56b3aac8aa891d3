"""Search keys for names, kana, phones and e-mail.

Names are stored exactly as received (NFKC would turn ㈱ into (株) and change
compatibility kanji); these keys are separate columns used only for matching.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from app.domain.kanji_variants import fold_variants

_KATAKANA_START, _KATAKANA_END = 0x30A1, 0x30F6
_KANA_SHIFT = 0x60
_SPACES = re.compile(r"\s+")
# Only 0-9 are digits: Python's \d, int() and str.isdigit() also take Arabic-Indic,
# Devanagari and other scripts' digits.
_NON_DIGITS = re.compile(r"[^0-9]")
_DIGITS = frozenset("0123456789０１２３４５６７８９")
# C0 and C1 controls other than tab, LF and CR, DEL, and lone surrogates (which no
# database driver can encode). Tab and line breaks are whitespace the fields handle.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def katakana_to_hiragana(text: str) -> str:
    return "".join(
        chr(ord(c) - _KANA_SHIFT) if _KATAKANA_START <= ord(c) <= _KATAKANA_END else c
        for c in text
    )


@lru_cache(maxsize=65536)  # names and readings repeat: an import folds each once
def search_key(text: str | None) -> str:
    """Fold width, kana, case and variant kanji; drop every space.

    ｽｽﾞｷ ﾀﾛｳ, スズキ　タロウ and すずきたろう all give すずきたろう; 髙橋 gives 高橋.
    A change here changes stored keys: re-key them in a migration (0015 did).
    """
    if not text:
        return ""
    folded = fold_variants(unicodedata.normalize("NFKC", text))
    folded = katakana_to_hiragana(folded).casefold()
    return _SPACES.sub("", folded)


def phone_digits(text: str | None) -> str:
    """Digits only, full width folded; +81 becomes the domestic leading 0."""
    if not text:
        return ""
    if text.isascii():  # as nearly every number is written: NFKC changes no ASCII
        plain = text.replace("-", "")
        if plain.isdigit():  # only 0-9 (no "+81"): its digits are itself
            return plain
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", text))
    if text.strip().startswith(("+81", "＋８１")) and digits.startswith("81"):
        digits = "0" + digits[2:]
    return digits


def foreign_digit(text: str) -> str | None:
    """The first character read as a digit that is neither ASCII nor full width, if any.

    Excel writes 0-9 and ０-９ only. Arabic-Indic or Devanagari digits pass
    int(); 𝟏, ①, ¹ and ½ become digits under NFKC: none of them is a digit here.
    """
    if text.isascii():
        return None
    return next((char for char in text if not char.isascii() and char not in _DIGITS
                 and _reads_as_digit(char)), None)


@lru_cache(maxsize=4096)
def _reads_as_digit(char: str) -> bool:
    return char.isdigit() or _NON_DIGITS.sub("", unicodedata.normalize("NFKC", char)) != ""


def control_character(text: str) -> str | None:
    """The first control character (other than tab and line breaks) or lone surrogate."""
    found = _CONTROL.search(text)
    return found[0] if found else None


def email_key(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().casefold()


def tidy_name(text: str) -> str:
    """Trim, and keep inner runs of full- or half-width spaces as one space."""
    return _SPACES.sub(" ", text.replace("\u3000", " ")).strip()


def mask_tail(value: str | None, keep: int = 4) -> str:
    """Show only the last ``keep`` characters: 09012345678 -> *******5678."""
    if not value:
        return ""
    if len(value) <= keep:
        return "*" * len(value)
    return "*" * (len(value) - keep) + value[-keep:]
