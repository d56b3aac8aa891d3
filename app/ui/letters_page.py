"""The letters area: build a batch, produce it on a worker, preview, print, mark mailed.

Producing runs as a background task (app.ui.tasks: its own worker, so the desk's
lane stays free for the other pages) with a progress bar polled from the task's
watch and a cancel checked before each letter. The service writes the PDF under a
temporary name and records the letters only when the whole batch is done, so a
cancelled batch leaves nothing.

The balance-refund programme's letters are kinds of the same list: chosen by rule they
go to every refund application due them (the count is shown), or to the application
numbers typed; each batch in the list says its programme.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.clock import to_jst
from app.core.i18n import N_, _, error_text, one_language
from app.core.paths import user_data_dir
from app.domain.channels import Channel
from app.domain.states import Status
from app.letters import REFUND, LetterKind, deficiency_checklist
from app.services import letters as service
from app.services.gateway import FileOut
from app.services.letters import BatchRequest, BatchSummary, BatchView, MailedSummary
from app.ui.desk import Desk
from app.ui.labels import LETTER_KINDS, PROGRAMMES, channel_label, status_label
from app.ui.letter_preview import LetterPreview
from app.ui.refresh import follow_changes, touches_letters, touches_refund_letters
from app.ui.tables import fill_table, make_table
from app.ui.tasks import BackgroundTask

ERROR_STYLE = "color: #b00020"
DONE_STYLE = "color: #1b5e20"
KIND_LABELS = {kind: LETTER_KINDS[kind.value] for kind in LetterKind}
_RULE_STATUSES = (Status.RECEIVED, Status.UNREACHABLE, Status.CONTACTED,
                  Status.DOCUMENTS_RECEIVED, Status.PAID)


def kind_label(kind: LetterKind) -> str:
    return _(KIND_LABELS[kind])


def programme_label(programme: str) -> str:
    return _(PROGRAMMES[programme])


def parse_case_numbers(text: str) -> tuple[str, ...]:
    """Case numbers pasted one per line, or separated by spaces or commas."""
    return tuple(part for part in re.split(r"[\s,、，]+", text) if part)


class LettersPage(QWidget):
    title = "Letters"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.task = BackgroundTask(self)  # the desk's lane stays free
        self.task.progressed.connect(self._show_progress)
        self.running = False
        self.summary: BatchSummary | None = None
        self.batch_id: int | None = None  # the batch shown (just produced or picked)
        self.batches: list[BatchView] = []
        self.due: dict[str, int] = {}  # refund letters due, by kind
        self._build()
        self._kind_changed()
        self.refresh_batches()
        follow_changes(self, desk, touches_letters, self.refresh_batches)
        # The refund decisions change what is due (the batches refresh it with theirs).
        follow_changes(self, desk, lambda changed: touches_refund_letters(changed)
                       and not touches_letters(changed), self.refresh_due)

    # ---------------------------------------------------------------- building
    def _build(self) -> None:
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(self._build_left())
        splitter.addWidget(self._build_right())
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([480, 720])
        layout = QVBoxLayout(self)
        heading = QLabel(f"<h2>{_('Letters')}</h2>")
        layout.addWidget(heading)
        layout.addWidget(splitter, 1)

    def _build_left(self) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_batch_form())
        progress = QHBoxLayout()
        self.bar = QProgressBar(self)
        self.bar.setObjectName("letters_progress")
        self.cancel_button = QPushButton(_("Cancel"), self)
        self.cancel_button.setObjectName("letters_cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        progress.addWidget(self.bar, 1)
        progress.addWidget(self.cancel_button)
        layout.addLayout(progress)
        self.status = QLabel("", self)
        self.status.setObjectName("letters_status")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        layout.addWidget(QLabel(_("Produced letters"), self))
        self.produced = self._table("letters_produced",
                                    [N_("Case number"), N_("Letter code"), N_("Pages")])
        self.produced_programme = "compensation"
        self.produced.itemSelectionChanged.connect(self._letter_picked)
        layout.addWidget(self.produced, 2)
        layout.addWidget(QLabel(_("Letters that could not be printed"), self))
        self.refused = self._table("letters_refused", [N_("Case number"), N_("Reason")])
        layout.addWidget(self.refused, 1)
        layout.addWidget(QLabel(_("Recent batches"), self))
        self.batch_table = self._table(
            "letters_batches", [N_("Batch"), N_("Programme"), N_("Kind"), N_("Letters"),
                                N_("Produced"), N_("Mailed")])
        self.batch_table.itemSelectionChanged.connect(self._batch_picked)
        layout.addWidget(self.batch_table, 1)
        return box

    def _build_batch_form(self) -> QGroupBox:
        group = QGroupBox(_("New batch"), self)
        form = QFormLayout(group)
        self.kind = QComboBox(group)
        self.kind.setObjectName("letters_kind")
        for kind in LetterKind:
            self.kind.addItem(kind_label(kind), kind.value)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        form.addRow(_("Letter"), self.kind)

        self.by_rule = QRadioButton(_("Cases chosen by rule"), group)
        self.by_rule.setObjectName("letters_by_rule")
        self.by_number = QRadioButton(_("These case numbers"), group)
        self.by_number.setObjectName("letters_by_number")
        self.by_rule.setChecked(True)
        self._choice = QButtonGroup(group)
        self._choice.addButton(self.by_rule)
        self._choice.addButton(self.by_number)
        self.by_rule.toggled.connect(self._mode_changed)
        form.addRow(self.by_rule)
        self.channel = QComboBox(group)
        self.channel.setObjectName("letters_channel")
        self.channel.addItem(_("All channels"), "")
        for channel in Channel:
            self.channel.addItem(channel_label(channel), channel.value)
        form.addRow(_("Channel"), self.channel)
        self.status_combo = QComboBox(group)
        self.status_combo.setObjectName("letters_status_rule")
        for status in _RULE_STATUSES:
            self.status_combo.addItem(status_label(status), status.value)
        form.addRow(_("Status"), self.status_combo)
        self.limit = QSpinBox(group)
        self.limit.setObjectName("letters_limit")
        self.limit.setRange(1, service.MAX_BATCH)
        self.limit.setValue(200)
        form.addRow(_("At most"), self.limit)
        self.letter_due = QCheckBox(_("Only cases the outreach queue marked as due a letter"),
                                    group)
        self.letter_due.setObjectName("letters_due")
        form.addRow(self.letter_due)
        self.due_label = QLabel("", group)
        self.due_label.setObjectName("letters_refund_due")
        self.due_label.setWordWrap(True)
        form.addRow(self.due_label)
        form.addRow(self.by_number)
        self.numbers = QPlainTextEdit(group)
        self.numbers.setObjectName("letters_numbers")
        self.numbers.setPlaceholderText(_("H-0000001-8, one or more case numbers"))
        self.numbers.setMaximumHeight(60)
        form.addRow(self.numbers)
        self.items = QListWidget(group)
        self.items.setObjectName("letters_items")
        self.items.setMaximumHeight(110)
        for item in deficiency_checklist():
            row = QListWidgetItem(item.label, self.items)
            row.setData(Qt.ItemDataRole.UserRole, item.code)
            row.setFlags(row.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            row.setCheckState(Qt.CheckState.Unchecked)
        self.items_label = QLabel(_("Missing or wrong items"), group)
        form.addRow(self.items_label, self.items)
        self.per_case = QCheckBox(_("One PDF file per case"), group)
        self.per_case.setObjectName("letters_per_case")
        form.addRow(self.per_case)
        folder_row = QHBoxLayout()
        self.folder = QLineEdit(str(user_data_dir() / "letters"), group)
        self.folder.setObjectName("letters_folder")
        browse = QPushButton(_("Browse…"), group)
        browse.clicked.connect(self._browse)
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        form.addRow(_("Save in"), folder_row)
        self.produce_button = QPushButton(_("Produce letters"), group)
        self.produce_button.setObjectName("letters_produce")
        self.produce_button.clicked.connect(self.produce)
        form.addRow(self.produce_button)
        self._mode_changed()
        return group

    def _build_right(self) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        self.print_button = QPushButton(_("Print…"), box)
        self.print_button.setObjectName("letters_print")
        self.print_button.clicked.connect(self.print_batch)
        self.save_button = QPushButton(_("Save as PDF…"), box)
        self.save_button.setObjectName("letters_save")
        self.save_button.clicked.connect(self.save_pdf)
        self.mail_button = QPushButton(_("Mark batch as mailed"), box)
        self.mail_button.setObjectName("letters_mark_mailed")
        self.mail_button.clicked.connect(self.mark_mailed)
        for button in (self.print_button, self.save_button, self.mail_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.preview = LetterPreview(box)
        layout.addWidget(self.preview, 1)
        self._update_buttons()
        return box

    def _table(self, name: str, headers: list[str]) -> QTableWidget:
        return make_table(name, headers, fit=True, parent=self)

    # ---------------------------------------------------------------- the form
    @property
    def current_kind(self) -> LetterKind:
        return LetterKind(self.kind.currentData())

    @property
    def refund_kind(self) -> bool:
        return self.current_kind.programme == REFUND

    @Slot()
    def _kind_changed(self) -> None:
        kind = self.current_kind
        refund = self.refund_kind
        if not refund:
            wanted = service.DEFAULT_STATUS[kind].value
            self.status_combo.setCurrentIndex(max(0, self.status_combo.findData(wanted)))
        deficiency = kind is LetterKind.DEFICIENCY
        self.items.setVisible(deficiency)
        self.items_label.setVisible(deficiency)
        for widget in (self.channel, self.status_combo, self.letter_due):
            widget.setVisible(not refund)
            label = self._form_label(widget)
            if label is not None:
                label.setVisible(not refund)
        self.due_label.setVisible(refund)
        self.by_rule.setText(_("Refund applications due this letter") if refund
                             else _("Cases chosen by rule"))
        self.by_number.setText(_("These application numbers") if refund
                               else _("These case numbers"))
        self.numbers.setPlaceholderText(
            _("One or more application numbers (申出番号)") if refund
            else _("H-0000001-8, one or more case numbers"))
        self.per_case.setText(_("One PDF file per application") if refund
                              else _("One PDF file per case"))
        self._show_due()
        if refund and hasattr(self, "batch_table"):
            self.refresh_due()
        self._mode_changed()

    def _form_label(self, widget: QWidget) -> QWidget | None:
        form = self.kind.parentWidget().layout()
        return form.labelForField(widget) if isinstance(form, QFormLayout) else None

    @Slot()
    def _mode_changed(self) -> None:
        rule = self.by_rule.isChecked()
        refund = self.refund_kind
        for widget in (self.channel, self.status_combo):
            widget.setEnabled(rule and not refund)
        self.limit.setEnabled(rule)
        self.letter_due.setEnabled(rule and self.current_kind is LetterKind.GUIDANCE)
        self.numbers.setEnabled(not rule)

    def _show_due(self) -> None:
        if not self.refund_kind:
            return
        count = self.due.get(self.current_kind.value)
        self.due_label.setText("" if count is None else _(
            "{count} refund applications are due this letter (a letter goes to the address "
            "on record; each application gets it once).").format(count=f"{count:,}"))

    @Slot()
    def refresh_due(self) -> None:
        self.desk.call(service.refund_letters_due, on_done=self._got_due,
                       on_error=self._failed)

    def _got_due(self, due: dict[str, int]) -> None:
        self.due = dict(due)
        self._show_due()

    @Slot()
    def _browse(self) -> None:
        chosen = self.desk.prompter.choose_folder(self, _("Choose a folder"),
                                                   self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    def request(self) -> BatchRequest:
        kind = self.current_kind
        items = tuple(self.items.item(i).data(Qt.ItemDataRole.UserRole)
                      for i in range(self.items.count())
                      if self.items.item(i).checkState() == Qt.CheckState.Checked)
        if self.refund_kind:
            if self.by_number.isChecked():
                return BatchRequest(kind, application_ids=parse_case_numbers(
                    self.numbers.toPlainText()))
            return BatchRequest(kind, limit=self.limit.value())
        common = dict(deficiency_items=items if kind is LetterKind.DEFICIENCY else ())
        if self.by_number.isChecked():
            return BatchRequest(kind, case_numbers=parse_case_numbers(
                self.numbers.toPlainText()), **common)
        channel = self.channel.currentData()
        return BatchRequest(
            kind, channel=Channel(channel) if channel else None,
            status=Status(self.status_combo.currentData()), limit=self.limit.value(),
            letter_due=self.letter_due.isEnabled() and self.letter_due.isChecked(), **common)

    def _targets(self, kind: LetterKind) -> tuple[Path, Path | None]:
        folder = Path(self.folder.text().strip() or user_data_dir() / "letters")
        stamp = to_jst(self.desk.now()).strftime("%Y%m%d-%H%M%S")
        name, n = f"{kind.value}-{stamp}", 1
        # never overwrite an earlier batch's file (two batches in the same second)
        while (folder / f"{name}.pdf").exists() or (folder / name).exists():
            n += 1
            name = f"{kind.value}-{stamp}-{n}"
        if self.per_case.isChecked():
            return folder / f"{name}.pdf", folder / name
        return folder / f"{name}.pdf", None

    # ---------------------------------------------------------------- producing
    @Slot()
    def produce(self) -> None:
        if self.running:
            return
        request = self.request()
        if self.by_number.isChecked() and not (request.case_numbers or request.application_ids):
            self.say(_("Enter at least one application number.") if self.refund_kind
                     else _("Enter at least one case number."), error=True)
            return
        if request.kind is LetterKind.DEFICIENCY and not request.deficiency_items:
            self.say(_("Tick at least one missing or wrong item."), error=True)
            return
        out, per_case = self._targets(request.kind)
        folder = FileOut(str(per_case), folder=True) if per_case is not None else None
        self.desk.act(service.produce_batch, request, FileOut(str(out)), per_case_dir=folder,
                      task=self.task, on_done=self._produced, on_error=self._failed)
        self._set_running(True)

    def _set_running(self, running: bool) -> None:
        self.running = running
        self.produce_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.bar.setRange(0, 1)
            self.bar.setValue(0)
            self.say(_("Producing letters…"))
        self._update_buttons()

    @Slot(int, int)
    def _show_progress(self, done: int, total: int) -> None:
        if not self.running:
            return
        self.bar.setRange(0, total)
        self.bar.setValue(done)
        if not self.task.cancelled:
            self.say(_("Producing letters… {done} of {total}").format(
                done=f"{done:,}", total=f"{total:,}"))

    @Slot()
    def cancel(self) -> None:
        if self.running:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.say(_("Cancelling…"))

    def _produced(self, summary: BatchSummary) -> None:
        self._set_running(False)
        self.summary = summary
        self._fill_results(summary)
        self.bar.setValue(0 if summary.cancelled else self.bar.maximum())
        if summary.cancelled:
            self.say(_("Cancelled: no letter was recorded and no file was kept."), error=True)
            return
        if summary.batch_id is None:
            self.say(_("No letter could be produced."), error=True)
            return
        self.batch_id = summary.batch_id
        self.say(_("Batch {batch}: {letters} letters, {pages} pages, saved to {out}.").format(
            batch=summary.batch_id, letters=f"{len(summary.letters):,}",
            pages=f"{summary.pages:,}", out=summary.out), done=True)
        first = summary.letters[0]
        self.preview.load(first.path, first.first_page)
        self._update_buttons()  # the batch list refreshes from the desk's ``changed``

    def _failed(self, exc: Exception) -> None:
        self._set_running(False)
        self.say(error_text(exc), error=True)

    def _fill_results(self, summary: BatchSummary) -> None:
        programme = LetterKind(summary.kind).programme
        if programme != self.produced_programme:
            self.produced_programme = programme
            header = _("Application number") if programme == REFUND else _("Case number")
            for table in (self.produced, self.refused):
                table.horizontalHeaderItem(0).setText(header)
        self._fill(self.produced, [(x.case_number, x.code, str(x.pages))
                                   for x in summary.letters])
        self._fill(self.refused, [(r.case_number, one_language(r.ja, r.en, r.reason))
                                  for r in summary.refused])

    @staticmethod
    def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
        fill_table(table, rows)

    @Slot()
    def _letter_picked(self) -> None:
        rows = self.produced.selectionModel().selectedRows() if self.produced.model() else []
        if not rows or self.summary is None or rows[0].row() >= len(self.summary.letters):
            return
        letter = self.summary.letters[rows[0].row()]
        if self.preview.path != letter.path:
            self.preview.load(letter.path, letter.first_page)
        else:
            self.preview.show_page(letter.first_page)

    # ---------------------------------------------------------------- batches
    @Slot()
    def refresh_batches(self) -> None:
        self.desk.call(service.list_batches, on_done=self._show_batches,
                       on_error=self._failed)
        self.refresh_due()

    def _show_batches(self, batches: list[BatchView]) -> None:
        self.batches = batches
        rows = []
        for b in batches:
            mailed = f"{to_jst(b.mailed_at):%Y-%m-%d %H:%M}" if b.mailed_at else _("Not yet")
            rows.append((str(b.id), programme_label(b.programme), kind_label(b.kind),
                         f"{b.letters:,}",
                         f"{to_jst(b.created_at):%Y-%m-%d %H:%M}", mailed))
        self.batch_table.blockSignals(True)
        self._fill(self.batch_table, rows)
        self.batch_table.blockSignals(False)
        self._update_buttons()

    @Slot()
    def _batch_picked(self) -> None:
        rows = self.batch_table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.batches):
            return
        batch = self.batches[rows[0].row()]
        self.batch_id = batch.id
        self.desk.call(service.batch_letters, batch.id, on_done=self._show_batch_letters,
                       on_error=self._failed)

    def _show_batch_letters(self, letters: list[service.ProducedLetter]) -> None:
        batch = self._current_batch()
        kind = batch.kind if batch else self.current_kind
        self.summary = BatchSummary(self.batch_id, kind, None, tuple(letters))
        self._fill_results(self.summary)
        # A batch made at a centre is recorded by the desk's file name only (not a path
        # here): nothing to look for relative to wherever this program runs.
        if letters and letters[0].path.is_absolute() and letters[0].path.is_file():
            self.preview.load(letters[0].path, letters[0].first_page)
        else:
            self.preview.clear()
        self._update_buttons()

    def _current_batch(self) -> BatchView | None:
        return next((b for b in self.batches if b.id == self.batch_id), None)

    def _update_buttons(self) -> None:
        if not hasattr(self, "mail_button"):
            return
        shown = self.preview.page_count > 0 and not self.running
        self.print_button.setEnabled(shown)
        self.save_button.setEnabled(shown)
        batch = self._current_batch()
        self.mail_button.setEnabled(batch is not None and batch.mailed_at is None
                                    and not self.running)

    # ---------------------------------------------------------------- print, save, mail
    @Slot()
    def print_batch(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(self.preview.path.name if self.preview.path else "letters")
        if self.desk.prompter.print_setup(self, printer):
            pages = self.preview.print_to(printer)
            self.say(_("{pages} pages sent to the printer.").format(pages=pages), done=True)

    @Slot()
    def save_pdf(self) -> None:
        source = self.preview.path
        if source is None:
            return
        suggested = str(Path.home() / source.name)
        target = self.desk.prompter.save_file(self, _("Save as PDF"), suggested,
                                              _("PDF files (*.pdf)"))
        if not target:
            return
        try:
            shutil.copyfile(source, target)
        except OSError as exc:
            self.say(_("Could not save the PDF: {error}").format(error=exc.strerror),
                     error=True)
            return
        self.say(_("Saved to {path}.").format(path=target), done=True)

    @Slot()
    def mark_mailed(self) -> None:
        batch = self._current_batch()
        if batch is None or batch.mailed_at is not None:
            return
        if batch.programme == REFUND:
            question = _("Mark batch {batch} ({letters} letters: {kind}) as mailed? The "
                         "refund applications stay as they are.").format(
                batch=batch.id, letters=f"{batch.letters:,}", kind=kind_label(batch.kind))
        else:
            question = _("Mark batch {batch} ({letters} letters: {kind}) as mailed? The "
                         "cases move on as their letter says, where the rules allow it."
                         ).format(batch=batch.id, letters=f"{batch.letters:,}",
                                  kind=kind_label(batch.kind))
        if not self.desk.prompter.confirm(self, _("Mark batch as mailed"), question):
            return
        self.mail_button.setEnabled(False)
        self.desk.act(service.mark_mailed, batch.id, on_done=self._mailed,
                      on_error=self._failed)

    def _mailed(self, summary: MailedSummary) -> None:
        batch = self._current_batch()
        if batch is not None and batch.programme == REFUND:
            text = _("Batch {batch} marked as mailed: {letters} letters.").format(
                batch=summary.batch_id, letters=f"{summary.letters:,}")
        else:
            text = _("Batch {batch} marked as mailed: {moved} cases moved on, {stayed} "
                     "stayed.").format(batch=summary.batch_id, moved=len(summary.moved),
                                       stayed=len(summary.stayed))
        self.say(text, done=True)
        self._fill(self.refused, [(m.case_number, one_language(m.ja, m.en, m.reason))
                                  for m in summary.stayed])
        self.desk.prompter.info(self, _("Mark batch as mailed"), text)

    # ---------------------------------------------------------------- misc
    def say(self, text: str, *, error: bool = False, done: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(ERROR_STYLE if error else DONE_STYLE if done else "")

    def shutdown(self) -> None:
        """Cancel a running batch (it leaves nothing behind) and wait for the worker."""
        self.task.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
