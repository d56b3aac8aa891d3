"""Programme settings: shown to everyone, changed by an administrator only, after a
confirmation that lists each change. The service checks the role again and audits."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ConflictError
from app.core.i18n import N_, _, error_text
from app.domain.roles import Role
from app.domain.settings import AT_LEAST_ONE, CHOICES, MAXIMUM_NUMBER, Settings, maximum_of
from app.services import settings
from app.ui.desk import Desk

LABELS = {
    "outreach_start": N_("Outreach start date"),
    "hotline": N_("Hotline number"),
    "incident_ceiling": N_("Largest single incident (yen)"),
    "failed_attempts_before_letter": N_("Failed attempts before a guidance letter"),
    "contact_settle_hours": N_("Hours before a new contact can confirm payout changes"),
    "credit_due_business_days": N_("Credit deadline: business days of warning"),
    "programme_victims": N_("Public figure: victims"),
    "programme_total_yen": N_("Public figure: total yen"),
    "queue_hold_minutes": N_("Queue hold (minutes)"),
    "queue_retry_minutes": N_("Queue: minutes before an attempted case is offered again"),
    "letter_unanswered_days": N_("Days after the guidance letter before unreachable"),
    "documents_reminder_days": N_("Days without documents before a reminder"),
    "payment_late_business_days": N_("Business days from approval to payout"),
    "suspicious_payout_change_hours": N_("Payout change before approval flagged within (hours)"),
    "letter_organization": N_("Letters: organisation"),
    "letter_support_centre": N_("Letters: support centre"),
    "letter_hotline_hours": N_("Letters: hotline hours"),
    "letter_sender_postal_code": N_("Letters: sender postal code"),
    "letter_sender_address": N_("Letters: sender address"),
    "letter_date_style": N_("Letters: how dates are written"),
    "letter_window_x_mm": N_("Envelope window: left (mm)"),
    "letter_window_y_mm": N_("Envelope window: top (mm)"),
    "letter_window_width_mm": N_("Envelope window: width (mm)"),
    "letter_window_height_mm": N_("Envelope window: height (mm)"),
    "zengin_company_code": N_("Transfer file: company code"),
    "zengin_company_name": N_("Transfer file: company name (kana)"),
    "zengin_bank_code": N_("Transfer file: bank code"),
    "zengin_branch_code": N_("Transfer file: branch code"),
    "zengin_account_type": N_("Transfer file: account type"),
    "zengin_account_number": N_("Transfer file: account number"),
    "zengin_line_end": N_("Transfer file: line ends"),
    "zengin_lead_business_days": N_("Transfer date: business days ahead"),
    "idle_lock_minutes": N_("Lock the window after idle minutes"),
    "operator_second_factor": N_("Operators: authenticator code at sign-in"),
}
MAXIMUM = MAXIMUM_NUMBER  # what the services take (app.domain.settings)
# The words a choice setting takes, as the administrator reads them.
CHOICE_LABELS = {
    "western": N_("Western calendar (2019年8月19日)"),
    "era": N_("Japanese era (令和元年8月19日)"),
    "crlf": N_("CR LF (most banks)"), "lf": N_("LF only (refused by some banks)"),
    "none": N_("None, one long line (refused by some banks)"),
    # The sender's 預金種目 is 1, 2 or 9; "savings" is named only for a value stored
    # before it was refused.
    "ordinary": N_("Ordinary account"), "current": N_("Current account"),
    "other": N_("Other account type"), "savings": N_("Savings account"),
    "required": N_("Required (recommended)"),
    "relaxed": N_("Not required for operators without an authenticator"),
}


class SettingsPage(QWidget):
    title = "Settings"
    loaded = Signal()
    saved = Signal()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.current: Settings | None = None
        self.editors: dict[str, QWidget] = {}
        self.is_admin = desk.actor.role is Role.ADMIN or desk.actor.is_system
        form = QFormLayout()
        for key, default in Settings().to_json_dict().items():
            editor = self._editor(key, default)
            editor.setEnabled(self.is_admin)
            self.editors[key] = editor
            form.addRow(_(LABELS.get(key, key)), editor)
        self.note = QLabel("" if self.is_admin else
                           _("Only an administrator can change settings."))
        self.save_button = QPushButton(_("Save changes"))
        self.save_button.setObjectName("settings_save")
        self.save_button.setEnabled(self.is_admin)
        self.save_button.clicked.connect(self.save)
        self.reset_button = QPushButton(_("Discard changes"))
        self.reset_button.clicked.connect(self.load)
        buttons = QHBoxLayout()
        buttons.addWidget(self.note, 1)
        buttons.addWidget(self.reset_button)
        buttons.addWidget(self.save_button)
        # Every area keeps its settings here: the form scrolls, the buttons stay in view.
        fields = QWidget()
        fields.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(fields)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll, 1)
        layout.addLayout(buttons)
        self.load()

    def _editor(self, key: str, default) -> QWidget:
        if key == "outreach_start":
            editor = QDateEdit()
            editor.setDisplayFormat("yyyy/MM/dd")
            editor.setCalendarPopup(True)
            return editor
        if key in CHOICES:
            editor = QComboBox()
            for word in CHOICES[key]:
                editor.addItem(_(CHOICE_LABELS[word]), word)
            return editor
        if isinstance(default, int):
            editor = QSpinBox()
            editor.setRange(1 if key in AT_LEAST_ONE else 0, maximum_of(key))
            editor.setGroupSeparatorShown(True)
            return editor
        return QLineEdit()

    def load(self) -> None:
        self.desk.call(settings.get, on_done=self._show, on_error=self._error)

    def _show(self, current: Settings) -> None:
        self.current = current
        for key, value in current.to_json_dict().items():
            self._set(key, value)
        self.loaded.emit()

    def _set(self, key: str, value) -> None:
        editor = self.editors[key]
        if isinstance(editor, QDateEdit):
            day = date.fromisoformat(value)
            editor.setDate(QDate(day.year, day.month, day.day))
        elif isinstance(editor, QSpinBox):
            editor.setValue(int(value))
        elif isinstance(editor, QComboBox):
            editor.setCurrentIndex(max(editor.findData(value), 0))
        else:
            editor.setText(str(value))

    def value(self, key: str):
        editor = self.editors[key]
        if isinstance(editor, QDateEdit):
            return editor.date().toPython().isoformat()
        if isinstance(editor, QSpinBox):
            return editor.value()
        if isinstance(editor, QComboBox):
            return editor.currentData()
        return editor.text().strip()

    @staticmethod
    def _shown(value: object) -> str:
        return _(CHOICE_LABELS[value]) if value in CHOICE_LABELS else str(value)

    def changes(self) -> dict[str, object]:
        if self.current is None:
            return {}
        old = self.current.to_json_dict()
        return {key: self.value(key) for key in self.editors if self.value(key) != old[key]}

    def save(self) -> None:
        changes = self.changes()
        if not changes:
            self.desk.prompter.info(self, _("Settings"), _("Nothing has changed."))
            return
        old = self.current.to_json_dict()
        lines = [f"{_(LABELS.get(k, k))}: {self._shown(old[k])} → {self._shown(v)}"
                 for k, v in changes.items()]
        question = _("Change these settings? Every change is recorded.") + "\n\n" + "\n".join(
            lines)
        if not self.desk.prompter.confirm(self, _("Settings"), question):
            return
        # What this page showed for each changed key: a key another administrator saved
        # since is refused, not overwritten.
        shown = {key: old[key] for key in changes}
        self.desk.act(settings.change_many, changes, expected=shown, on_done=self._saved,
                      on_error=self._error)

    def _saved(self, current: Settings) -> None:
        self._show(current)  # the pages that depend on settings hear of it from the desk
        self.saved.emit()

    def _error(self, exc: Exception) -> None:
        text = error_text(exc)
        if isinstance(exc, settings.SettingsConflict):
            text += "\n\n" + "\n".join(_(LABELS.get(key, key)) for key in exc.keys)
        self.desk.prompter.error(self, text)
        if isinstance(exc, ConflictError):
            self.load()  # show what is stored now; nothing was overwritten
