"""Page geometry and a small flow engine that lays a letter out as drawing operations.

A letter is first laid out into pages of plain operations (text lines already
broken and split into font runs, rules, boxes, a QR matrix). Only then is it
drawn, so the page count ("n / N") is known, and a refused character stops the
letter before anything reaches the PDF.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm

from app.letters.fonts import GOTHIC, GOTHIC_BOLD, MINCHO, FontBook, Run
from app.letters.kinsoku import Line, break_lines

PAGE_W, PAGE_H = A4
LEFT = 22 * mm
RIGHT = PAGE_W - 22 * mm
TOP = PAGE_H - 20 * mm
BOTTOM = 17 * mm
CONTENT_W = RIGHT - LEFT

Align = Literal["left", "right", "center", "justify"]


@dataclass(frozen=True)
class Style:
    font: str
    size: float
    leading: float
    gray: float = 0.0  # 0 black, 1 white


BODY = Style(MINCHO, 10.0, 16.0)
BODY_TIGHT = Style(MINCHO, 9.5, 14.0)
SMALL = Style(MINCHO, 8.5, 12.5)
SMALL_GOTHIC = Style(GOTHIC, 8.0, 11.0, 0.25)
LABEL = Style(GOTHIC, 9.0, 13.0)
HEADING = Style(GOTHIC_BOLD, 10.5, 16.0)
TITLE = Style(GOTHIC_BOLD, 17.0, 24.0)
NAME = Style(MINCHO, 14.0, 20.0)
ADDRESS = Style(MINCHO, 10.5, 15.0)


# --- drawing operations -------------------------------------------------------

@dataclass(frozen=True)
class TextOp:
    x: float
    y: float  # baseline
    runs: tuple[Run, ...]
    size: float
    char_space: float = 0.0
    gray: float = 0.0


@dataclass(frozen=True)
class LineOp:
    x1: float
    y1: float
    x2: float
    y2: float
    width: float = 0.5
    gray: float = 0.0
    dash: tuple[float, ...] | None = None


@dataclass(frozen=True)
class RectOp:
    x: float
    y: float
    w: float
    h: float
    width: float = 0.6
    stroke_gray: float | None = 0.0  # None: no outline
    fill_gray: float | None = None  # None: no fill
    dash: tuple[float, ...] | None = None


@dataclass(frozen=True)
class QROp:
    x: float  # lower-left corner
    y: float
    size: float
    rows: tuple[tuple[bool, ...], ...]


Op = TextOp | LineOp | RectOp | QROp


class LineBreaker:
    """Kinsoku line breaking measured with a FontBook, with the answers remembered.

    Most paragraphs of a batch are the same wording at the same width in every letter;
    one breaker per batch breaks each of them once. Bounded, so that a batch of
    thousands of distinct addresses does not grow memory.
    """

    def __init__(self, book: FontBook, size: int = 4096) -> None:
        self.book = book
        self._remembered = lru_cache(maxsize=size)(self._break)

    def lines(self, text: str, font: str, size: float, width: float, first_indent: float,
              protect: Iterable[str]) -> tuple[Line, ...]:
        # only protected strings that occur in the text change its lines: keying on those
        # lets letters with different names share their common paragraphs
        present = tuple([p for p in protect if p in text]) if protect else ()
        return self._remembered(text, font, size, width, first_indent, present)

    def _break(self, text: str, font: str, size: float, width: float, first_indent: float,
               protect: tuple[str, ...]) -> tuple[Line, ...]:
        return tuple(break_lines(text, width, lambda s: self.book.width(s, font, size),
                                 first_indent=first_indent, protect=protect))


@dataclass
class Column:
    width: float
    header: str
    align: Align = "left"


@dataclass
class Composer:
    """Lays out one letter. ``y`` is the top of the free space, in points from the
    page bottom; flowing text puts each line in a box of its style's leading.

    ``on_new_page`` draws the header of a continuation page and returns the y
    where the flow resumes.
    """

    book: FontBook
    protect: tuple[str, ...] = ()
    on_new_page: object = None  # Callable[[Composer], float] | None
    pages: list[list[Op]] = field(default_factory=list)
    y: float = TOP  # top edge of the free space on the current page
    breaker: LineBreaker | None = None  # a batch shares one; else the composer makes its own

    def __post_init__(self) -> None:
        if self.breaker is None:
            self.breaker = LineBreaker(self.book)

    @staticmethod
    def baseline(top: float, style: Style) -> float:
        """The baseline of a line whose box of height ``style.leading`` starts at ``top``."""
        return top - style.leading / 2 - style.size * 0.36

    # -- pages -------------------------------------------------------------
    @property
    def ops(self) -> list[Op]:
        return self.pages[-1]

    def new_page(self, *, continuation: bool = True) -> None:
        self.pages.append([])
        self.y = TOP
        if continuation and callable(self.on_new_page):
            self.y = self.on_new_page(self)

    def ensure(self, height: float) -> None:
        """Start a new page unless ``height`` points fit above the bottom margin."""
        if self.y - height < BOTTOM:
            self.new_page()

    def space(self, points: float) -> None:
        self.y -= points

    # -- text ----------------------------------------------------------------
    def runs(self, text: str, style: Style, field_name: str) -> tuple[Run, ...]:
        return self.book.runs(text, style.font, field_name)

    def width(self, text: str, style: Style) -> float:
        return self.book.width(text, style.font, style.size)

    def text(self, x: float, y: float, text: str, style: Style, *, align: Align = "left",
             field_name: str = "wording") -> float:
        """One line at an absolute position; returns its width."""
        if not text:
            return 0.0
        w = self.width(text, style)
        if align == "right":
            x -= w
        elif align == "center":
            x -= w / 2
        self.ops.append(TextOp(x, y, self.runs(text, style, field_name), style.size,
                               gray=style.gray))
        return w

    def wrap(self, text: str, style: Style, width: float, *, first_indent: float = 0.0,
             protect: Iterable[str] = ()) -> tuple[Line, ...]:
        assert self.breaker is not None  # set in __post_init__
        return self.breaker.lines(text, style.font, style.size, width, first_indent,
                                  (*self.protect, *protect))

    def lines_at(self, x: float, y: float, text: str, style: Style, width: float, *,
                 align: Align = "left", field_name: str = "wording",
                 protect: Iterable[str] = ()) -> float:
        """Wrapped text at an absolute position (first baseline ``y``); returns the
        y below the last line. Explicit newlines are kept."""
        for part in text.split("\n"):
            for line in self.wrap(part, style, width, protect=protect):
                self._line(x, y, line, style, width, align, field_name)
                y -= style.leading
        return y

    def _line(self, x: float, y: float, line, style: Style, width: float, align: Align,
              field_name: str) -> None:
        char_space = 0.0
        if align == "right":
            x += width - line.width + line.hanging
        elif align == "center":
            x += (width - line.width) / 2
        elif align == "justify" and not line.last:
            glyphs = len(line.text) - (1 if line.hanging else 0)
            slack = width - (line.width - line.hanging)
            if glyphs > 1 and 0 < slack < style.size * 3:
                char_space = slack / (glyphs - 1)
        if line.text:
            self.ops.append(TextOp(x, y, self.runs(line.text, style, field_name), style.size,
                                   char_space, style.gray))

    def paragraph(self, text: str, style: Style = BODY, *, x: float = LEFT,
                  width: float = CONTENT_W, indent: float | None = None,
                  align: Align = "justify", field_name: str = "wording",
                  protect: Iterable[str] = (), after: float | None = None) -> None:
        """Flowing text. Blank lines separate paragraphs, single newlines break lines.

        ``indent`` is the first-line indent (default one full-width character, the
        Japanese 字下げ); items starting with ・ ※ or a digit and ．get a hanging indent.
        """
        for block in _paragraphs(text):
            for part in block.split("\n"):
                self._flow_part(part, style, x, width, indent, align, field_name, protect)
            self.y -= style.leading * 0.3 if after is None else after

    def _flow_part(self, part: str, style: Style, x: float, width: float,
                   indent: float | None, align: Align, field_name: str,
                   protect: Iterable[str]) -> None:
        hang = _hanging_prefix(part)
        if hang:
            prefix_w = self.width(hang, style)
            lines = self.wrap(part[len(hang):], style, width - prefix_w, protect=protect)
            self.ensure(style.leading)
            self.text(x, self.baseline(self.y, style), hang, style, field_name=field_name)
            for line in lines:
                self.ensure(style.leading)
                self._line(x + prefix_w, self.baseline(self.y, style), line, style,
                           width - prefix_w, align, field_name)
                self.y -= style.leading
            return
        first_indent = style.size if indent is None else indent
        if part.startswith(("\u3000", "「", "（")):
            first_indent = 0.0
        lines = self.wrap(part, style, width, first_indent=first_indent, protect=protect)
        for number, line in enumerate(lines):
            self.ensure(style.leading)
            offset = first_indent if number == 0 else 0.0
            self._line(x + offset, self.baseline(self.y, style), line, style, width - offset,
                       align, field_name)
            self.y -= style.leading

    def heading(self, text: str) -> None:
        """A section heading kept with at least three lines of what follows."""
        self.space(HEADING.leading * 0.3)
        self.ensure(HEADING.leading + BODY.leading * 3)
        base = self.baseline(self.y, HEADING)
        self.ops.append(RectOp(LEFT, base - 1.2, 3.2, HEADING.size - 1.5, stroke_gray=None,
                               fill_gray=0.0))
        self.text(LEFT + 7, base, text, HEADING)
        self.y -= HEADING.leading

    def line(self, text: str, style: Style = BODY, *, align: Align = "left",
             x: float = LEFT, width: float = CONTENT_W, field_name: str = "wording") -> None:
        """One unwrapped flowing line (e.g. 記 centred, 以上 on the right)."""
        self.ensure(style.leading)
        anchor = {"left": x, "right": x + width, "center": x + width / 2}.get(align, x)
        self.text(anchor, self.baseline(self.y, style), text, style,
                  align="left" if align == "justify" else align, field_name=field_name)
        self.y -= style.leading

    # -- shapes --------------------------------------------------------------
    def rule(self, x1: float, y1: float, x2: float, y2: float, **kw) -> None:
        self.ops.append(LineOp(x1, y1, x2, y2, **kw))

    def rect(self, x: float, y: float, w: float, h: float, **kw) -> None:
        self.ops.append(RectOp(x, y, w, h, **kw))

    # -- tables --------------------------------------------------------------
    def table(self, columns: Sequence[Column], rows: Sequence[Sequence[str]], *,
              x: float = LEFT, style: Style = BODY_TIGHT,
              footer: Sequence[str] | None = None,
              field_names: Sequence[str] | None = None, pad: float = 1.9 * mm) -> None:
        """A ruled table; a long one continues on the next page under its header again.

        Cells wrap with kinsoku. ``footer`` is a bold last row (e.g. the total).
        """
        total_w = sum(c.width for c in columns)
        header_h = LABEL.leading + pad

        def draw_header() -> None:
            top = self.y
            self.rect(x, top - header_h, total_w, header_h, fill_gray=0.9, width=0.6)
            cx = x
            for column in columns:
                self._cell(cx, top, column.width, header_h, column.header, LABEL,
                           "center", "wording", pad)
                cx += column.width
            self.y = top - header_h

        def row_height(cells: Sequence[str], cell_style: Style) -> tuple[float, list]:
            wrapped = [self.wrap(str(cell), cell_style, col.width - 2 * pad)
                       for cell, col in zip(cells, columns, strict=True)]
            lines = max(len(w) for w in wrapped)
            return lines * cell_style.leading + pad, wrapped

        self.ensure(header_h + style.leading * 2 + pad)
        draw_header()
        all_rows = [(r, style, False) for r in rows]
        if footer is not None:
            all_rows.append((footer, Style(GOTHIC_BOLD, style.size, style.leading), True))
        for index, (cells, cell_style, is_footer) in enumerate(all_rows):
            height, _ = row_height(cells, cell_style)
            if self.y - height < BOTTOM:
                self.new_page()
                draw_header()
            top = self.y
            self.rect(x, top - height, total_w, height, width=0.6,
                      fill_gray=0.96 if is_footer else None)
            cx = x
            for number, (cell, column) in enumerate(zip(cells, columns, strict=True)):
                name = (field_names[number] if field_names and not is_footer
                        else "wording")
                self._cell(cx, top, column.width, height, str(cell), cell_style,
                           column.align, name if index < len(rows) else "wording", pad)
                if number:
                    self.rule(cx, top, cx, top - height, width=0.4)
                cx += column.width
            self.y = top - height

    def _cell(self, x: float, top: float, w: float, h: float, text: str, style: Style,
              align: Align, field_name: str, pad: float) -> None:
        lines = self.wrap(text, style, w - 2 * pad)
        block = len(lines) * style.leading
        y = top - (h - block) / 2 - style.size * 0.88 - (style.leading - style.size) / 2
        for line in lines:
            self._line(x + pad, y, line, style, w - 2 * pad,
                       "left" if align == "justify" else align, field_name)
            y -= style.leading


def _paragraphs(text: str) -> list[str]:
    blocks, current = [], []
    for line in text.strip("\n").split("\n"):
        if line.strip():
            current.append(line.rstrip())
        elif current:
            blocks.append("\n".join(current))
            current = []
    if current:
        blocks.append("\n".join(current))
    return blocks


_BULLETS = ("・", "※", "●", "○", "■", "□", "◆", "―")


def _hanging_prefix(part: str) -> str:
    """'・本人確認書類' -> '・'; '1．ご署名' -> '1．'; '(1) x' -> '(1) '."""
    if part.startswith(_BULLETS):
        return part[0]
    for index, char in enumerate(part[:4]):
        if not char.isdigit():
            if index and char in "．.)）":
                return part[: index + 1]
            break
    return ""
