"""The balance-refund programme's page (残高払戻し): its figures, the imports of the two
files (checked first, then committed), the work lists, and the people with money in
both programmes. The programme's name heads the page, so no one mistakes it for a
compensation page."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, error_text, format_moment, format_yen, one_language
from app.domain.refunds import IDENTITY_HOW, WORK_LISTS
from app.services import refunds, refunds_import, refunds_overlap, refunds_stats
from app.services.gateway import FileIn
from app.ui.desk import Desk

LIST_TITLES = {"unmatched": N_("Member not found"),
               "awaiting_identity": N_("Awaiting identity check"),
               "late": N_("After the deadline"),
               "held_overlap": N_("Held: overlaps compensation")}
LIST_HEADERS = (N_("Application"), N_("Member ID"), N_("Name"), N_("Route"), N_("Applied"),
                N_("Refundable"), N_("Reason"))
BOTH_HEADERS = (N_("Member ID"), N_("Name"), N_("Charges"), N_("Balance"),
                N_("Compensation paid and due"), N_("Refund paid and due"), N_("Allowed"),
                N_("Excess"))
ROUTE_LABELS = {"app": N_("App"), "web": N_("Web form"), "phone": N_("Phone call")}
HOW_LABELS = {"phone_on_record": N_("Called the phone number on record"),
              "email_on_record": N_("By the e-mail address on record"),
              "letter_to_address": N_("By a letter to the address on record")}


def figures_text(figures: dict) -> str:
    """The programme's figures in one line (this page and the dashboard)."""
    states = figures["states"]
    refused = sum(states[s] for s in ("refused", "refused_closed", "refused_no_balance"))
    return _(
        "Members {members}, balances {balance}; applications {applications} "
        "(paid {paid}, refused {refused}); refundable {refundable}, refunded {refunded}"
    ).format(members=f"{figures['members']:,}", balance=format_yen(figures["balance_total"]),
             applications=f"{figures['applications']:,}", paid=f"{states['paid']:,}",
             refused=f"{refused:,}", refundable=format_yen(figures["refundable_total"]),
             refunded=format_yen(figures["refunded_total"]))


def _reason(text: str | None) -> str:
    """A stored reason is "Japanese / English": shown in the interface's language."""
    ja, _sep, en = (text or "").partition(" / ")
    return one_language(ja, en or ja)


def _table(name: str, headers: tuple[str, ...], widths: tuple[int, ...] = ()) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels([_(h) for h in headers])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    return table


