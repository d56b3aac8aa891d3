"""The batch's shortcuts through library internals, each checked when a batch starts.

Three speed-ups lean on what ReportLab and qrcode do inside (pinned in pyproject):
remembered drawing (ink.py), the faster QR mask choice (qr.py) and byte-level chunk
joining (pdfconcat.py). ``check`` runs each one's self-check on sample data against
the library's public API; a shortcut whose check fails (a different output, or an
error because an internal is gone) is switched off for that batch, which then draws
through ReportLab's API, lets qrcode ``make`` the symbol, or joins with pypdf. An
upgrade thus costs speed, never a wrong letter. The fallback is logged once per batch,
naming the shortcuts and the library versions (the samples hold no personal data).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass, fields
from pathlib import Path

from app.domain.case_number import format_case_number
from app.letters import ink, pdfconcat, qr
from app.letters.fonts import GOTHIC, MINCHO, FontBook, font_book
from app.letters.layout import LineOp, Op, QROp, RectOp, TextOp

log = logging.getLogger(__name__)

# Case numbers are what the letters encode; one a version bigger checks a second shape.
QR_SAMPLES = (format_case_number(1), format_case_number(1234), format_case_number(9_999_999),
              "H-0001234-4 " * 4)


@dataclass(frozen=True)
class Shortcuts:
    """Which shortcuts a batch uses (True: the faster way through the internals)."""

    ink: bool = True  # remembered drawing: ReportLab's page operators
    qr: bool = True  # the faster mask choice: qrcode's symbol-building steps
    concat: bool = True  # byte-level joining of chunks: ReportLab's file layout


ALL = Shortcuts()
PLAIN = Shortcuts(ink=False, qr=False, concat=False)


def check(book: FontBook | None = None) -> Shortcuts:
    """Self-check every shortcut; log once which ones this batch goes without."""
    book = book or font_book()
    checks = {"ink": lambda: ink.self_check(_sample_ops(book), MINCHO),
              "qr": lambda: qr.self_check(QR_SAMPLES),
              "concat": lambda: _check_concat(book)}
    failed: dict[str, str] = {}
    for name, run in checks.items():
        try:
            run()
        except Exception as exc:  # any error of a changed internal means: go without it
            failed[name] = f"{type(exc).__name__}: {exc}"[:300]
    if failed:
        log.warning("letters: library internals not as the shortcuts expect (ReportLab %s, "
                    "qrcode %s); this batch goes the public way for %s (slower, the same "
                    "letters): %s", _version("reportlab"), _version("qrcode"),
                    ", ".join(failed), "; ".join(f"{k}: {v}" for k, v in failed.items()))
    return Shortcuts(**{f.name: f.name not in failed for f in fields(Shortcuts)})


def _sample_ops(book: FontBook) -> list[Op]:
    """One of each operation a letter draws, with the options that change its output."""
    return [
        TextOp(60, 760, book.runs("補償手続きのご案内 H-0001234-4（続き）", MINCHO), 10.5),
        TextOp(60, 740, book.runs("両端揃えの行 𠮷野 0120-000-000", GOTHIC), 9.5,
               char_space=0.8, gray=0.35),
        LineOp(60, 720, 300, 720, width=0.4, gray=0.55, dash=(4, 3)),
        RectOp(60, 600, 200, 100, width=0.8, fill_gray=0.94),
        RectOp(70, 610, 30, 30, width=0.5, stroke_gray=None, fill_gray=0.2, dash=(3, 2)),
        QROp(400, 600, 56.7, qr.qrcode_matrix(QR_SAMPLES[1])),
    ]


def _check_concat(book: FontBook) -> None:
    with tempfile.TemporaryDirectory(prefix="hosho-letters-check-") as folder:
        parts = []
        for n, text in enumerate(("補償手続きのご案内", "書類不備のご連絡 𠮷")):
            part = Path(folder) / f"part{n}.pdf"
            canvas = ink.new_canvas(str(part), author="self-check", initial_font=MINCHO)
            for page in range(n + 1):
                ink.draw_op(canvas, TextOp(60, 760, book.runs(f"{text} {page}", MINCHO), 10.5))
                canvas.showPage()
            canvas.save()
            parts.append(part)
        pdfconcat.self_check(parts)


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return "?"
