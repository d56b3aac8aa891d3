"""A printable case record (ReportLab, the bundled Japanese fonts): the case's header,
the victim, the incidents, the payout details masked as the window masks them, the
letters, and the timeline in the words of the case detail's timeline tab
(app.domain.words), oldest first. A4 portrait, as many pages as the timeline needs,
each numbered and headed with the case number.

A character no bundled font has is printed as 〓 (never a box), so that a record
always prints; the window shows the name as stored.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.core.files import written_into_place
from app.core.i18n import _, format_moment, format_yen
from app.domain.words import (
    VICTIM_FIELDS,
    action_label,
    actor_text,
    change_lines,
    change_value,
    channel_label,
    payout_lines,
    reason_text,
    status_label,
)
from app.letters.fonts import GOTHIC, GOTHIC_BOLD, font_book

if TYPE_CHECKING:
    from datetime import datetime

    from app.services.views import CaseView

MISSING = "〓"  # geta: the printers' mark for a character the type case lacks
LEFT, RIGHT = 15 * mm, A4[0] - 15 * mm
TOP, BOTTOM = A4[1] - 16 * mm, 16 * mm


class _Pages:
    def __init__(self, canvas: Canvas, title: str, footer: str) -> None:
        self.c, self.title, self.footer = canvas, title, footer
        self.book = font_book()
        self.count = 0
        self._start()

    def _start(self) -> None:
        self.count += 1
        self.y = TOP
        self._draw(LEFT, self.title, 8, color=colors.grey)
        self._draw(RIGHT, f"{self.count}", 8, right=True, color=colors.grey)
        self.c.setFont(GOTHIC, 7)
        self.c.setFillColor(colors.grey)
        self._draw(LEFT, self.footer, 7, y=BOTTOM - 6 * mm, color=colors.grey)
        self.c.setFillColor(colors.black)
        self.y -= 8 * mm

    def _next_page(self) -> None:
        self.c.showPage()
        self._start()

    def room(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self._next_page()

    def printable(self, text: str, bold: bool = False) -> str:
        primary = GOTHIC_BOLD if bold else GOTHIC
        missing = set(self.book.unprintable(text, primary))
        return "".join(MISSING if ch in missing else ch for ch in text) if missing else text

    def _draw(self, x: float, text: str, size: float, bold: bool = False, right: bool = False,
              y: float | None = None, color=colors.black) -> None:
        """Run by run, each in the font that has its characters (FontBook's chain)."""
        primary = GOTHIC_BOLD if bold else GOTHIC
        text = self.printable(text, bold)
        y = self.y if y is None else y
        if right:
            x -= self.book.width(text, primary, size)
        self.c.setFillColor(color)
        for run in self.book.runs(text, primary):
            self.c.setFont(run.font, size)
            self.c.drawString(x, y, run.text)
            x += self.book.width(run.text, primary, size)
        self.c.setFillColor(colors.black)

    def wrap(self, text: str, width: float, size: float, bold: bool = False) -> list[str]:
        primary = GOTHIC_BOLD if bold else GOTHIC
        lines: list[str] = []
        for paragraph in (text or "").split("\n"):
            line = ""
            for char in self.printable(paragraph, bold):
                if line and self.book.width(line + char, primary, size) > width:
                    lines.append(line)
                    line = ""
                line += char
            lines.append(line)
        return lines

    def text(self, value: str, size: float = 9, bold: bool = False, x: float = LEFT,
             gap: float = 5 * mm) -> None:
        for line in self.wrap(value, RIGHT - x, size, bold):
            self.room(gap)
            self._draw(x, line, size, bold)
            self.y -= gap

    def heading(self, value: str) -> None:
        self.room(14 * mm)
        self.y -= 3 * mm
        self._draw(LEFT, value, 11, bold=True)
        self.c.setStrokeColor(colors.HexColor("#888888"))
        self.c.line(LEFT, self.y - 1.6 * mm, RIGHT, self.y - 1.6 * mm)
        self.y -= 6.5 * mm

    def table(self, headers: list[str], widths: list[float], rows: list[list[str]],
              size: float = 8) -> None:
        """Columns of ``widths`` (mm, the last takes the rest); a cell wraps in its column."""
        edges = [LEFT]
        for width in widths:
            edges.append(edges[-1] + width * mm)
        edges.append(RIGHT)
        gap = size * 0.45 * mm

        def row(cells: list[str], bold: bool) -> None:
            wrapped = [self.wrap(cell, edges[i + 1] - edges[i] - 2 * mm, size, bold)
                       for i, cell in enumerate(cells)]
            height = max(len(lines) for lines in wrapped) * (size + 2.5)
            if self.y - height < BOTTOM:
                self._next_page()
                if not bold:
                    row(headers, True)
            top = self.y
            for i, lines in enumerate(wrapped):
                y = top
                for line in lines:
                    self._draw(edges[i], line, size, bold, y=y)
                    y -= size + 2.5
            self.y = top - height - gap
            self.c.setStrokeColor(colors.HexColor("#dddddd"))
            self.c.line(LEFT, self.y + size * 0.9, RIGHT, self.y + size * 0.9)

        row(headers, True)
        if not rows:
            self.text(_("None"), size)
        for cells in rows:
            row(cells, False)
        self.y -= 2 * mm


def _change(before: str | None, after: str | None) -> str:
    return "\n".join(change_lines(json.loads(before) if before else {},
                                  json.loads(after) if after else {}))


def write_pdf(case: CaseView, path: str | Path, printed_at: datetime,
              printed_by: str) -> int:
    """The record of ``case`` into ``path`` (beside it first, moved into place at the end);
    returns the number of pages."""
    target = Path(path)
    title = _("Case record {number}").format(number=case.case_number)
    footer = _("Printed {when} by {login}. Personal data: keep and dispose of it as the "
               "programme's rules say.").format(when=format_moment(printed_at),
                                                login=printed_by)
    with written_into_place(target) as temp:
        canvas = Canvas(str(temp), pagesize=A4)
        canvas.setTitle(title)
        canvas.setAuthor("Hosho Desk")
        pages = _Pages(canvas, title, footer)
        pages._draw(LEFT, f"{case.case_number}　{case.victim.name}", 16, bold=True)
        pages.y -= 7 * mm
        pages.text(f"{channel_label(case.channel)} ・ {_('Status')}: "
                   f"{status_label(case.status)}", 10)
        amounts = [f"{_('Claimed amount')} {format_yen(case.claimed_amount)}"]
        for label, value in ((_("Verified amount"), case.verified_amount),
                             (_("Approved amount"), case.approved_amount),
                             (_("Paid amount"), case.paid_amount)):
            if value is not None:
                amounts.append(f"{label} {format_yen(value)}")
        pages.text("　".join(amounts), 10)
        if case.status_reason:
            pages.text(f"{_('Reason')}: {reason_text(case.status_reason)}", 9)
        pages.heading(_("Victim"))
        victim_rows = [[_(label), getattr(case.victim, key) or "—"]
                       for key, label in VICTIM_FIELDS]
        pages.table([_("Item"), _("Value")], [40], victim_rows, 9)
        pages.heading(_("Incidents"))
        pages.table([_("Report ID"), _("Occurred"), _("Amount"), _("Merchant"), _("Card")],
                    [34, 34, 24, 56],
                    [[i.report_id, format_moment(i.occurred_at), format_yen(i.amount),
                      i.merchant or "", i.card_last4 or ""] for i in case.incidents])
        pages.heading(_("Payout details"))
        if case.payout is None:
            pages.text(_("No payout details yet."), 9)
        else:  # masked, as the window shows them before "show full details"
            for line in payout_lines(case.payout.masked()):
                pages.text(line, 9)
        pages.heading(_("Letters"))
        pages.table([_("Letter code"), _("Kind"), _("Produced"), _("Mailed")], [34, 60, 34],
                    [[x.code, change_value("kind", x.kind), format_moment(x.created_at),
                      format_moment(x.mailed_at)] for x in case.letters])
        pages.heading(_("Timeline"))
        pages.table([_("When"), _("Who"), _("What"), _("Change"), _("Reason")],
                    [31, 18, 40, 60],
                    [[format_moment(e.at), actor_text(e.actor_login), action_label(e.action),
                      _change(e.before, e.after), reason_text(e.reason)]
                     for e in case.timeline], 7.5)
        canvas.showPage()
        canvas.save()
        count = pages.count
    return count
