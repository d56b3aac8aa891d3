"""The reconciliation report as a PDF (ReportLab, bundled fonts embedded)."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.core.clock import to_jst
from app.core.files import written_into_place
from app.domain.channels import Channel
from app.domain.reconciliation import DIFFERENCES_JA, FIGURES, FIGURES_JA
from app.letters.fonts import GOTHIC, GOTHIC_BOLD, font_book

PAGE = landscape(A4)
LEFT, TOP, BOTTOM = 15 * mm, PAGE[1] - 16 * mm, 15 * mm
BATCH_STATUS_JA = {"built": "作成済", "released": "承認済", "sent": "送信済",
                   "cancelled": "取消済"}


class _Writer:
    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self.y = TOP
        self.page = 1

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.c.showPage()
            self.page += 1
            self.y = TOP

    def text(self, x: float, value: str, size: float = 9, bold: bool = False,
             right: bool = False) -> None:
        self.c.setFont(GOTHIC_BOLD if bold else GOTHIC, size)
        (self.c.drawRightString if right else self.c.drawString)(x, self.y, value)

    def row(self, cells: list[str], edges: list[float], size: float = 8.5,
            bold: bool = False) -> None:
        """First cell left-aligned at LEFT, the others right-aligned at their edges (mm)."""
        self.need(5 * mm)
        self.text(LEFT, cells[0], size, bold)
        for value, edge in zip(cells[1:], edges, strict=True):
            self.text(edge * mm, value, size, bold, right=True)
        self.y -= 5 * mm

    def rule(self) -> None:
        self.c.setStrokeColor(colors.grey)
        self.c.line(LEFT, self.y + 3.5 * mm, PAGE[0] - LEFT, self.y + 3.5 * mm)

    def heading(self, value: str) -> None:
        self.need(14 * mm)
        self.y -= 3 * mm
        self.text(LEFT, value, 11, bold=True)
        self.y -= 6 * mm


def _n(value: int | None, yen: bool = True) -> str:
    if value is None:
        return "—"
    return f"{value:,}円" if yen else f"{value:,}"


def write_pdf(report, path: str | Path) -> Path:
    font_book()  # registers the bundled fonts with ReportLab
    target = Path(path)
    with written_into_place(target) as temp:
        canvas = Canvas(str(temp), pagesize=PAGE)
        canvas.setTitle("補償金 照合報告")
        w = _Writer(canvas)
        w.text(LEFT, "7pay 補償プログラム 支払照合報告", 15, bold=True)
        w.text(PAGE[0] - LEFT, f"{to_jst(report.as_of):%Y年%m月%d日 %H:%M} 現在", 9, right=True)
        w.y -= 8 * mm
        verdict = "差異なし" if report.balanced else f"差異 {len(report.differences):,}件"
        w.text(LEFT, f"照合結果: {verdict}", 11, bold=True)
        w.y -= 4 * mm
        edges = [95, 130, 165, 200, 235, 260, 282]
        w.heading("被害区分別")
        w.row(["区分", *[FIGURES_JA[k] for k in FIGURES]], edges, bold=True)
        for channel, figures in report.by_channel.items():
            w.row([Channel(channel).label_ja,
                   *[_n(getattr(figures, k), k != "cases") for k in FIGURES]], edges)
        w.rule()
        w.row(["合計", *[_n(getattr(report.total, k), k != "cases") for k in FIGURES]], edges,
              bold=True)
        w.heading("振込バッチ別")
        bedges = [45, 75, 100, 135, 160, 195, 225, 255, 282]
        w.row(["バッチ", "状態", "振込日", "記録合計", "件数", "振込合計", "入金済", "返却",
               "結果待ち", "差額"], bedges,
              bold=True)
        for b in report.batches:
            w.row([f"No.{b.batch_id}", BATCH_STATUS_JA.get(b.status, b.status), b.transfer_date,
                   _n(b.recorded_total), _n(b.items, False), _n(b.items_total), _n(b.done),
                   _n(b.returned), _n(b.pending), _n(b.difference)], bedges)
        if not report.batches:
            w.row(["（振込バッチなし）"], [])
        w.heading("差異の明細")
        dedges = [150, 200, 250]
        if report.differences:
            w.row(["案件番号", "内容", "あるべき額", "実際の額"], dedges, bold=True)
            for d in report.differences:
                w.row([d.case_number, DIFFERENCES_JA[d.what], _n(d.expected), _n(d.found)],
                      dedges)
        else:
            w.row(["区分別の合計・バッチ合計・案件ごとの支払額はすべて一致しています。"], [])
        canvas.showPage()
        canvas.save()
    return target
