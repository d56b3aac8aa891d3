"""Drawing laid-out operations on a ReportLab canvas.

``draw_op`` draws one operation through ReportLab's API. ``Ink`` draws a batch's
operations on one canvas and writes an operation it has drawn before on that
canvas again from memory: the letters of a batch draw the same rules, boxes and
wording at the same places, and ReportLab formatting them every time (numbers,
font subsets, escapes) took most of the drawing time. The PDF is the same, byte
for byte (the tests compare the two ways).

Remembering reads ReportLab's page operators (``Canvas._code``) and writes QR codes with
its number format and path operators. ``self_check`` draws sample operations both ways
on scratch canvases: at the start of a batch, when they differ (or ReportLab no longer
has those internals), the batch draws everything through ReportLab's API.
"""

from __future__ import annotations

import io
from functools import lru_cache

from reportlab.pdfgen.canvas import Canvas

from app.letters.layout import PAGE_H, PAGE_W, LineOp, Op, QROp, RectOp, TextOp

try:  # ReportLab internals the remembering path uses; without them self_check fails
    from reportlab.lib.rl_accel import fp_str
    from reportlab.pdfgen.canvas import FILL_EVEN_ODD, PATH_OPS
except ImportError:  # pragma: no cover - depends on the installed ReportLab
    fp_str = FILL_EVEN_ODD = PATH_OPS = None  # type: ignore[assignment]

PRODUCER = "Hosho Desk letters"

# Operations remembered per canvas: a chunk's distinct ones fit; past this, new ones are
# drawn through ReportLab each time rather than grow memory.
REMEMBERED = 50_000


def new_canvas(target, *, author: str, initial_font: str) -> Canvas:
    """An A4 canvas as every letters PDF starts: compressed, reproducible (no dates or
    random ids), our producer."""
    # The initial font is ours: ReportLab would otherwise name Helvetica (never embedded)
    # in every page's resources.
    canvas = Canvas(target, pagesize=(PAGE_W, PAGE_H), pageCompression=1, invariant=1,
                    initialFontName=initial_font, initialFontSize=10.5, initialLeading=15)
    canvas.setCreator(PRODUCER)
    canvas.setProducer(PRODUCER)
    canvas.setAuthor(author)
    canvas.setTitle("letters")
    return canvas


def draw_op(c: Canvas, op: Op) -> None:
    """One operation through ReportLab's API."""
    if isinstance(op, TextOp):
        text = c.beginText(op.x, op.y)
        text.setFillGray(op.gray)
        if op.char_space:
            text.setCharSpace(op.char_space)
        for run in op.runs:
            text.setFont(run.font, op.size)
            text.textOut(run.text)
        if op.char_space:  # Tc outlives the text object: the next line must not inherit it
            text.setCharSpace(0)
        c.drawText(text)
    elif isinstance(op, LineOp):
        c.saveState()
        c.setLineWidth(op.width)
        c.setStrokeGray(op.gray)
        if op.dash:
            c.setDash(list(op.dash))
        c.line(op.x1, op.y1, op.x2, op.y2)
        c.restoreState()
    elif isinstance(op, RectOp):
        _draw_rect(c, op)
    elif isinstance(op, QROp):
        c.saveState()
        c.setFillGray(0)
        path = c.beginPath()
        for x, y, w, h in qr_rects(op):
            path.rect(x, y, w, h)
        c.drawPath(path, stroke=0, fill=1)
        c.restoreState()


def _draw_rect(c: Canvas, op: RectOp) -> None:
    c.saveState()
    c.setLineWidth(op.width)
    if op.stroke_gray is not None:
        c.setStrokeGray(op.stroke_gray)
    if op.fill_gray is not None:
        c.setFillGray(op.fill_gray)
    if op.dash:
        c.setDash(list(op.dash))
    c.rect(op.x, op.y, op.w, op.h, stroke=int(op.stroke_gray is not None),
           fill=int(op.fill_gray is not None))
    c.restoreState()


def qr_rects(op: QROp) -> list[tuple[float, float, float, float]]:
    """The QR code as one rectangle per horizontal run of dark modules."""
    module = op.size / len(op.rows)
    rects = []
    for r, row in enumerate(op.rows):
        y = op.y + op.size - (r + 1) * module
        start = None
        for col, dark in enumerate((*row, False)):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                rects.append((op.x + start * module, y, (col - start) * module, module))
                start = None
    return rects


class Ink:
    """Draws operations on one canvas, each distinct one through ReportLab only once.

    What ReportLab writes for an operation depends on nothing but the operation and,
    for text, on the font subsets of the canvas's own document (a character keeps its
    code in a subset once given one): so the memory belongs to one canvas.
    ``remember=False`` draws everything through ReportLab (the tests' reference).
    """

    def __init__(self, canvas: Canvas, *, remember: bool = True) -> None:
        self.canvas = canvas
        self.remember = remember
        self._written: dict[Op, str] = {}

    def draw(self, op: Op) -> None:
        if not self.remember:
            draw_op(self.canvas, op)
        elif isinstance(op, QROp):  # one per letter, never repeated: written directly
            self.canvas.addLiteral(self._qr(op))
        elif (known := self._written.get(op)) is not None:
            self.canvas.addLiteral(known)
        else:
            code = self.canvas._code  # the page's operators so far, ReportLab's own list
            mark = len(code)
            draw_op(self.canvas, op)
            if len(self._written) < REMEMBERED:
                self._written[op] = "\n".join(code[mark:])  # as the page will join them

    def _qr(self, op: QROp) -> str:
        """What ``draw_op`` writes for a QR code, with the numbers formatted once each."""
        path = " ".join(["n", *(f"{_number(x)} {_number(y)} {_number(w)} {_number(h)} re"
                                for x, y, w, h in qr_rects(op))])
        fill = PATH_OPS[0, 1, getattr(self.canvas, "_fillMode", FILL_EVEN_ODD)]
        return "\n".join(("q", f"{_number(0)} g", path, fill, "Q"))


@lru_cache(maxsize=4096)
def _number(value: float) -> str:
    """ReportLab's number format; QR codes of one size repeat the same few hundred."""
    return fp_str(value)


def self_check(samples: list[Op], initial_font: str) -> None:
    """Raise RuntimeError unless drawing ``samples`` twice from memory writes what
    ReportLab's API writes (or whatever error the internals raise)."""
    outputs = []
    for remember in (True, False):
        buffer = io.BytesIO()
        canvas = new_canvas(buffer, author="self-check", initial_font=initial_font)
        ink = Ink(canvas, remember=remember)
        for _ in range(2):  # the second time from memory
            for op in samples:
                ink.draw(op)
            canvas.showPage()
        canvas.save()
        outputs.append(buffer.getvalue())
    if outputs[0] != outputs[1]:
        raise RuntimeError("remembered drawing differs from ReportLab's")
