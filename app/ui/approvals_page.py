"""Approvals for supervisors: the verified cases waiting for a second pair of eyes (never
the ones this supervisor verified), each with its suspicion flags, and the list of every
suspicious pattern. Opening a row emits ``case_opened`` with the case id."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, error_text, format_moment, format_yen
from app.domain.channels import Channel
from app.services import suspicion
from app.services.suspicion import Flag, WaitingCase
from app.ui.desk import Desk
from app.ui.labels import channel_label
from app.ui.refresh import follow_changes, touches_cases
from app.ui.tables import make_table

PAGE_SIZE = 200
FLAG_LABELS = {
    "shared_account": N_("Bank account shared with another victim"),
    "shared_phone": N_("Phone number shared with another victim"),
    "shared_email": N_("E-mail address shared with another victim"),
    "late_payout_change": N_("Payout details changed shortly before approval"),
    "claim_unsupported": N_("Amount above what the incidents support"),
}
WAITING_HEADERS = (N_("Case number"), N_("Name"), N_("Channel"), N_("Verified amount"),
                   N_("Claimed amount"), N_("Verified by"), N_("Verified at"), N_("Flags"))
FLAG_HEADERS = (N_("Case number"), N_("Flag"), N_("Detail"))


def flag_label(kind: str) -> str:
    return _(FLAG_LABELS.get(kind, kind))


def flag_detail(flag: Flag) -> str:
    """The flag's detail in the interface's language."""
    if flag.hours is None:
        return flag.detail
    return _("{hours} h before (limit {limit} h)").format(hours=flag.hours,
                                                          limit=flag.limit_hours)


def _table(name: str, headers, widths) -> QTableWidget:
    return make_table(name, headers, widths, wrap=False)


def _put(table: QTableWidget, row: int, values, case_id: int, warn: bool = False) -> None:
    for column, value in enumerate(values):
        item = QTableWidgetItem(value)
        item.setData(Qt.ItemDataRole.UserRole, case_id)
        if warn:
            item.setForeground(Qt.GlobalColor.darkRed)
        table.setItem(row, column, item)


class ApprovalsPage(QWidget):
    title = "Approvals"
    case_opened = Signal(int)
    loaded = Signal()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.waiting: list[WaitingCase] = []
        self.flags: list[Flag] = []
        self._wanted = False
        self._build()
        follow_changes(self, desk, touches_cases, self._changed)

    def _build(self) -> None:
        self.note = QLabel(objectName="approvals_note")
        self.note.setWordWrap(True)
        self.refresh_button = QPushButton(_("Refresh"), objectName="approvals_refresh")
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button = QPushButton(_("Open case"), objectName="approvals_open")
        self.open_button.clicked.connect(self.open_selected)
        top = QHBoxLayout()
        top.addWidget(self.note, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.open_button)
        self.waiting_table = _table("waiting_table", WAITING_HEADERS,
                                    (110, 120, 170, 100, 100, 80, 165, 260))
        self.flag_table = _table("suspicious_table", FLAG_HEADERS, (110, 320, 200))
        for table in (self.waiting_table, self.flag_table):
            table.doubleClicked.connect(lambda _index: self.open_selected())
        self.tabs = QTabWidget(objectName="approvals_tabs")
        self.tabs.addTab(self.waiting_table, _("Waiting for approval"))
        self.tabs.addTab(self.flag_table, _("Suspicious patterns"))
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)

    # -- loading ---------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._wanted:
            self._wanted = True
            self.refresh()

    def _changed(self) -> None:
        if self._wanted:
            self.refresh()

    def refresh(self) -> None:
        self._wanted = True
        self.desk.act(suspicion.waiting_for_approval, 0, PAGE_SIZE, on_done=self._show_waiting,
                      on_error=self._refused)

    def _refused(self, exc: Exception) -> None:
        self.note.setText(error_text(exc))
        self.waiting_table.setRowCount(0)
        self.flag_table.setRowCount(0)
        self.loaded.emit()

    def _show_waiting(self, rows: list[WaitingCase]) -> None:
        self.waiting = rows
        self.waiting_table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            values = (row.case_number, row.name, channel_label(Channel(row.channel)),
                      format_yen(row.verified_amount), format_yen(row.claimed_amount),
                      row.verified_by or "", format_moment(row.verified_at),
                      " / ".join(flag_label(k) for k in row.flags))
            _put(self.waiting_table, index, values, row.case_id, warn=bool(row.flags))
        self.desk.act(suspicion.list_suspicious, on_done=self._show_flags,
                      on_error=self._refused)

    def _show_flags(self, flags: list[Flag]) -> None:
        self.flags = flags
        self.flag_table.setRowCount(len(flags))
        for index, flag in enumerate(flags):
            _put(self.flag_table, index,
                 (flag.case_number, flag_label(flag.kind), flag_detail(flag)), flag.case_id)
        flagged = sum(1 for row in self.waiting if row.flags)
        self.note.setText(_("{waiting:,} cases waiting for your approval ({flagged:,} "
                            "flagged); {cases:,} cases with suspicious patterns.").format(
            waiting=len(self.waiting), flagged=flagged,
            cases=len({f.case_id for f in flags})))
        self.tabs.setTabText(0, _("Waiting for approval") + f" ({len(self.waiting):,})")
        self.tabs.setTabText(1, _("Suspicious patterns") + f" ({len(flags):,})")
        self.loaded.emit()

    # -- opening ----------------------------------------------------------------------------
    def open_selected(self) -> None:
        table = self.tabs.currentWidget()
        item = table.item(table.currentRow(), 0) if table.currentRow() >= 0 else None
        if item is not None:
            self.case_opened.emit(int(item.data(Qt.ItemDataRole.UserRole)))
