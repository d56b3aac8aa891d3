"""Variant kanji (異体字) folded for search: 髙橋 finds 高橋, 渡邊 and 渡邉 find 渡辺.

The variant table is ja-itaiji's (PyPI, MIT; families of equivalent kanji gathered
from published 異体字 lists). Its families are broad: they also join distinct common
characters (田 and 佃, 崎 and 埼), which a name search must keep apart. So only a rare
form is folded: a character outside JIS X 0208 level 1 (the common kanji every system
has) goes to the level-1 member of its family that lists it back; a common character is
never changed. 斉 and 斎 are both common and distinct surnames (斉藤, 斎藤): they stay
apart (the kana search finds both さいとう), while 齊 folds to 斉 and 齋 to 斎.
"""

from __future__ import annotations

from functools import lru_cache

from ja_itaiji import Itaiji

# Where the table offers several common forms as equally close, the one names use:
# 﨑 (立つ崎) is the variant of 崎, though ja-itaiji also lists 埼 and 碕 beside it.
PREFERRED = {"﨑": "崎"}


def _level_one(char: str) -> bool:
    """In JIS X 0208 level 1 (Shift_JIS 889F-9872): the common kanji."""
    try:
        code = int.from_bytes(char.encode("shift_jis"), "big")
    except UnicodeEncodeError:
        return False
    return 0x889F <= code <= 0x9872


def _is_kanji(char: str) -> bool:
    point = ord(char)
    return (0x3400 <= point <= 0x9FFF or 0xF900 <= point <= 0xFAFF
            or 0x20000 <= point <= 0x3FFFF)


@lru_cache(maxsize=8192)
def fold_char(char: str) -> str:
    if not _is_kanji(char) or _level_one(char):
        return char
    if char in PREFERRED:
        return PREFERRED[char]
    candidates = [other for other in Itaiji.get_family(char)
                  if other != char and _level_one(other)
                  and char in Itaiji.get_family(other)]
    if not candidates:
        return char
    # The tightest family wins (沢 over 途 for 澤): the closer relation.
    return min(candidates, key=lambda other: (len(Itaiji.get_family(other)), ord(other)))


def fold_variants(text: str) -> str:
    return "".join(fold_char(char) for char in text)
