"""The audit log: filter the trail by case, operator, action and dates, a page at a time;
see what changed; export it for an auditor (supervisors and admins; the export is itself
recorded). Also the start-up check of the chain that warns an administrator."""

from __future__ import annotations

import json
from datetime import date

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, error_text, format_moment
from app.domain.roles import Role
from app.services import audit_log
from app.services.audit_log import AuditFilter, AuditRow, ChainReport
from app.services.gateway import FileOut
from app.ui.desk import Desk
from app.ui.labels import action_label, actor_text, change_lines, entity_text, reason_text
from app.ui.step_up import ask_fresh_code
from app.ui.tables import make_table
from app.ui.tasks import BackgroundTask

PAGE_SIZE = 200
HEADERS = (N_("No."), N_("Time (Japan)"), N_("Operator"), N_("Action"), N_("Case number"),
           N_("Entity"), N_("Reason"))


def _loaded(text: str | None) -> dict:
    try:
        value = json.loads(text) if text else {}
    except ValueError:
        return {"value": text}
    return value if isinstance(value, dict) else {"value": value}


def change_text(before: str | None, after: str | None) -> str:
    """An event's before and after in words (状態: 検証済 → 承認済), or a dash."""
    return "\n".join(change_lines(_loaded(before), _loaded(after))) or "—"


def _date_edit(name: str) -> tuple[QCheckBox, QDateEdit]:
    enabled = QCheckBox()
    enabled.setObjectName(f"{name}_on")
    edit = QDateEdit(QDate(2019, 7, 1))
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy/MM/dd")
    edit.setEnabled(False)
    enabled.toggled.connect(edit.setEnabled)
    return enabled, edit


