"""What can go wrong when a letter is made, and whose fault it is."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from app.core.errors import EnvironmentProblem, HoshoError, ValidationError


def describe_char(char: str) -> str:
    """'\\ue000' -> 'U+E000 <private use>'; '𠮷' -> 'U+20BB7 𠮷 CJK UNIFIED IDEOGRAPH-20BB7'."""
    code = f"U+{ord(char):04X}"
    name = unicodedata.name(char, "")
    category = unicodedata.category(char)
    if category in ("Co", "Cn", "Cs", "Cc", "Cf", "Zl", "Zp") or not name:
        label = {
            "Co": "private use", "Cn": "unassigned", "Cs": "surrogate",
            "Cc": "control", "Cf": "format",
        }.get(category, "no name")
        return f"{code} <{label}>" + (f" {name}" if name else "")
    return f"{code} {char} {name}"


_CATEGORY_JA = {"Co": "（私用領域）", "Cn": "（未割り当て）", "Cc": "（制御文字）",
                "Cf": "（書式文字）", "Cs": "（サロゲート）"}


class LetterError(HoshoError):
    """Base class of the letters engine's own errors."""


class WordingError(LetterError, EnvironmentProblem):
    """A wording file is broken: a missing or unknown key or placeholder.

    Raised when the wording is loaded, never half-way through a batch.
    ``file``, ``key`` and ``placeholder`` say where (``placeholder`` may be None).
    """

    def __init__(self, file: Path | str, key: str, problem_ja: str, problem_en: str,
                 placeholder: str | None = None) -> None:
        self.file = Path(file)
        self.key = key
        self.placeholder = placeholder
        where = f"{self.file.name} [{key}]"
        super().__init__(f"文面ファイル {where}: {problem_ja}", f"wording file {file} [{key}]: "
                         f"{problem_en}")


class UnprintableCharacterError(LetterError, ValidationError):
    """A character that no bundled font has: the letter is refused, never printed with a box.

    ``char`` is the character, ``codepoint`` its 'U+XXXX' form, ``field`` where it was
    found (e.g. 'recipient.name').
    """

    def __init__(self, char: str, field: str, case_number: str | None = None) -> None:
        self.char = char
        self.codepoint = f"U+{ord(char):04X}"
        self.case_number = case_number
        described = describe_char(char)
        category = unicodedata.category(char)
        shown = f"「{char}」" if category[0] not in "CZ" else _CATEGORY_JA.get(category, "")
        ValidationError.__init__(
            self, field,
            f"文字{shown}({self.codepoint}) は同梱のどのフォントにもないため印刷できません"
            f"（項目: {field}）。文字を確認して修正してください。",
            f"character {described} in {field} is in no bundled font: the letter is refused",
        )


class LetterDataError(LetterError, ValidationError):
    """The data handed in cannot make this kind of letter (e.g. a payment notice without
    a paid amount). ``field`` names the field."""