class RefundsPage(QWidget):
    title = "Balance refund"
    loaded = Signal()
    imported = Signal(object)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.summary = None
        self._build()
        self.refresh()

    # -- layout ------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.programme = QLabel(_("Balance refund programme (closing balances of 30 September "
                                  "2019)"))
        self.programme.setObjectName("programme")
        self.programme.setStyleSheet("font-weight: bold; font-size: 15pt; color: #1b5e20;")
        layout.addWidget(self.programme)
        self.figures = QLabel()
        self.figures.setObjectName("figures")
        layout.addWidget(self.figures)
        layout.addWidget(self._import_box())
        self.tabs = QTabWidget()
        self.lists: dict[str, QTableWidget] = {}
        for name in WORK_LISTS:
            table = _table(f"list_{name}", LIST_HEADERS, (110, 130, 130, 90, 150, 100))
            self.lists[name] = table
            self.tabs.addTab(table, _(LIST_TITLES[name]))
        self.both = _table("both_programmes", BOTH_HEADERS,
                           (130, 130, 110, 110, 170, 170, 110))
        self.tabs.addTab(self.both, _("In both programmes"))
        layout.addWidget(self.tabs, 1)
        layout.addLayout(self._identity_row())
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)

    def _import_box(self) -> QGroupBox:
        box = QGroupBox(_("Import a file"))
        row = QHBoxLayout(box)
        self.kind = QComboBox()
        self.kind.addItem(_("Closing balances"), "balances")
        self.kind.addItem(_("Applications"), "applications")
        self.path = QLineEdit()
        self.path.setPlaceholderText(_("CSV file (UTF-8 or Shift_JIS)"))
        browse = QPushButton(_("Choose…"))
        browse.clicked.connect(self._browse)
        self.check_button = QPushButton(_("Check (nothing written)"))
        self.check_button.clicked.connect(lambda: self.run_import(dry_run=True))
        self.import_button = QPushButton(_("Import"))
        self.import_button.setEnabled(False)
        self.import_button.clicked.connect(lambda: self.run_import(dry_run=False))
        self.path.textChanged.connect(lambda _text: self.import_button.setEnabled(False))
        self.kind.currentIndexChanged.connect(lambda _i: self.import_button.setEnabled(False))
        for widget in (self.kind, self.path, browse, self.check_button, self.import_button):
            row.addWidget(widget, 1 if widget is self.path else 0)
        return box

    def _identity_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.how = QComboBox()
        for how in IDENTITY_HOW:
            self.how.addItem(_(HOW_LABELS[how]), how)
        self.confirm_button = QPushButton(_("Identity confirmed"))
        self.confirm_button.clicked.connect(self.confirm_selected)
        self.refuse_button = QPushButton(_("Refuse…"))
        self.refuse_button.clicked.connect(self.refuse_selected)
        row.addWidget(QLabel(_("Selected application:")))
        row.addWidget(self.how)
        row.addWidget(self.confirm_button)
        row.addWidget(self.refuse_button)
        row.addStretch(1)
        return row

    # -- reading -----------------------------------------------------------------
    def refresh(self) -> None:
        self.desk.call(refunds_stats.figures, on_done=self._show_figures, on_error=self._error)
        for name in WORK_LISTS:
            self.desk.call(refunds.work_list, name, on_done=lambda rows, n=name:
                           self._fill_list(n, rows), on_error=self._error)
        self.desk.call(refunds_overlap.both_programmes, on_done=self._fill_both,
                       on_error=self._error)

    def _show_figures(self, figures: dict) -> None:
        self.figures.setText(figures_text(figures))
        self.loaded.emit()

    def _fill_list(self, name: str, rows: list[refunds.ApplicationView]) -> None:
        table = self.lists[name]
        table.setRowCount(len(rows))
        for index, r in enumerate(rows):
            amount = "" if r.refundable_amount is None else format_yen(r.refundable_amount)
            values = (r.application_id, r.member_id or "", r.name,
                      _(ROUTE_LABELS.get(r.route, r.route)), format_moment(r.applied_at),
                      amount, _reason(r.state_reason))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                table.setItem(index, column, item)
        self.tabs.setTabText(list(WORK_LISTS).index(name),
                             f"{_(LIST_TITLES[name])} ({len(rows):,})")

    def _fill_both(self, people: list[refunds_overlap.PersonInBoth]) -> None:
        self.both.setRowCount(len(people))
        for index, p in enumerate(people):
            values = (p.member_id, p.name, format_yen(p.charges), format_yen(p.balance),
                      format_yen(p.compensation_paid + p.compensation_due),
                      format_yen(p.refund_paid + p.refund_due), format_yen(p.allowed),
                      format_yen(p.excess) if p.excess else "")
            for column, value in enumerate(values):
                self.both.setItem(index, column, QTableWidgetItem(value))

    # -- imports -----------------------------------------------------------------
    def _browse(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, _("Import a file"), "",
                                                    "CSV (*.csv *.tsv *.txt)")
        if path:
            self.path.setText(path)

    def run_import(self, *, dry_run: bool) -> None:
        path = self.path.text().strip()
        if not path:
            self.message.setText(_("Choose a file first."))
            return
        done = lambda summary: self._imported(summary, dry_run)  # noqa: E731
        if self.kind.currentData() == "balances":
            self.desk.act(refunds_import.import_balances, FileIn(path), dry_run=dry_run,
                          on_done=done, on_error=self._error)
        else:
            self.desk.act(refunds_import.import_applications, FileIn(path), dry_run=dry_run,
                          on_done=done, on_error=self._error)

    def _imported(self, summary, dry_run: bool) -> None:
        self.summary = summary
        text = _("{file}: read {read}, accepted {accepted}, duplicate {duplicate}, "
                 "conflict {conflict}, rejected {rejected}").format(
            file=summary.file_name, read=f"{summary.read:,}", accepted=f"{summary.accepted:,}",
            duplicate=f"{summary.duplicate:,}", conflict=f"{summary.conflict:,}",
            rejected=f"{summary.rejected:,}")
        if dry_run:
            text = _("Checked, nothing written.") + " " + text
        reasons = [f"{row.line}: " + " | ".join(row.ja or row.reasons)
                   for row in summary.refused[:5]]
        self.message.setText("\n".join([text, *reasons]))
        self.import_button.setEnabled(dry_run)
        if not dry_run:
            self.refresh()
        self.imported.emit(summary)

    # -- decisions ---------------------------------------------------------------
    def _selected(self) -> int | None:
        table = self.tabs.currentWidget()
        if not isinstance(table, QTableWidget) or table is self.both:
            return None
        item = table.item(table.currentRow(), 0) if table.currentRow() >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def confirm_selected(self) -> None:
        selected = self._selected()
        if selected is None:
            self.message.setText(_("Select an application in a list first."))
            return
        self.desk.act(refunds.confirm_identity, selected, self.how.currentData(),
                      on_done=self._decided, on_error=self._error)

    def refuse_selected(self) -> None:
        selected = self._selected()
        if selected is None:
            self.message.setText(_("Select an application in a list first."))
            return
        reason = self.desk.prompter.ask_text(self, _("Refuse"), _("Reason for the refusal:"))
        if reason:
            self.desk.act(refunds.refuse, selected, reason, on_done=self._decided,
                          on_error=self._error)

    def _decided(self, view: refunds.ApplicationView) -> None:
        self.message.setText(f"{view.application_id}: {view.state_label}")
        self.refresh()

    def _error(self, exc: Exception) -> None:
        self.message.setText(error_text(exc))
