"""A one-page, dated PDF of the dashboard for management (ReportLab, bundled fonts)."""

from __future__ import annotations

from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.core.clock import to_jst
from app.core.files import written_into_place
from app.domain.channels import Channel
from app.domain.states import Status
from app.letters.fonts import GOTHIC, GOTHIC_BOLD, font_book

OUTREACH_JA = {"contacted": "案内済", "awaiting": "案内待ち", "no_contact": "連絡先なし",
               "letter_due": "案内状待ち", "unreachable": "連絡不能"}
DEADLINES_JA = {"credit_overdue": "クレジット期限超過", "credit_due": "クレジット期限間近",
                "documents_reminder": "書類督促対象", "payment_late": "承認後未払い"}
COLUMNS_JA = ("件数", "請求額", "確認額", "承認額", "支払額", "未払見込")


def _yen(value: int) -> str:
    return f"{value:,}円"


class _Page:
    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self.y = A4[1] - 18 * mm

    def text(self, x: float, value: str, size: float = 9, bold: bool = False,
             right: bool = False) -> None:
        self.c.setFont(GOTHIC_BOLD if bold else GOTHIC, size)
        if right:
            self.c.drawRightString(x, self.y, value)
        else:
            self.c.drawString(x, self.y, value)

    def line(self, height: float = 5 * mm) -> None:
        self.y -= height

    def heading(self, value: str) -> None:
        self.line(3 * mm)
        self.text(15 * mm, value, 11, bold=True)
        self.line(6 * mm)

    def money_table(self, rows: list[tuple[str, object]]) -> None:
        edges = [72, 97, 121, 145, 170, 195]
        self.text(15 * mm, "", 8)
        for edge, title in zip(edges, COLUMNS_JA, strict=True):
            self.text(edge * mm, title, 8, bold=True, right=True)
        self.line(4.5 * mm)
        for label, money in rows:
            self.text(15 * mm, label, 8)
            values = (money.cases, money.claimed, money.verified, money.approved, money.paid,
                      money.outstanding)
            for index, (edge, value) in enumerate(zip(edges, values, strict=True)):
                self.text(edge * mm, f"{value:,}" if index == 0 else _yen(value), 8,
                          right=True)
            self.line(4.2 * mm)


def _chart(page: _Page, board, height: float = 38 * mm) -> None:
    days = board.paid_per_day[-30:]
    left, width = 20 * mm, 170 * mm
    bottom = page.y - height
    c = page.c
    c.setStrokeColor(colors.grey)
    c.line(left, bottom, left + width, bottom)
    if not days:
        page.text(left, "（支払実績なし）", 8)
        page.y = bottom - 6 * mm
        return
    top = max(y for _, _, y in days) or 1
    step = width / len(days)
    c.setFillColor(colors.HexColor("#3b6ea5"))
    for index, (_day, _count, yen) in enumerate(days):
        bar = (yen / top) * (height - 6 * mm)
        c.rect(left + index * step + 1, bottom, max(step - 2, 1), bar, stroke=0, fill=1)
    c.setFillColor(colors.black)
    c.setFont(GOTHIC, 6.5)
    for index, (day, _count, _amount) in enumerate(days):
        if len(days) <= 12 or index % max(1, len(days) // 10) == 0:
            c.drawCentredString(left + (index + 0.5) * step, bottom - 3.2 * mm,
                                f"{day.month}/{day.day}")
    c.drawString(left, bottom + height - 3 * mm, f"最大 {_yen(top)}／日")
    page.y = bottom - 8 * mm


def _checkpoint(page: _Page, checkpoint) -> None:
    """Where the audit chain stood, so that the printed page remembers it: anyone can later
    check that the chain still holds this hash at this position
    (`hosho audit verify --against SEQ:HASH`)."""
    page.heading("監査記録のチェックポイント")
    if checkpoint is None:
        page.text(15 * mm, "（記録なし）", 8)
        page.line()
        return
    taken = to_jst(checkpoint.taken_at)
    page.text(15 * mm, f"{taken:%Y年%m月%d日 %H:%M} 時点の鎖の終端：番号 seq {checkpoint.seq:,}", 9)
    page.line(4.5 * mm)
    page.text(15 * mm, f"hash {checkpoint.hash}", 8)
    page.line(4.5 * mm)
    page.text(15 * mm, "照合 verify: hosho audit verify --against 番号:hash（SEQ:HASH）", 7)
    page.line(4.5 * mm)
    if checkpoint.signature:
        page.text(15 * mm, f"署名鍵 signed by {checkpoint.signature.key}", 8)
        page.line(4 * mm)
        page.text(15 * mm, f"署名 Ed25519 {checkpoint.signature.value}", 5.5)
    else:
        page.text(15 * mm, "署名なし（署名鍵が設定されていません）/ unsigned", 8)
    page.line()


def _warn(page: _Page, value: str) -> None:
    page.line(2 * mm)
    page.c.setFillColor(colors.HexColor("#b00020"))
    page.text(15 * mm, value, 10, bold=True)
    page.c.setFillColor(colors.black)
    page.line(3 * mm)


def write_pdf(board, path: str | Path) -> Path:
    """Draw the report into ``path`` (written beside it first, moved into place at the end)."""
    font_book()  # registers the bundled fonts with ReportLab
    target = Path(path)
    with written_into_place(target) as temp:
        canvas = Canvas(str(temp), pagesize=A4)
        canvas.setTitle("補償プログラム 進捗報告")
        page = _Page(canvas)
        page.text(15 * mm, "7pay 不正利用 補償プログラム 進捗報告", 15, bold=True)
        page.text(195 * mm, f"{to_jst(board.as_of):%Y年%m月%d日 %H:%M} 現在", 9, right=True)
        page.line(9 * mm)
        page.text(15 * mm, f"被害者数 {board.victims:,}名（公表 {board.public_victims:,}名、"
                  f"差 {board.victims_difference:+,}）", 10)
        page.line()
        page.text(15 * mm, f"請求総額 {_yen(board.totals.claimed)}（公表 "
                  f"{_yen(board.public_total_yen)}、差 {board.claimed_difference:+,}円）", 10)
        page.line()
        page.text(15 * mm, f"支払済 {_yen(board.totals.paid)}　未払見込 "
                  f"{_yen(board.totals.outstanding)}", 10)
        page.line(4 * mm)
        if getattr(board, "operator_second_factor_relaxed", False):
            _warn(page, "注意: オペレーターは認証アプリのコードなしでサインインできます"
                        "（設定で緩和されています）。")
        page.heading("被害区分別")
        page.money_table([(Channel(k).label_ja, m) for k, m in board.by_channel.items()]
                         + [("合計", board.totals)])
        page.heading("状態別")
        page.money_table([(Status(k).label_ja, m) for k, m in board.by_status.items()
                          if m.cases])
        page.heading("案内の進捗・期限")
        outreach = "　".join(f"{OUTREACH_JA[k]} {v:,}" for k, v in board.outreach.items())
        page.text(15 * mm, outreach, 9)
        page.line()
        deadlines = "　".join(f"{DEADLINES_JA[k]} {v:,}" for k, v in board.deadlines.items())
        page.text(15 * mm, deadlines, 9)
        page.line()
        page.heading("日別支払額（直近30日）")
        _chart(page, board)
        _checkpoint(page, board.checkpoint)
        canvas.showPage()
        canvas.save()
    return target
