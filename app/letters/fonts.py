"""Fonts for letters: bundled TrueType fonts, embedded (subset) by ReportLab.

Never a CID font (HeiseiMin-W3 is not embedded). Every character is checked
against the cmap ReportLab itself uses before anything is drawn: a character
the main font lacks comes from the fallback font (a subset of IPAmj明朝), and a
character no bundled font has makes the letter refused, never printed as a box.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

from app.core.paths import resources_dir
from app.letters.errors import UnprintableCharacterError

MINCHO = "HoshoMincho"
GOTHIC = "HoshoGothic"
GOTHIC_BOLD = "HoshoGothicBold"
_FILES = {
    MINCHO: "BIZUDMincho-Regular.ttf",
    GOTHIC: "BIZUDPGothic-Regular.ttf",
    GOTHIC_BOLD: "BIZUDPGothic-Bold.ttf",
}
FALLBACK_FILE = "HoshoFallbackMincho-Regular.ttf"

_lock = threading.Lock()
_registered: dict[str, Path] = {}
# Strings remembered per FontBook (widths, font runs): a batch measures the same wording
# in every letter; bounded so that a long batch of distinct names cannot grow memory.
CACHE_SIZE = 16384


def fonts_dir() -> Path:
    return resources_dir() / "fonts"


def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """ReportLab's ToUnicode CMap, fixed for characters beyond U+FFFF.

    ReportLab writes <20BB7> for 𠮷, which is not UTF-16: text extraction, search
    and copy-paste then lose the character. Here such code points become surrogate
    pairs, and entries go in blocks of at most 100 as the PDF reference asks.
    """

    def utf16(code: int) -> str:
        if code > 0xFFFF:
            code -= 0x10000
            return f"{0xD800 + (code >> 10):04X}{0xDC00 + (code & 0x3FF):04X}"
        return f"{code:04X}"

    entries = [f"<{i:02X}> <{utf16(v)}>" for i, v in enumerate(subset)]
    blocks: list[str] = []
    for start in range(0, len(entries), 100):
        chunk = entries[start:start + 100]
        blocks += [f"{len(chunk)} beginbfchar", *chunk, "endbfchar"]
    return "\n".join([
        "/CIDInit /ProcSet findresource begin",
        "12 dict begin",
        "begincmap",
        "/CIDSystemInfo",
        f"<< /Registry ({fontname})",
        f"/Ordering ({fontname})",
        "/Supplement 0",
        ">> def",
        f"/CMapName /{fontname} def",
        "/CMapType 2 def",
        "1 begincodespacerange",
        f"<00> <{len(subset) - 1:02X}>",
        "endcodespacerange",
        *blocks,
        "endcmap",
        "CMapName currentdict /CMap defineresource pop",
        "end",
        "end",
    ])


# ReportLab looks the function up by its module-level name when it writes fonts.
ttfonts.makeToUnicodeCMap = _to_unicode_cmap


def _register(name: str, path: Path) -> None:
    with _lock:
        if _registered.get(name) == path:
            return
        if not path.exists():
            from app.core.errors import EnvironmentProblem

            raise EnvironmentProblem(f"フォントファイルがありません: {path}",
                                     f"font file missing: {path}")
        pdfmetrics.registerFont(TTFont(name, str(path)))
        _registered[name] = path


def _cmap(name: str) -> frozenset[int]:
    face = pdfmetrics.getFont(name).face
    return frozenset(code for code, glyph in face.charToGlyph.items() if glyph)


@dataclass(frozen=True)
class Run:
    font: str
    text: str


class FontBook:
    """The registered fonts and which characters each can draw.

    ``chains`` gives, for each primary font, the fonts tried in order.
    """

    def __init__(self, fallback_path: Path | None = None) -> None:
        for name, file in _FILES.items():
            _register(name, fonts_dir() / file)
        path = Path(fallback_path) if fallback_path else fonts_dir() / FALLBACK_FILE
        digest = hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:8]
        self.fallback = "HoshoFallback" if fallback_path is None else f"HoshoFallback{digest}"
        _register(self.fallback, path)
        self._cmaps = {name: _cmap(name) for name in (*_FILES, self.fallback)}
        self.chains = {
            MINCHO: (MINCHO, self.fallback),
            GOTHIC: (GOTHIC, MINCHO, self.fallback),
            GOTHIC_BOLD: (GOTHIC_BOLD, MINCHO, self.fallback),
        }
        self._pick: dict[tuple[str, str], str | None] = {}
        self._widths: dict[tuple[str, str], float] = {}
        self._unit_width = lru_cache(maxsize=CACHE_SIZE)(self._measure)
        self._known_runs = lru_cache(maxsize=CACHE_SIZE)(self._split)

    def font_for(self, char: str, primary: str = MINCHO) -> str | None:
        """The first font of the chain that has ``char``; None when none has it."""
        key = (char, primary)
        if key not in self._pick:
            code = ord(char)
            self._pick[key] = next(
                (name for name in self.chains[primary] if code in self._cmaps[name]),
                None,
            )
        return self._pick[key]

    def unprintable(self, text: str, primary: str = MINCHO) -> list[str]:
        """The distinct characters of ``text`` that no font can draw, in order."""
        seen: list[str] = []
        for char in text:
            if self.font_for(char, primary) is None and char not in seen:
                seen.append(char)
        return seen

    def check(self, text: str, field: str, primary: str = MINCHO,
              case_number: str | None = None) -> None:
        for char in text:
            if self.font_for(char, primary) is None:
                raise UnprintableCharacterError(char, field, case_number)

    def runs(self, text: str, primary: str = MINCHO, field: str = "text") -> tuple[Run, ...]:
        """Split ``text`` into runs of one font each; refuse a character no font has."""
        runs = self._known_runs(text, primary)
        if runs is None:
            raise UnprintableCharacterError(self.unprintable(text, primary)[0], field)
        return runs

    def _split(self, text: str, primary: str) -> tuple[Run, ...] | None:
        """The runs of ``text``, or None when a character is in no font (the caller then
        raises, naming its own field)."""
        runs: list[Run] = []
        current: str | None = None
        buffer: list[str] = []
        for char in text:
            font = self.font_for(char, primary)
            if font is None:
                return None
            if font != current and buffer:
                runs.append(Run(current, "".join(buffer)))  # type: ignore[arg-type]
                buffer = []
            current = font
            buffer.append(char)
        if buffer:
            runs.append(Run(current, "".join(buffer)))  # type: ignore[arg-type]
        return tuple(runs)

    def char_width(self, char: str, primary: str) -> float:
        """Width at 1 pt, in points, with the font that will draw it."""
        key = (char, primary)
        width = self._widths.get(key)
        if width is None:
            font = self.font_for(char, primary) or primary
            width = pdfmetrics.stringWidth(char, font, 1.0)
            self._widths[key] = width
        return width

    def width(self, text: str, primary: str, size: float) -> float:
        return self._unit_width(text, primary) * size

    def _measure(self, text: str, primary: str) -> float:
        """Width of ``text`` at 1 pt (the same sum, in the same order, as ever)."""
        return sum(self.char_width(c, primary) for c in text)


_default_books: dict[Path | None, FontBook] = {}


def font_book(fallback_path: Path | None = None) -> FontBook:
    """One FontBook per fallback font, shared (ReportLab's registry is global anyway)."""
    with _lock:
        book = _default_books.get(fallback_path)
    if book is None:
        book = FontBook(fallback_path)
        with _lock:
            _default_books.setdefault(fallback_path, book)
            book = _default_books[fallback_path]
    return book


def find_unprintable(text: str, fallback_path: Path | None = None) -> list[str]:
    """Characters of ``text`` that a letter cannot print (for checking input early).

    The GUI can call this when a name or address is typed or imported.
    """
    return font_book(fallback_path).unprintable(text)
