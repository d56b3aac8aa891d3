"""Phone intake: a hotline call opens a case, or adds an incident to the
caller's existing record. A caller who looks like a known victim (same member
ID, phone, e-mail, or name and address) is shown the matches first."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, current_locale, error_text
from app.domain.channels import Channel
from app.services import intake
from app.services.intake import IncidentInput, VictimInput
from app.services.views import CaseView, VictimView
from app.ui.desk import Desk
from app.ui.labels import VICTIM_FIELDS, channel_label


class IntakeDialog(QDialog):
    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.created: CaseView | None = None
        self.matches: list[VictimView] = []
        self.setWindowTitle(_("Phone intake (hotline call)"))
        self.setMinimumWidth(520)
        self.edits = {key: QLineEdit() for key, _label in VICTIM_FIELDS}
        self.channel = QComboBox()
        for channel in Channel:
            self.channel.addItem(channel_label(channel), channel.value)
        self.occurred = QLineEdit()
        self.occurred.setObjectName("intake_occurred_at")
        self.occurred.setPlaceholderText("2019/07/03 14:05")
        self.amount = QLineEdit()
        self.amount.setObjectName("intake_amount")
        self.amount.setPlaceholderText("10,000")
        self.merchant = QLineEdit()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        self.match_list = QListWidget()
        self.match_list.setVisible(False)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self._lay_out()

    def _lay_out(self) -> None:
        form = QFormLayout()
        for key, label in VICTIM_FIELDS:
            self.edits[key].setObjectName(f"intake_{key}")
            form.addRow(_(label), self.edits[key])
        form.addRow(_("Channel"), self.channel)
        form.addRow(_("Occurred (Japan time)"), self.occurred)
        form.addRow(_("Amount (yen)"), self.amount)
        form.addRow(_("Merchant"), self.merchant)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.match_list)
        layout.addWidget(self.buttons)

    def read_form(self) -> tuple[VictimInput, IncidentInput] | None:
        """The form as the import contract reads it; problems shown, None if any."""
        raw = {key: edit.text() for key, edit in self.edits.items()}
        raw.update(occurred_at=self.occurred.text(), amount=self.amount.text(),
                   merchant=self.merchant.text())
        try:
            return intake.parse_intake_form(raw, Channel(self.channel.currentData()),
                                            self.desk.now())
        except intake.FormProblems as problems:
            labels = dict(VICTIM_FIELDS) | {"occurred_at": N_("Occurred (Japan time)"),
                                     "amount": N_("Amount (yen)"),
                                     "card_last4": N_("Card last 4")}
            lines = []
            for field, (ja, en) in problems.problems.items():
                text = ja if current_locale() == "ja" else en
                lines.append(f"{_(labels.get(field, field))}: {text}")
            self.show_problem("\n".join(lines))
            return None

    def show_problem(self, text: str) -> None:
        self.message.setText(text)

    def submit(self) -> None:
        form = self.read_form()
        if form is None:
            return
        victim, incident = form
        if self.match_list.isVisible():
            # The operator has seen the matches: add to the chosen one, or a new victim.
            chosen = self.match_list.currentItem()
            self._save(victim, incident,
                       chosen.data(Qt.ItemDataRole.UserRole) if chosen else None)
            return
        self.desk.call(intake.find_similar_victims, victim,
                       on_done=lambda found: self._checked(found, victim, incident),
                       on_error=lambda exc: self.show_problem(error_text(exc)))

    def _checked(self, found: list[VictimView], victim: VictimInput,
                 incident: IncidentInput) -> None:
        if not found:
            self._save(victim, incident, None)
            return
        self.matches = found
        self.match_list.clear()
        for victim in found:
            text = f"{victim.name}（{victim.name_kana or ''}） {victim.address or ''}"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, victim.id)
            self.match_list.addItem(item)
        self.match_list.setVisible(True)
        self.show_problem(_("This caller may already be on record. Select the matching "
                            "victim to add the incident there, or save again without a "
                            "selection to open a new victim record."))

    def _save(self, victim: VictimInput, incident: IncidentInput,
              victim_id: int | None) -> None:
        self.desk.act(intake.take_phone_intake, victim, incident,
                      existing_victim_id=victim_id, on_done=self._saved,
                      on_error=lambda exc: self.show_problem(error_text(exc)))

    def _saved(self, case: CaseView) -> None:
        self.created = case
        self.accept()


