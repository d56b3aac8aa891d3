"""The envelope-window alignment sheet: printed on the letter paper and held against a
window envelope to check the window settings. Its text is in resources/letters/alignment.toml."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from reportlab.lib.units import mm

from app.core.files import written_into_place
from app.domain.channels import Channel
from app.letters import layout as L
from app.letters.compose import LetterRenderer
from app.letters.ink import draw_op
from app.letters.layout import BODY, CONTENT_W, LEFT, PAGE_H, PAGE_W, TITLE, Composer, Style
from app.letters.model import (
    FIRST_FOLD_MM,
    LetterData,
    LetterKind,
    LetterSettings,
    Recipient,
)
from app.letters.shortcuts import PLAIN

SAMPLE_CASE_NUMBER = "H-0000001-8"  # printed under the sample address, as on a letter


def render_alignment_sheet(out: Path, *, settings: LetterSettings | None = None) -> Path:
    """A sheet to print on the letter paper and hold against a window envelope:
    the window outline with crosshairs, the fold lines, and a sample address."""
    s = settings or LetterSettings()
    # one page drawn once: the shortcuts would gain nothing, so it needs no self-check
    renderer = LetterRenderer(s, shortcuts=PLAIN)
    values = {"organization": s.organization, "support_centre": s.support_centre,
              "hotline": s.hotline, "hotline_hours": s.hotline_hours,
              "window_x": f"{s.window_x_mm:g}", "window_y": f"{s.window_y_mm:g}",
              "window_width": f"{s.window_width_mm:g}",
              "window_height": f"{s.window_height_mm:g}"}

    def text(key: str, **extra: object) -> str:
        return renderer.wording.fill("alignment", key, {**values, **extra})

    comp = Composer(renderer.book)
    comp.new_page(continuation=False)
    x, w, h = s.window_x_mm * mm, s.window_width_mm * mm, s.window_height_mm * mm
    y = PAGE_H - (s.window_y_mm + s.window_height_mm) * mm
    _window_marks(comp, x, y, w, h)
    recipient = Recipient(text("sample.name"), text("sample.postal_code"),
                          text("sample.address"), text("sample.building"))
    renderer.address_window(comp, LetterData(
        LetterKind.PAYMENT_NOTICE, "SAMPLE", SAMPLE_CASE_NUMBER, Channel.DEBIT_CHARGE,
        recipient, date(2019, 8, 19)))
    small = Style(L.GOTHIC, 8, 11)
    comp.text(x + 2 * mm, y - 14, text("window"), small)
    for n, at in enumerate((FIRST_FOLD_MM, FIRST_FOLD_MM * 2), 1):
        fy = PAGE_H - at * mm
        comp.rule(6 * mm, fy, PAGE_W - 6 * mm, fy, width=0.4, gray=0.4, dash=(4, 3))
        comp.text(PAGE_W - 8 * mm, fy + 3, text("fold", fold=n, fold_at=f"{at:g}"), small,
                  align="right")
    comp.text(PAGE_W / 2, PAGE_H - 130 * mm, text("title"), TITLE, align="center")
    comp.y = PAGE_H - 145 * mm
    comp.paragraph(text("instructions"), BODY, x=LEFT + 10 * mm, width=CONTENT_W - 20 * mm)
    _ruler(comp, small, text("ruler"))
    out = Path(out)
    with written_into_place(out) as tmp:
        canvas = renderer.new_canvas(str(tmp))
        for ops in comp.pages:
            for op in ops:
                draw_op(canvas, op)
            canvas.showPage()
        canvas.save()
    return out


def _window_marks(comp: Composer, x: float, y: float, w: float, h: float) -> None:
    """The window's outline, the recipient block's bounds, a centre cross, corner ticks."""
    comp.rect(x, y, w, h, width=0.8)
    comp.rect(x + 4 * mm, y + 2 * mm, w - 8 * mm, h - 6 * mm, width=0.4, stroke_gray=0.5,
              dash=(3, 2))  # where the recipient block prints
    cx, cy = x + w / 2, y + h / 2
    comp.rule(cx - 6 * mm, cy, cx + 6 * mm, cy, width=0.3, gray=0.6)
    comp.rule(cx, cy - 6 * mm, cx, cy + 6 * mm, width=0.3, gray=0.6)
    for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
        comp.rule(px - 5 * mm, py, px + 5 * mm, py, width=0.3)
        comp.rule(px, py - 5 * mm, px, py + 5 * mm, width=0.3)


def _ruler(comp: Composer, style: Style, label: str) -> None:
    """A 100 mm ruler, to check the sheet was printed at its actual size."""
    ruler_y = PAGE_H - 178 * mm
    comp.rule(LEFT + 10 * mm, ruler_y, LEFT + 110 * mm, ruler_y, width=0.6)
    for n in range(11):
        tx = LEFT + 10 * mm + n * 10 * mm
        comp.rule(tx, ruler_y, tx, ruler_y + (3 * mm if n % 5 else 5 * mm), width=0.5)
    comp.text(LEFT + 60 * mm, ruler_y - 12, label, style, align="center")
