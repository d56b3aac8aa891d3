"""The outreach queue: "Next" hands the operator one case, held for them, with the
attempt form beside it; the victims without contact details and the cases due a
guidance letter are listed apart."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtCore import QDateTime, Qt, QTimeZone, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.clock import JST, to_jst
from app.core.i18n import N_, _, error_text, format_day, format_moment, format_yen
from app.services import queue
from app.services.outreach import AttemptInput, Method, Outcome, record_attempt
from app.ui.desk import Desk
from app.ui.labels import CONTACT_METHODS, CONTACT_OUTCOMES, channel_label
from app.ui.refresh import follow_changes, touches_cases
from app.ui.tables import fill_table, make_table

PAGE_SIZE = 100
METHODS = tuple((method, CONTACT_METHODS[method.value]) for method in Method)
OUTCOMES = tuple((outcome, CONTACT_OUTCOMES[outcome.value]) for outcome in Outcome)
HEADERS = (N_("Case number"), N_("Name"), N_("Channel"), N_("Contact received"),
           N_("Failed attempts"), N_("Call back"), N_("Phone or e-mail"))


def _table(name: str) -> QTableWidget:
    return make_table(name, HEADERS, (110, 130, 160, 140, 110, 140, 130), single=False,
                      stretch_last=False)


def _fill(table: QTableWidget, rows: list[queue.QueueRow]) -> None:
    fill_table(table, [(row.case_number, row.name, channel_label(row.channel),
                        format_day(row.contact_received_at), str(row.failed_attempts),
                        format_moment(row.call_back_at), row.phone or row.email or "")
                       for row in rows], data=[row.case_id for row in rows])


class QueuePage(QWidget):
    title = "Outreach queue"
    loaded = Signal()
    case_opened = Signal(int)  # the main window shows the case in the case detail

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.held: queue.QueueRow | None = None
        self.offset = 0
        self.rows: list[queue.QueueRow] = []
        self._build()
        follow_changes(self, desk, touches_cases, self.refresh)
        self.refresh()
        desk.call(queue.current_hold, desk.actor, on_done=self._show_held)

    # -- layout ------------------------------------------------------------
    def _build(self) -> None:
        self.summary = QLabel()
        self.summary.setObjectName("queue_summary")
        self.next_button = QPushButton(_("Next (Ctrl+J)"))
        self.next_button.setObjectName("queue_next")
        self.next_button.clicked.connect(self.take_next)
        self.sweep_button = QPushButton(_("Mark unanswered letters unreachable"))
        self.sweep_button.clicked.connect(self.sweep)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.sweep_button)
        top.addWidget(self.next_button)

        self.queue_table = _table("queue_table")
        self.no_contact_table = _table("no_contact_table")
        self.letter_table = _table("letter_due_table")
        for table in (self.queue_table, self.no_contact_table, self.letter_table):
            table.doubleClicked.connect(
                lambda index, t=table: self._open_row(t, index.row()))
        self.prev_page = QPushButton(_("Previous page"))
        self.next_page = QPushButton(_("Next page"))
        self.page_label = QLabel()
        self.prev_page.clicked.connect(lambda: self._page(-PAGE_SIZE))
        self.next_page.clicked.connect(lambda: self._page(PAGE_SIZE))
        queue_tab = QWidget()
        queue_layout = QVBoxLayout(queue_tab)
        queue_layout.addWidget(self.queue_table, 1)
        paging = QHBoxLayout()
        paging.addWidget(self.page_label, 1)
        paging.addWidget(self.prev_page)
        paging.addWidget(self.next_page)
        queue_layout.addLayout(paging)
        self.tabs = QTabWidget()
        self.tabs.addTab(queue_tab, _("Queue"))
        self.tabs.addTab(self.no_contact_table, _("No contact details (waiting for a call)"))
        self.tabs.addTab(self.letter_table, _("Guidance letter due"))

        layout = QHBoxLayout(self)
        left = QVBoxLayout()
        left.addLayout(top)
        left.addWidget(self.tabs, 1)
        layout.addLayout(left, 3)
        layout.addWidget(self._held_box(), 2)

    def _held_box(self) -> QGroupBox:
        box = QGroupBox(_("Case in hand"))
        self.held_label = QLabel(_("Press Next to take the next case."))
        self.held_label.setObjectName("held_label")
        self.held_label.setWordWrap(True)
        self.held_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.method = QComboBox()
        for method, text in METHODS:
            self.method.addItem(_(text), method.value)
        self.outcome = QComboBox()
        for outcome, text in OUTCOMES:
            self.outcome.addItem(_(text), outcome.value)
        self.call_back = QDateTimeEdit()
        self.call_back.setDisplayFormat("yyyy/MM/dd HH:mm")
        self.call_back.setCalendarPopup(True)
        self.call_back.setTimeZone(QTimeZone(b"Asia/Tokyo"))
        self.note = QLineEdit()
        self.record_button = QPushButton(_("Record attempt"))
        self.record_button.setObjectName("record_attempt")
        self.record_button.clicked.connect(self.record)
        self.release_button = QPushButton(_("Put back"))
        self.release_button.clicked.connect(self.release)
        self.open_button = QPushButton(_("Open case"))
        self.open_button.setObjectName("queue_open_case")
        self.open_button.clicked.connect(self.open_held)
        # What the last save did, so that the operator sees it went through.
        self.feedback = QLabel()
        self.feedback.setObjectName("queue_feedback")
        self.feedback.setWordWrap(True)
        self.outcome.currentIndexChanged.connect(lambda _i: self._outcome_changed())
        form = QFormLayout()
        form.addRow(_("Method"), self.method)
        form.addRow(_("Outcome"), self.outcome)
        form.addRow(_("Call back at"), self.call_back)
        form.addRow(_("Note"), self.note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.release_button)
        buttons.addWidget(self.record_button)
        layout = QVBoxLayout(box)
        layout.addWidget(self.held_label)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.feedback)
        layout.addStretch(1)
        self._show_held(None)
        return box

    # -- data --------------------------------------------------------------
    def refresh(self) -> None:
        self.desk.call(queue.list_queue, self.offset, PAGE_SIZE, on_done=self._queue_loaded,
                       on_error=self._error)
        self.desk.call(queue.count_queue, on_done=self._count_loaded)
        self.desk.call(queue.list_no_contact, 0, PAGE_SIZE,
                       on_done=lambda rows: _fill(self.no_contact_table, rows))
        self.desk.call(queue.letter_due, 0, 1000,
                       on_done=lambda rows: _fill(self.letter_table, rows))

    def _queue_loaded(self, rows: list[queue.QueueRow]) -> None:
        self.rows = rows
        _fill(self.queue_table, rows)
        self.prev_page.setEnabled(self.offset > 0)
        self.next_page.setEnabled(len(rows) == PAGE_SIZE)
        self.page_label.setText(_("Rows {first}–{last}").format(
            first=self.offset + 1 if rows else 0, last=self.offset + len(rows)))
        self.loaded.emit()

    def _count_loaded(self, count: int) -> None:
        self.summary.setText(_("{count} cases waiting for guidance").format(count=f"{count:,}"))

    def _page(self, step: int) -> None:
        self.offset = max(0, self.offset + step)
        self.refresh()

    def _error(self, exc: Exception) -> None:
        self.desk.prompter.error(self, error_text(exc))

    # -- actions -----------------------------------------------------------
    def take_next(self) -> None:
        self.desk.act(queue.next_case, on_done=self._took, on_error=self._error)

    def _took(self, row: queue.QueueRow | None) -> None:
        if row is None:
            self.desk.prompter.info(self, _("Outreach queue"),
                                    _("No case is waiting for guidance now."))
        self._show_held(row)  # the hold is a change: the desk's ``changed`` refreshes

    def _show_held(self, row: queue.QueueRow | None) -> None:
        self.held = row
        for widget in (self.method, self.outcome, self.note, self.record_button,
                       self.release_button, self.open_button):
            widget.setEnabled(row is not None)
        if row is None:
            self.held_label.setText(_("Press Next to take the next case."))
            self.call_back.setEnabled(False)
            return
        lines = [
            f"<b>{row.case_number}</b>　{channel_label(row.channel)}",
            f"<span style='font-size:15pt'>{row.name}</span>　{row.name_kana or ''}",
            _("Phone: {phone}").format(phone=row.phone or "—"),
            _("E-mail: {email}").format(email=row.email or "—"),
            _("Contact received: {day}").format(day=format_day(row.contact_received_at)),
            _("Failed attempts: {count}").format(count=row.failed_attempts),
            _("Claimed: {amount}").format(amount=format_yen(row.claimed_amount)),
            _("Held for you until {time}").format(time=format_moment(row.held_until)),
        ]
        # One paragraph a line: with <br>, Qt keeps the small line height under the big name.
        self.held_label.setText("".join(f"<p style='margin:2px 0'>{line}</p>" for line in lines))
        later = to_jst(self.desk.now()) + timedelta(hours=2)
        self.call_back.setDateTime(QDateTime(later.date(), later.time().replace(
            second=0, microsecond=0), QTimeZone(b"Asia/Tokyo")))
        self._outcome_changed()

    def _outcome_changed(self) -> None:
        is_call_back = self.outcome.currentData() == Outcome.CALL_BACK.value
        self.call_back.setEnabled(self.held is not None and is_call_back)

    def call_back_time(self) -> datetime:
        value = self.call_back.dateTime().toSecsSinceEpoch()
        return datetime.fromtimestamp(value, JST)

    def record(self) -> None:
        if self.held is None:
            return
        outcome = Outcome(self.outcome.currentData())
        attempt = AttemptInput(
            method=Method(self.method.currentData()), outcome=outcome,
            call_back_at=self.call_back_time() if outcome is Outcome.CALL_BACK else None,
            note=self.note.text().strip() or None)
        held = self.held
        self.record_button.setEnabled(False)  # one save per press while it runs
        self.feedback.setText(_("Saving…"))
        self.desk.act(record_attempt, held.case_id, attempt,
                      on_done=lambda _view: self._recorded(held, outcome),
                      on_error=self._record_failed)

    def _record_failed(self, exc: Exception) -> None:
        self.feedback.clear()
        self.record_button.setEnabled(self.held is not None)
        self._error(exc)

    def _recorded(self, held: queue.QueueRow, outcome: Outcome) -> None:
        self.feedback.setText(_("Attempt recorded for {number}: {outcome}").format(
            number=held.case_number, outcome=_(CONTACT_OUTCOMES[outcome.value])))
        self._reset_form()
        self._show_held(None)
        # The desk says what changed (the case, its queue row); pages refresh from that.

    def _reset_form(self) -> None:
        """The next call starts from the defaults, not from the last victim's answer."""
        self.method.setCurrentIndex(0)
        self.outcome.setCurrentIndex(0)
        self.note.clear()

    def open_held(self) -> None:
        if self.held is not None:
            self.case_opened.emit(self.held.case_id)

    def _open_row(self, table: QTableWidget, row: int) -> None:
        item = table.item(row, 0)
        if item is not None:
            self.case_opened.emit(int(item.data(Qt.ItemDataRole.UserRole)))

    def release(self) -> None:
        if self.held is None:
            return
        self.desk.act(queue.release, self.held.case_id,
                      on_done=lambda _r: (self._reset_form(), self._show_held(None)),
                      on_error=self._error)

    def sweep(self) -> None:
        if not self.desk.prompter.confirm(
                self, _("Outreach queue"),
                _("Move every case whose guidance letter went unanswered past the set "
                  "period to unreachable?")):
            return
        self.desk.act(queue.mark_unreachable_overdue, on_done=self._swept, on_error=self._error)

    def _swept(self, moved: list[int]) -> None:
        self.desk.prompter.info(self, _("Outreach queue"),
                                _("{count} cases moved to unreachable.").format(
                                    count=len(moved)))