class AuditPage(QWidget):
    title = "Audit log"
    loaded = Signal()
    exported = Signal(int)

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.offset = 0
        self.total = 0
        self.rows: list[AuditRow] = []
        # The export is long work on a trail of millions: a task of its own, so the
        # desk's lane stays free, with its progress (done, total) and a cancel.
        self.task = BackgroundTask(self)
        self.task.progressed.connect(self._show_progress)
        self.task.running_changed.connect(self._export_running)
        self._build()
        self._shown_once = False

    # -- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.addLayout(self._filters())
        self.table = make_table("audit_table", HEADERS, (70, 150, 90, 190, 110, 140, 200),
                                wrap=True)
        self.table.itemSelectionChanged.connect(self._show_selected)
        # The change in words, one field a line, as the case timeline shows it
        # (the auditor's CSV export keeps the stored values).
        self.change = QPlainTextEdit(readOnly=True, objectName="audit_change")
        detail = QWidget()
        sides = QVBoxLayout(detail)
        sides.setContentsMargins(0, 0, 0, 0)
        sides.addWidget(QLabel(_("Change")))
        sides.addWidget(self.change)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setSizes([420, 160])
        layout.addWidget(splitter, 1)
        layout.addLayout(self._footer())

    def _filters(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.case_edit = QLineEdit(objectName="audit_case", placeholderText="H-0000001-8")
        self.operator_edit = QLineEdit(objectName="audit_operator")
        self.operator_edit.setPlaceholderText(_("login"))
        self.action_combo = QComboBox(objectName="audit_action")
        self.action_combo.setEditable(True)
        self.action_combo.setMinimumWidth(170)
        self.from_on, self.from_edit = _date_edit("audit_from")
        self.to_on, self.to_edit = _date_edit("audit_to")
        self.search_button = QPushButton(_("Search"), objectName="audit_search")
        self.search_button.clicked.connect(self.search)
        for edit in (self.case_edit, self.operator_edit):
            edit.returnPressed.connect(self.search)
        for label, widget in ((_("Case"), self.case_edit), (_("Operator"), self.operator_edit),
                              (_("Action"), self.action_combo), (_("From"), self.from_on),
                              (None, self.from_edit), (_("To"), self.to_on),
                              (None, self.to_edit)):
            if label:
                row.addWidget(QLabel(label))
            row.addWidget(widget)
        row.addWidget(self.search_button)
        row.addStretch(1)
        return row

    def _footer(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.status = QLabel(objectName="audit_status")
        self.prev_button = QPushButton(_("Previous"), objectName="audit_prev")
        self.next_button = QPushButton(_("Next"), objectName="audit_next")
        self.prev_button.clicked.connect(lambda: self._page(-PAGE_SIZE))
        self.next_button.clicked.connect(lambda: self._page(PAGE_SIZE))
        self.export_button = QPushButton(_("Export for auditor…"), objectName="audit_export")
        self.export_button.clicked.connect(self.export)
        # A supervisor's or administrator's act: absent for operators (the service
        # refuses them anyway).
        exporter = self.desk.actor.role in (Role.SUPERVISOR, Role.ADMIN)
        self.export_button.setVisible(exporter)
        self.progress = QProgressBar(objectName="audit_progress")
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        self.cancel_button = QPushButton(_("Cancel"), objectName="audit_cancel")
        self.cancel_button.clicked.connect(self.task.cancel)
        self.cancel_button.setVisible(False)
        row.addWidget(self.status, 1)
        for widget in (self.prev_button, self.next_button, self.progress, self.cancel_button,
                       self.export_button):
            row.addWidget(widget)
        return row

    # -- loading --------------------------------------------------------------------------
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.desk.call(audit_log.action_names, on_done=self._fill_actions)
            self.search()

    def _action_code(self) -> str | None:
        """The chosen action's code; typed text (a code or its start, 'case.') as it is."""
        text = self.action_combo.currentText().strip()
        index = self.action_combo.findText(text) if text else -1
        return self.action_combo.itemData(index) if index > 0 else (text or None)

    def _fill_actions(self, names: list[str]) -> None:
        typed = self.action_combo.currentText()
        self.action_combo.clear()
        self.action_combo.addItem("")
        for name in sorted(names, key=action_label):
            self.action_combo.addItem(action_label(name), name)
        self.action_combo.setEditText(typed)

    def current_filter(self) -> AuditFilter:
        def day(on: QCheckBox, edit: QDateEdit) -> date | None:
            return edit.date().toPython() if on.isChecked() else None

        return AuditFilter(case_number=self.case_edit.text() or None,
                           operator_login=self.operator_edit.text() or None,
                           action=self._action_code(),
                           day_from=day(self.from_on, self.from_edit),
                           day_to=day(self.to_on, self.to_edit))

    def search(self) -> None:
        self.offset = 0
        self.desk.act(audit_log.count_events, self.current_filter(), on_done=self._counted,
                      on_error=self._refused)

    def _counted(self, total: int) -> None:
        self.total = total
        self._load()

    def _page(self, step: int) -> None:
        self.offset = max(0, min(self.offset + step, max(self.total - 1, 0)))
        self._load()

    def _load(self) -> None:
        self.desk.act(audit_log.list_events, self.current_filter(), self.offset, PAGE_SIZE,
                      on_done=self._show, on_error=self._refused)

    def _refused(self, exc: Exception) -> None:
        self.rows = []
        self.table.setRowCount(0)
        self.status.setText(error_text(exc))
        self.loaded.emit()

    def _show(self, rows: list[AuditRow]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            what = entity_text(row.entity, row.entity_id)
            values = (str(row.seq or ""), format_moment(row.at), actor_text(row.actor_login),
                      action_label(row.action), row.case_number or "", what,
                      reason_text(row.reason))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setToolTip(row.action)  # the code the action filter takes
                self.table.setItem(index, column, item)
        first = self.offset + 1 if rows else 0
        self.status.setText(_("{first:,}–{last:,} of {total:,} events").format(
            first=first, last=self.offset + len(rows), total=self.total))
        self.prev_button.setEnabled(self.offset > 0)
        self.next_button.setEnabled(self.offset + len(rows) < self.total)
        self.change.clear()
        self.loaded.emit()

    def _show_selected(self) -> None:
        index = self.table.currentRow()
        if 0 <= index < len(self.rows):
            row = self.rows[index]
            self.change.setPlainText(change_text(row.before, row.after))

    # -- export ---------------------------------------------------------------------------
    def export(self) -> None:
        path = self.desk.prompter.save_file(self, _("Export the audit log"), "audit_log.csv",
                                            "CSV (*.csv)")
        if not path:
            return
        code = ask_fresh_code(self, self.desk)  # the trail holds personal data
        if code is None:
            return
        self.progress.setRange(0, 0)  # busy until the first page of rows is written
        self.desk.act(audit_log.export_events, FileOut(path), self.current_filter(),
                      second_factor=code or None, task=self.task, on_done=self._exported,
                      on_error=lambda exc: self.desk.prompter.error(self, error_text(exc)))

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _export_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        self.cancel_button.setVisible(running)
        if running:
            self.progress.setVisible(True)

    def _exported(self, written: int) -> None:
        self.progress.setRange(0, max(written, 1))  # full, also when nothing matched
        self.progress.setValue(self.progress.maximum())
        self.desk.prompter.info(self, _("Audit log"),
                                _("{count:,} events written.").format(count=written))
        self.exported.emit(written)


    def shutdown(self) -> None:
        """The window closes: an export running is cancelled (it leaves nothing)."""
        self.task.shutdown()


def warn_if_audit_broken(desk: Desk, parent: QWidget | None = None) -> None:
    """At start-up, for an administrator: verify the chain on the lane and warn if broken."""

    def done(report: ChainReport) -> None:
        if not report.intact:
            desk.prompter.error(parent, _(
                "The audit trail has been tampered with: {problem} The {count:,} events "
                "before it are intact. The audit log page shows the details.").format(
                problem=error_text(_problem(report)), count=report.count))

    desk.call(audit_log.verify_chain, on_done=done)


def _problem(report: ChainReport) -> Exception:
    exc = Exception(report.problem_en)
    exc.ja, exc.en = report.problem_ja, report.problem_en  # type: ignore[attr-defined]
    return exc
