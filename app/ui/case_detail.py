"""Case detail: the victim, incidents, amounts, payout details, outreach,
letters, notes and the audit timeline, with exactly the moves open now."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import ConflictError
from app.core.i18n import N_, _, error_text, format_moment, format_yen, one_language
from app.domain.roles import Role
from app.domain.states import Status
from app.domain.workflow import Move
from app.services import case_record, cases, victims
from app.services.case_flags import CaseWarnings, case_warnings
from app.services.cases import MoveRequest
from app.services.changes import Changed
from app.services.gateway import FileOut
from app.services.intake import VictimInput
from app.services.views import CaseView
from app.ui.approvals_page import flag_detail, flag_label
from app.ui.desk import Desk
from app.ui.labels import (
    VICTIM_FIELDS,
    action_label,
    actor_text,
    change_lines,
    change_value,
    channel_label,
    move_effect,
    move_label,
    payout_lines,
    reason_text,
    status_label,
)
from app.ui.payout_dialog import PayoutDialog
from app.ui.person_dialog import COMPENSATION_COLOUR, PersonDialog, programme_badge
from app.ui.refresh import follow_changes
from app.ui.step_up import ask_fresh_code, ask_step_up
from app.ui.tables import fill_table, make_table


def _table(headers: list[str], widths: tuple[int, ...] = ()) -> QTableWidget:
    return make_table("", headers, widths, rows=False)


def _fill(table: QTableWidget, rows: list[list[str]]) -> None:
    fill_table(table, rows, tooltips=True)  # the whole text, where the column cuts it short
    table.resizeRowsToContents()  # detail tables are short: a case's own rows only


class CaseDetail(QWidget):
    record_printed = Signal(str, int)  # the PDF's path and its pages

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.case: CaseView | None = None
        # The case shown reloads when anyone changes it (this detail, another page, a
        # batch): the desk says which cases a write changed.
        follow_changes(self, desk, self._concerns, self._reload)
        self.header = QLabel(_("Select a case in the list, or search above."))
        self.header.setTextFormat(Qt.TextFormat.RichText)
        self.header.setWordWrap(True)
        self.warnings = QLabel()
        self.warnings.setObjectName("case_warnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("QLabel { background: #fde2e1; color: #8a1c1c; padding: 4px; }")
        self.warnings.hide()
        self.moves_box = QHBoxLayout()
        self.tabs = QTabWidget()
        self._build_tabs()
        # The record holds personal data: an export, a supervisor's (with a fresh code).
        self.print_record_button = QPushButton(_("Print case record…"))
        self.print_record_button.setObjectName("print_case_record")
        self.print_record_button.clicked.connect(self.print_record)
        self.print_record_button.setEnabled(False)
        self.print_record_button.setVisible(desk.actor.role is not Role.OPERATOR)
        # The programme the case belongs to, and the person in both programmes.
        self.programme = programme_badge(_("Compensation"), COMPENSATION_COLOUR,
                                         "case_programme")
        self.person_button = QPushButton(_("Person in both programmes…"))
        self.person_button.setObjectName("case_person")
        self.person_button.setEnabled(False)
        self.person_button.clicked.connect(self.show_person)
        top = QHBoxLayout()
        top.addWidget(self.programme)
        top.addStretch(1)
        top.addWidget(self.person_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.header)
        layout.addWidget(self.warnings)
        moves = QWidget()
        moves.setLayout(self.moves_box)
        row = QHBoxLayout()  # the moves, and at the right end the record to print
        row.addWidget(moves, 1)
        row.addWidget(self.print_record_button)
        layout.addLayout(row)
        # Why a move the operator may expect is not offered now (e.g. 書類受領).
        self.blocked = QLabel()
        self.blocked.setObjectName("blocked_moves")
        self.blocked.setWordWrap(True)
        self.blocked.setStyleSheet("QLabel { color: #555; }")
        self.blocked.hide()
        layout.addWidget(self.blocked)
        layout.addWidget(self.tabs, 1)
        self.tabs.setEnabled(False)

    # -- building ------------------------------------------------------------
    def _build_tabs(self) -> None:
        self.victim_edits: dict[str, QLineEdit] = {}
        form_widget = QWidget()
        form = QFormLayout(form_widget)
        for key, label in VICTIM_FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"victim_{key}")
            self.victim_edits[key] = edit
            form.addRow(_(label), edit)
        self.save_victim_button = QPushButton(_("Save changes"))
        self.save_victim_button.clicked.connect(self.save_victim)
        form.addRow(self.save_victim_button)
        self.tabs.addTab(form_widget, _("Victim"))
        self.incidents = _table([N_("Report ID"), N_("Occurred"), N_("Amount"), N_("Merchant"),
                                 N_("Card")], (120, 120, 90, 200))
        self.tabs.addTab(self.incidents, _("Incidents"))
        self.tabs.addTab(self._payout_tab(), _("Payout details"))
        self.attempts = _table([N_("When"), N_("Operator"), N_("Method"), N_("Outcome"),
                                N_("Note")], (120, 80, 80, 100))
        self.tabs.addTab(self.attempts, _("Outreach"))
        self.letters = _table([N_("Letter code"), N_("Kind"), N_("Produced"), N_("Mailed")])
        self.tabs.addTab(self.letters, _("Letters"))
        self.tabs.addTab(self._notes_tab(), _("Notes"))
        self.timeline = _table([N_("When"), N_("Who"), N_("What"), N_("Change"), N_("Reason")],
                               (112, 64, 120, 300))
        self.tabs.addTab(self.timeline, _("Timeline"))

    def _payout_tab(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        self.payout_label = QLabel()
        self.payout_label.setWordWrap(True)
        self.reveal_button = QPushButton(_("Show full details (recorded)"))
        self.reveal_button.clicked.connect(self.reveal_payout)
        self.edit_payout_button = QPushButton(_("Enter payout details…"))
        self.edit_payout_button.setObjectName("edit_payout")
        self.edit_payout_button.clicked.connect(self.edit_payout)
        layout.addWidget(self.payout_label)
        layout.addWidget(self.reveal_button)
        layout.addWidget(self.edit_payout_button)
        layout.addStretch(1)
        return box

    def _notes_tab(self) -> QWidget:
        box = QWidget()
        layout = QVBoxLayout(box)
        self.notes = QListWidget()
        self.note_edit = QPlainTextEdit()
        self.note_edit.setPlaceholderText(_("Write a note about this case"))
        self.note_edit.setMaximumHeight(80)
        add = QPushButton(_("Add note"))
        add.clicked.connect(self.add_note)
        layout.addWidget(self.notes, 1)
        layout.addWidget(self.note_edit)
        layout.addWidget(add)
        return box

    # -- loading ------------------------------------------------------------------
    def _concerns(self, changed: Changed) -> bool:
        case = self.case
        return case is not None and (case.id in changed.cases
                                     or case.victim.id in changed.victims)

    def _reload(self) -> None:
        if self.case is not None:
            self.load(self.case.id)

    def load(self, case_id: int) -> None:
        self.desk.act(cases.get_case, case_id, on_done=self.show_case, on_error=self._error)

    @Slot(object)
    def show_case(self, case: CaseView) -> None:
        self.case = case
        self.tabs.setEnabled(True)
        self.print_record_button.setEnabled(True)
        self.person_button.setEnabled(True)
        self.header.setText(self._header_html(case))
        self.warnings.hide()
        self.desk.call(case_warnings, case.id, on_done=self._show_warnings)
        self._show_moves(case.open_moves)
        lines = [_("{move} is not available: {reason}").format(
            move=move_label(item.move.name), reason=one_language(item.ja, item.en))
            for item in case.blocked_moves]
        self.blocked.setText("\n".join(lines))
        self.blocked.setVisible(bool(lines))
        self._show_victim(case)
        _fill(self.incidents, [[i.report_id, format_moment(i.occurred_at), format_yen(i.amount),
                                i.merchant or "", i.card_last4 or ""] for i in case.incidents])
        self._show_payout(case)
        _fill(self.attempts, [[format_moment(a.at), a.operator_login or "",
                               change_value("method", a.method),
                               change_value("outcome", a.outcome), a.note or ""]
                              for a in case.attempts])
        _fill(self.letters, [[x.code, change_value("kind", x.kind), format_moment(x.created_at),
                              format_moment(x.mailed_at)] for x in case.letters])
        self.notes.clear()
        for note in case.notes:
            self.notes.addItem(f"{format_moment(note.at)}  {note.operator_login}: {note.text}")
        _fill(self.timeline, [[format_moment(e.at), actor_text(e.actor_login),
                               action_label(e.action), _change_text(e.before, e.after),
                               reason_text(e.reason)]
                              for e in reversed(case.timeline)])

    def _show_warnings(self, found: CaseWarnings) -> None:
        lines = [f"⚠ {flag_label(flag.kind)}: {flag_detail(flag)}" for flag in found.flags]
        if found.holder_mismatch:
            lines.append("⚠ " + _("The account holder's name is not the victim's name"))
        self.warnings.setText("\n".join(lines))
        self.warnings.setVisible(bool(lines))

    def _header_html(self, case: CaseView) -> str:
        amounts = [f"{_('Claimed amount')} <b>{format_yen(case.claimed_amount)}</b>"]
        for label, value in ((_("Verified amount"), case.verified_amount),
                             (_("Approved amount"), case.approved_amount),
                             (_("Paid amount"), case.paid_amount)):
            if value is not None:
                amounts.append(f"{label} <b>{format_yen(value)}</b>")
        reason = (f"<br>{_('Reason')}: {reason_text(case.status_reason)}"
                  if case.status_reason else "")
        return (f"<p style='font-size:15pt; margin:0'><b>{case.case_number}</b>　"
                f"{case.victim.name}</p><p style='margin-top:4px'>{channel_label(case.channel)}"
                f" ・ {_('Status')}: <b>{status_label(case.status)}</b></p>"
                f"<p style='margin-top:2px'>{'　'.join(amounts)}{reason}</p>")

    def _show_moves(self, moves: tuple[Move, ...]) -> None:
        while self.moves_box.count():
            item = self.moves_box.takeAt(0)
            if item.widget():
                item.widget().deleteLater()
        names = [move.name for move in moves]
        for move in moves:
            text = move_label(move.name)
            if names.count(move.name) > 1:  # e.g. reached: back to received, or contacted
                text += f"（→ {status_label(move.target)}）"
            button = QPushButton(text)
            button.setObjectName(f"move_{move.name}_{move.target.value}")
            button.clicked.connect(lambda _=False, m=move: self.make_move(m))
            self.moves_box.addWidget(button)
        self.moves_box.addStretch(1)

    def move_buttons(self) -> dict[str, QPushButton]:
        """The move buttons on screen, by object name (for tests and shortcuts)."""
        found = {}
        for i in range(self.moves_box.count()):
            widget = self.moves_box.itemAt(i).widget()
            if isinstance(widget, QPushButton):
                found[widget.objectName()] = widget
        return found

    def _show_victim(self, case: CaseView) -> None:
        for key, edit in self.victim_edits.items():
            edit.setText(getattr(case.victim, key) or "")

    def _show_payout(self, case: CaseView, revealed=None) -> None:
        details = revealed or case.payout
        if details is None:
            self.payout_label.setText(_("No payout details yet."))
            self.reveal_button.setEnabled(False)
            return
        data = details.as_dict() if revealed else details.masked()
        self.payout_label.setText("\n".join(payout_lines(data)))
        self.reveal_button.setEnabled(revealed is None)

    # -- actions ---------------------------------------------------------------------
    def make_move(self, move: Move) -> None:
        """Confirm, then ask what the move needs; a verification asks its amount first
        so that the confirmation can state it."""
        case = self.case
        if case is None:
            return
        request = MoveRequest(move.target, expected_version=case.version)
        if move.name == "verify":
            request = self._verify_request(case)
            if request is None:
                return
        if not self.desk.prompter.confirm(self, _("Confirm"),
                                          self._question(move, case, request)):
            return
        if move.name != "verify":
            request = self._request_for(move, case)
        if request is None:
            return
        request = ask_step_up(self, self.desk, move, case, request)
        if request is None:
            return
        self.desk.act(cases.move_case, case.id, request, on_done=self._moved,
                      on_error=self._error)

    def _question(self, move: Move, case: CaseView, request: MoveRequest) -> str:
        """What the move does, and for the moves that decide money, how much."""
        lines = [f"{case.case_number}: {move_label(move.name)}"]
        if move.name == "verify":
            lines.append(_("Verify {amount} (claimed {claimed}).").format(
                amount=format_yen(request.verified_amount),
                claimed=format_yen(case.claimed_amount)))
        elif move.name == "approve":
            lines.append(_("Approve a payment of {amount}.").format(
                amount=format_yen(case.verified_amount)))
        lines += [move_effect(move.name), f"{status_label(move.source)} → "
                  f"{status_label(move.target)}"]
        return "\n\n".join(lines)

    def _verify_request(self, case: CaseView) -> MoveRequest | None:
        prompter = self.desk.prompter
        amount = prompter.ask_amount(self, _("Verify amount"), _("Verified amount (yen)"),
                                     case.claimed_amount)
        if amount is None:
            return None
        reason = None
        if amount > case.claimed_amount:
            reason = prompter.ask_text(self, _("Amount above the claim"),
                                       _("Reason for verifying more than the claim"))
        return MoveRequest(Status.VERIFIED, reason=reason, expected_version=case.version,
                           verified_amount=amount)

    def _request_for(self, move: Move, case: CaseView) -> MoveRequest | None:
        """After the confirmation: the reason or the case to merge into, where needed."""
        if move.name == "merge":
            return self._merge_request(case)
        if move.needs_reason:
            reason = self.desk.prompter.ask_text(self, move_label(move.name),
                                                 _("Reason (required)"))
            if not reason:
                return None
            return MoveRequest(move.target, reason=reason, expected_version=case.version)
        return MoveRequest(move.target, expected_version=case.version)

    def _merge_request(self, case: CaseView) -> MoveRequest | None:
        """A merge names the case that stays; the service checks the number and the channel."""
        prompter = self.desk.prompter
        target = prompter.ask_text(self, _("Merge into another case"),
                                   _("Case number of the case to keep"))
        if not target:
            return None
        reason = prompter.ask_text(self, _("Merge into another case"), _("Reason (required)"))
        if not reason:
            return None
        return MoveRequest(Status.MERGED, reason=reason, expected_version=case.version,
                           merge_into_number=target)

    def _moved(self, _view: CaseView | None = None) -> None:
        """Nothing to do: the desk's ``changed`` reloads the case (``_concerns``)."""

    def save_victim(self) -> None:
        if self.case is None:
            return
        values = {key: edit.text().strip() or None for key, edit in self.victim_edits.items()}
        values["name"] = values["name"] or ""
        data = VictimInput(contact_received_at=self.case.victim.contact_received_at, **values)
        self.desk.act(victims.update_victim, self.case.victim.id, data,
                      self.case.victim.version, on_done=lambda _v: self._moved(self.case),
                      on_error=self._error)

    def add_note(self) -> None:
        text = self.note_edit.toPlainText().strip()
        if self.case is None or not text:
            return
        case_id = self.case.id
        self.desk.act(cases.add_note, case_id, text, on_done=lambda _r: self._noted(case_id),
                      on_error=self._error)

    def _noted(self, _case_id: int) -> None:
        self.note_edit.clear()  # the case reloads from the desk's ``changed``

    def edit_payout(self) -> PayoutDialog | None:
        if self.case is None:
            return None
        dialog = PayoutDialog(self.desk, self.case, self)
        dialog.accepted.connect(lambda: self._moved(dialog.saved) if dialog.saved else None)
        case_id = self.case.id
        dialog.rejected.connect(lambda: self.load(case_id) if dialog.conflict else None)
        dialog.open()
        return dialog

    def reveal_payout(self) -> None:
        if self.case is None:
            return
        case = self.case
        self.desk.act(victims.reveal_payout, case.id,
                      on_done=lambda details: self._show_payout(case, details),
                      on_error=self._error)

    def print_record(self) -> None:
        """The case record as a PDF where the operator says (app.services.case_record)."""
        case = self.case
        if case is None:
            return
        prompter = self.desk.prompter
        suggested = str(Path.home() / f"{_('Case record')}-{case.case_number}.pdf")
        path = prompter.save_file(self, _("Save the case record"), suggested,
                                  _("PDF files (*.pdf)"))
        if not path:
            return
        code = ask_fresh_code(self, self.desk)  # the record holds personal data
        if code is None:
            return
        self.desk.act(case_record.export_case_record, case.id, FileOut(path),
                      second_factor=code or None,
                      on_done=lambda pages: self._record_printed(path, pages),
                      on_error=self._error)

    def _record_printed(self, path: str, pages: int) -> None:
        self.desk.prompter.info(self, _("Case record"), _(
            "The case record ({pages} pages) was saved to {path}.").format(pages=pages,
                                                                            path=path))
        self.record_printed.emit(path, pages)

    def show_person(self) -> PersonDialog | None:
        """The victim's page in both programmes: these cases and any refund application."""
        if self.case is None:
            return None
        dialog = PersonDialog(self.desk, self)
        dialog.load_case(self.case.id)
        dialog.open()
        return dialog

    def _error(self, exc: Exception) -> None:
        self.desk.prompter.error(self, error_text(exc))
        if isinstance(exc, ConflictError) and self.case is not None:
            self.load(self.case.id)  # show the fresh data; nothing was overwritten

    def clear(self) -> None:
        self.case = None
        self.tabs.setEnabled(False)
        self.print_record_button.setEnabled(False)
        self.person_button.setEnabled(False)
        self._show_moves(())


def _change_text(before: str | None, after: str | None) -> str:
    return "\n".join(change_lines(json.loads(before) if before else {},
                                  json.loads(after) if after else {}))
