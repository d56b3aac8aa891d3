"""The programme dashboard: figures beside the public ones, payments per day, outreach
progress and deadline counts. Computed on the lane by SQL aggregates; refreshed a
moment after cases change; exported as CSV or a one-page PDF."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QLineSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, error_text, format_day, format_moment, format_yen
from app.domain.channels import Channel
from app.domain.states import Status
from app.services import dashboard, refunds_stats
from app.ui.desk import Desk
from app.ui.labels import channel_label, status_label
from app.ui.refresh import follow_changes, touches_cases
from app.ui.tables import fill_table, make_table

REFRESH_DELAY_MS = 400
CHART_DAYS = 30
MONEY_HEADERS = (N_("Case count"), N_("Claimed"), N_("Verified"), N_("Approved"), N_("Paid"),
                 N_("Outstanding"))
OUTREACH = (("contacted", N_("Contacted")), ("awaiting", N_("Awaiting guidance")),
            ("no_contact", N_("No contact details")), ("letter_due", N_("Letter due")),
            ("unreachable", N_("Unreachable")))
DEADLINES = (("credit_overdue", N_("Credit deadline overdue")),
             ("credit_due", N_("Credit deadline due")),
             ("documents_reminder", N_("Documents awaited: reminder due")),
             ("payment_late", N_("Approved, not yet paid")))


def _money_table(name: str) -> QTableWidget:
    return make_table(name, MONEY_HEADERS, (60, 120, 120, 120, 120, 120), rows=False,
                      row_labels=True, row_height=22, stretch_last=False)


def _fill_money(table: QTableWidget, rows: list[tuple[str, dashboard.Money]]) -> None:
    table.setRowCount(len(rows))
    table.setVerticalHeaderLabels([label for label, _m in rows])
    for index, (_label, money) in enumerate(rows):
        values = (f"{money.cases:,}", format_yen(money.claimed), format_yen(money.verified),
                  format_yen(money.approved), format_yen(money.paid),
                  format_yen(money.outstanding))
        for column, value in enumerate(values):
            item = QTableWidgetItem(value)
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            table.setItem(index, column, item)


class DeadlineDialog(QDialog):
    """The cases behind one deadline count."""

    def __init__(self, title: str, rows: list[dashboard.DeadlineRow],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(760, 480)
        table = make_table("deadline_rows", (N_("Case number"), N_("Name"), N_("Channel"),
                                             N_("State"), N_("Since"), N_("Amount")),
                           rows=False, row_labels=True, stretch_last=False)
        fill_table(table, [(row.case_number, row.name, channel_label(row.channel),
                            status_label(row.status),
                            format_moment(row.since) if hasattr(row.since, "hour")
                            else format_day(row.since), format_yen(row.amount))
                           for row in rows])
        close = QPushButton(_("Close"))
        close.clicked.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.table = table


def calendar_days(paid: list[tuple[date, int, int]]) -> list[tuple[date, int, int]]:
    """Every day from the first payment day to the last, a day without payments as
    zero: the axis is a calendar (no jump from one payment day to a far later one)."""
    if not paid:
        return []
    by_day = {day: (day, cases, yen) for day, cases, yen in paid}
    first, last = min(by_day), max(by_day)
    return [by_day.get(first + timedelta(days=n), (first + timedelta(days=n), 0, 0))
            for n in range((last - first).days + 1)]


class DashboardPage(QWidget):
    title = "Dashboard"
    loaded = Signal()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.board: dashboard.Dashboard | None = None
        self.last_dialog: DeadlineDialog | None = None
        self._timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self._build()
        follow_changes(self, desk, touches_cases, self._timer.start)
        self.refresh()

    # -- layout ------------------------------------------------------------
    def _build(self) -> None:
        self.headline = QLabel()
        self.headline.setObjectName("dashboard_headline")
        self.headline.setTextFormat(Qt.TextFormat.RichText)
        self.as_of = QLabel()
        self.csv_button = QPushButton(_("Export CSV…"))
        self.csv_button.clicked.connect(lambda: self.export_csv())
        self.pdf_button = QPushButton(_("PDF report…"))
        self.pdf_button.clicked.connect(lambda: self.export_pdf())
        self.refresh_button = QPushButton(_("Refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        # Shown only while operators may sign in without an authenticator code.
        self.security_warning = QLabel(_(
            "Operators can sign in without an authenticator code: an administrator "
            "relaxed the second factor for operators in the settings."))
        self.security_warning.setObjectName("dashboard_security_warning")
        self.security_warning.setWordWrap(True)
        self.security_warning.setStyleSheet(
            "color: white; background: #b00020; padding: 6px; font-weight: bold")
        self.security_warning.hide()
        top = QHBoxLayout()
        top.addWidget(self.headline, 1)
        for widget in (self.as_of, self.refresh_button, self.csv_button, self.pdf_button):
            top.addWidget(widget)

        self.channel_table = _money_table("by_channel")
        self.status_table = _money_table("by_status")
        self.chart = QChart()
        self.chart.setTitle(_("Paid per day (last 30 days)"))
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart.setMargins(QMargins(4, 4, 4, 4))
        self.chart_view = QChartView(self.chart)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(260)

        self.outreach_labels: dict[str, QLabel] = {}
        outreach_box = QGroupBox(_("Outreach progress"))
        grid = QGridLayout(outreach_box)
        for row, (key, text) in enumerate(OUTREACH):
            grid.addWidget(QLabel(_(text)), row, 0)
            self.outreach_labels[key] = QLabel("–")
            self.outreach_labels[key].setAlignment(Qt.AlignmentFlag.AlignRight)
            grid.addWidget(self.outreach_labels[key], row, 1)
        self.deadline_buttons: dict[str, QPushButton] = {}
        deadline_box = QGroupBox(_("Deadlines (click to list the cases)"))
        deadline_layout = QVBoxLayout(deadline_box)
        for key, _text in DEADLINES:
            button = QPushButton()
            button.setObjectName(f"deadline_{key}")
            button.clicked.connect(lambda _c=False, k=key: self.open_deadline(k))
            self.deadline_buttons[key] = button
            deadline_layout.addWidget(button)

        tables = QVBoxLayout()
        tables.addWidget(QLabel(_("By channel")))
        tables.addWidget(self.channel_table, 2)
        tables.addWidget(QLabel(_("By state")))
        tables.addWidget(self.status_table, 3)
        side = QVBoxLayout()
        side.addWidget(outreach_box)
        side.addWidget(deadline_box)
        side.addWidget(self._refund_box())
        side.addStretch(1)
        middle = QHBoxLayout()
        middle.addLayout(tables, 3)
        middle.addLayout(side, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.security_warning)
        layout.addLayout(top)
        layout.addLayout(middle, 3)
        layout.addWidget(self.chart_view, 2)

    def _refund_box(self) -> QGroupBox:
        """The balance-refund programme beside compensation (app.ui.refunds_page)."""
        box = QGroupBox(_("Balance refund"))
        self.refund_figures = QLabel("–")
        self.refund_figures.setObjectName("dashboard_refunds")
        self.refund_figures.setWordWrap(True)
        QVBoxLayout(box).addWidget(self.refund_figures)
        return box

    def _show_refunds(self, figures: dict) -> None:
        from app.ui.refunds_page import figures_text

        self.refund_figures.setText(figures_text(figures))

    # -- data --------------------------------------------------------------
    def refresh(self) -> None:
        self._timer.stop()
        self.desk.call(dashboard.dashboard, on_done=self.show_board, on_error=self._error)
        self.desk.call(refunds_stats.figures, on_done=self._show_refunds, on_error=self._error)

    def _error(self, exc: Exception) -> None:
        self.desk.prompter.error(self, error_text(exc))

    def show_board(self, board: dashboard.Dashboard) -> None:
        self.board = board
        self.headline.setText(self._headline(board))
        self.security_warning.setVisible(board.operator_second_factor_relaxed)
        self.as_of.setText(_("As of {time}").format(time=format_moment(board.as_of)))
        total_label = _("Total")
        _fill_money(self.channel_table,
                    [(channel_label(Channel(k)), m) for k, m in board.by_channel.items()]
                    + [(total_label, board.totals)])
        _fill_money(self.status_table,
                    [(status_label(Status(k)), m) for k, m in board.by_status.items()])
        for key, label in self.outreach_labels.items():
            label.setText(f"{board.outreach.get(key, 0):,}")
        for key, text in DEADLINES:
            self.deadline_buttons[key].setText(
                f"{_(text)}: {board.deadlines.get(key, 0):,}")
        self._draw_chart(board)
        self.loaded.emit()

    @staticmethod
    def _headline(board: dashboard.Dashboard) -> str:
        def diff(value: int, yen: bool) -> str:
            shown = format_yen(abs(value)) if yen else f"{abs(value):,}"
            sign = "+" if value > 0 else ("−" if value < 0 else "±")
            colour = "#1f7a1f" if value == 0 else "#b35900"
            return f"<span style='color:{colour}'>{sign}{shown}</span>"

        victims, public, claimed = _("Victims"), _("public"), _("Claimed")
        paid, outstanding = _("Paid"), _("Outstanding")
        return (
            f"<b>{victims}</b> {board.victims:,} "
            f"({public} {board.public_victims:,}, {diff(board.victims_difference, False)})"
            f"　<b>{claimed}</b> {format_yen(board.totals.claimed)} "
            f"({public} {format_yen(board.public_total_yen)}, "
            f"{diff(board.claimed_difference, True)})<br>"
            f"<b>{paid}</b> {format_yen(board.totals.paid)}"
            f"　<b>{outstanding}</b> {format_yen(board.totals.outstanding)}"
        )

    def _draw_chart(self, board: dashboard.Dashboard) -> None:
        chart = self.chart
        chart.removeAllSeries()
        for axis in chart.axes():
            chart.removeAxis(axis)
        days = calendar_days(board.paid_per_day)[-CHART_DAYS:]
        yen = QBarSet(_("Yen paid (thousands)"))
        yen.setColor(QColor("#3b6ea5"))
        cases = QLineSeries()
        cases.setName(_("Cases paid"))
        cases.setPen(QPen(QColor("#c0392b"), 2))
        for index, (_day, count, amount) in enumerate(days):
            yen.append(amount / 1000)
            cases.append(index, count)
        bars = QBarSeries()
        bars.append(yen)
        chart.addSeries(bars)
        chart.addSeries(cases)
        axis_x = QBarCategoryAxis()
        axis_x.append([f"{d.month}/{d.day}" for d, _c, _y in days] or ["–"])
        axis_x.setLabelsAngle(-90)  # thirty days' labels, none clipped
        chart.addAxis(axis_x, Qt.AlignmentFlag.AlignBottom)
        bars.attachAxis(axis_x)
        cases.attachAxis(axis_x)
        axis_yen = QValueAxis()
        axis_yen.setLabelFormat("%.0f")
        axis_yen.setTitleText(_("Thousand yen"))
        axis_yen.setRange(0, max([a / 1000 for _d, _c, a in days] or [1]) * 1.1)
        axis_yen.applyNiceNumbers()
        chart.addAxis(axis_yen, Qt.AlignmentFlag.AlignLeft)
        bars.attachAxis(axis_yen)
        axis_cases = QValueAxis()
        axis_cases.setLabelFormat("%d")
        axis_cases.setTitleText(_("Case count"))
        axis_cases.setRange(0, max([c for _d, c, _a in days] or [1]) * 1.1)
        axis_cases.applyNiceNumbers()
        chart.addAxis(axis_cases, Qt.AlignmentFlag.AlignRight)
        cases.attachAxis(axis_cases)

    # -- lists and exports ---------------------------------------------------
    def open_deadline(self, key: str, show: bool = True) -> None:
        title = _(dict(DEADLINES)[key])
        self.desk.call(dashboard.deadline_list, key,
                       on_done=lambda rows: self._deadline_loaded(title, rows, show),
                       on_error=self._error)

    def _deadline_loaded(self, title: str, rows, show: bool) -> None:
        self.last_dialog = DeadlineDialog(title, rows, self)
        if show:
            self.last_dialog.show()

    def _ask_path(self, caption: str, suffix: str, pattern: str) -> str | None:
        stamp = self.board.as_of.strftime("%Y%m%d") if self.board else "report"
        return self.desk.prompter.save_file(self, caption, f"dashboard-{stamp}.{suffix}",
                                            pattern)

    def export_csv(self, path: str | None = None) -> None:
        if self.board is None:
            return
        path = path or self._ask_path(_("Export CSV"), "csv", "CSV (*.csv)")
        if path:
            self.desk.locally(dashboard.write_csv, self.board, path,
                              on_done=lambda _r: self._saved(path), on_error=self._error)

    def export_pdf(self, path: str | None = None) -> None:
        if self.board is None:
            return
        path = path or self._ask_path(_("PDF report"), "pdf", "PDF (*.pdf)")
        if path:
            self.desk.locally(dashboard.write_pdf, self.board, path,
                              on_done=lambda _r: self._saved(path), on_error=self._error)

    def _saved(self, path: str) -> None:
        self.desk.prompter.info(self, _("Dashboard"), _("Saved: {path}").format(path=path))
