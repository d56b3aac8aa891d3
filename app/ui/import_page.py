"""The import wizard: choose (or drop) a file, check its columns, validate, import.

It takes the three files of the programme, by the same engine: incident lists
(incident-csv.md), and the balance refund's closing balances and applications
(balance-refund.md). The operator chooses the kind, or leaves it to the header
(app.importers.kinds.recognise); the kind is on screen at every step.

1. choose a file, or drop it on the window;
2. preview: the detected encoding and delimiter, the first rows, and which
   field each column holds, which the operator can correct;
3. validation: a dry run of the import that counts every outcome and lists
   the refused rows, writing nothing;
4. import: the real run, then its summary and the refused rows to save.

Reading the preview runs on the page's own reader thread, and validating and
importing run as a background task (app.ui.tasks), never on the GUI thread nor on
the desk's database lane (which other pages keep using). Progress is the task's
watch, set by the service once per chunk and polled by a GUI timer, and cancel is
checked between chunks, so the window stays responsive whatever the file's size.
"""

from __future__ import annotations

import html
import logging
import math
import os
import shutil
import tempfile
from itertools import count
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import QBrush, QCloseEvent, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import N_, _, error_text, format_yen, one_language
from app.domain.channels import Channel
from app.domain.refunds import RefundState
from app.importers.incident_csv import FIELDS, IGNORE, REQUIRED_FIELDS, Preview, preview
from app.importers.kinds import INCIDENTS, KINDS, REFUND_KINDS, recognise_file
from app.importers.refund_csv import refund_preview
from app.services.gateway import FileIn, FileOut
from app.services.import_errors import (
    import_refunds_spooling_refused,
    import_spooling_refused,
    save_refused_rows,
)
from app.services.imports import ImportCancelled, ImportSummary
from app.services.refunds_import import RefundImportSummary
from app.ui.desk import Desk
from app.ui.drops import FileDrop
from app.ui.labels import channel_label
from app.ui.lane import ServiceLane
from app.ui.tables import make_table
from app.ui.tasks import BackgroundTask

log = logging.getLogger(__name__)

PREVIEW_ROWS = 20
PROGRESS_STEPS = 1000  # the bar counts per mille: byte counts overflow a Qt int
UNMAPPED = ""  # combo data of a column no field was found for
ERROR_STYLE = "color: #b00020"
DONE_STYLE = "color: #1b5e20"
COLUMN_WIDTH = 150
MAX_COLUMNS = 200  # a broken file can have thousands of "columns": show the first ones
MAX_CELL_TEXT = 200
STEP_CHOOSE, STEP_PREVIEW, STEP_RESULT = range(3)

FIELD_LABELS = {
    "report_id": N_("Report ID"),
    "member_id": N_("Member ID (7iD)"),
    "name": N_("Name"),
    "name_kana": N_("Kana"),
    "phone": N_("Phone"),
    "email": N_("E-mail"),
    "postal_code": N_("Postal code"),
    "address": N_("Address"),
    "channel": N_("Channel"),
    "occurred_at": N_("Occurred at"),
    "amount": N_("Incident amount"),
    "card_issuer": N_("Card issuer"),
    "card_last4": N_("Card last 4"),
    "contact_received_at": N_("Contact details received"),
    "merchant": N_("Merchant"),
    "note": N_("Remarks"),
    # The balance refund's files (balance-refund.md)
    "balance": N_("Closing balance"),
    "fraud_charge_balance": N_("Balance from fraudulent charges"),
    "birth_date": N_("Date of birth"),
    "closed_on": N_("Account closed on"),
    "application_id": N_("Application number"),
    "route": N_("Application route"),
    "applied_at": N_("Applied at"),
    "method": N_("Refund method"),
    "bank_code": N_("Bank code"),
    "branch_code": N_("Branch code"),
    "account_type": N_("Account type"),
    "account_number": N_("Account number"),
    "account_holder_kana": N_("Account holder (kana)"),
}
AUTO = "auto"  # the kind combo's choice: recognised from the header
KIND_LABELS = {
    AUTO: N_("Recognise from the header"),
    INCIDENTS: N_("Incident list (compensation)"),
    "balances": N_("Closing balances (balance refund)"),
    "applications": N_("Refund applications (balance refund)"),
}
CONFLICT_LABELS = {INCIDENTS: N_("Conflicts (same report ID, other content)"),
                   "balances": N_("Conflicts (same member ID, other content)"),
                   "applications": N_("Conflicts (same application number, other content)")}
DONE_TEXT = {INCIDENTS: N_("Import finished: {count} incidents stored."),
             "balances": N_("Import finished: {count} closing balances stored."),
             "applications": N_("Import finished: {count} applications stored.")}
STATE_LABELS = {
    RefundState.DUPLICATE: N_("Duplicate application"),
    RefundState.UNMATCHED: N_("Member not found"),
    RefundState.REFUSED_CLOSED: N_("Refused: account closed"),
    RefundState.REFUSED_NO_BALANCE: N_("Refused: no balance"),
    RefundState.LATE: N_("After the deadline"),
    RefundState.HELD_OVERLAP: N_("Held: overlaps compensation"),
    RefundState.CONFIRMED: N_("Confirmed: identity checked"),
    RefundState.AWAITING_IDENTITY: N_("Awaiting identity check"),
    RefundState.REFUSED: N_("Refused after a decision"),
    RefundState.AWAITING_METHOD: N_("Awaiting a new refund method"),
    RefundState.PAID: N_("Refunded"),
}
_OUTCOMES = {"rejected": N_("Invalid"), "conflict": N_("Conflict")}
_STEPS = (N_("1 Choose a file"), N_("2 Check the columns"), N_("3 Validate"), N_("4 Import"))


def field_label(name: str) -> str:
    return _(FIELD_LABELS[name])


def kind_fields(kind: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The fields of a kind of file, and the required ones."""
    if kind == INCIDENTS:
        return FIELDS, REQUIRED_FIELDS
    found = REFUND_KINDS[kind]
    return tuple(found.headers), found.required


def kind_label(kind: str) -> str:
    return _(KIND_LABELS[kind])


def encoding_label(encoding: str) -> str:
    return {"utf-8-sig": _("UTF-8 (with BOM)"), "utf-8": "UTF-8",
            "cp932": "Shift_JIS (CP932)"}.get(encoding, encoding)


def delimiter_label(delimiter: str) -> str:
    return {",": _("comma"), "\t": _("tab")}.get(delimiter, repr(delimiter))


def size_label(size: int) -> str:
    if size < 1_000_000:
        return f"{math.ceil(size / 1000):,} KB"
    return f"{size / 1_000_000:,.1f} MB"


# ------------------------------------------------------------------ reader jobs
# On the page's reader thread: the operator's own file, no service, no widget.

def _read_preview(path: Path, choice: str, mapping: dict[str, str] | None
                  ) -> tuple[str, bool, Preview, int]:
    """(kind, recognised from the header, preview, size). A header that fits no single
    kind is read as an incident list, its missing columns named, for the operator to
    choose the kind."""
    recognised = False
    kind = choice
    if choice == AUTO:
        found = recognise_file(path)
        kind, recognised = found or INCIDENTS, found is not None
    if kind == INCIDENTS:
        shown = preview(path, rows=PREVIEW_ROWS, mapping=mapping)
    else:
        shown = refund_preview(path, REFUND_KINDS[kind], rows=PREVIEW_ROWS, mapping=mapping)
    return kind, recognised, shown, os.path.getsize(path)


# ------------------------------------------------------------------ the page

class ImportPage(QWidget):
    # After any run ends (done, cancelled or failed): tests and spinners wait on it.
    finished = Signal()

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        # Our own threads: the desk's lane must stay free for the other pages.
        self.reader = ServiceLane(self, threads=1)
        self.task = BackgroundTask(self)
        self.task.progressed.connect(self._show_progress)
        self.path: Path | None = None
        self.preview: Preview | None = None
        self.detected: dict[str, str] = {}  # header -> field found without overrides
        self.overrides: dict[str, str] = {}  # header -> field or IGNORE, set by the operator
        self.summary: ImportSummary | RefundImportSummary | None = None
        self.kind = INCIDENTS  # the kind of the file shown (chosen or recognised)
        self.recognised = False
        self.running = False
        self._status_prefix = ""
        self._preview_seq = count(1)
        self._preview_wanted = 0
        self._spool_dir: str | None = None
        self._spool_seq = count(1)
        self._refused_file: Path | None = None
        self.combos: list[QComboBox] = []
        self._build()
        FileDrop(self, self.load_file, ready=lambda: not self.running)
        self.show_step(STEP_CHOOSE)

    # ---------------------------------------------------------------- building
    def _build(self) -> None:
        title = _("Import files")
        heading = QLabel(f"<h2>{title}</h2>")
        kinds = QHBoxLayout()
        kinds.addWidget(QLabel(_("Kind of file:")))
        self.kind_combo = QComboBox()
        self.kind_combo.setObjectName("import_kind")
        for kind in (AUTO, *KINDS):
            self.kind_combo.addItem(kind_label(kind), kind)
        self.kind_combo.currentIndexChanged.connect(self._kind_chosen)
        kinds.addWidget(self.kind_combo)
        self.kind_badge = QLabel()
        self.kind_badge.setObjectName("import_kind_badge")
        self.kind_badge.setTextFormat(Qt.TextFormat.PlainText)
        kinds.addWidget(self.kind_badge)
        kinds.addStretch(1)
        self.steps = QLabel()
        self.steps.setObjectName("import_steps")
        self.steps.setTextFormat(Qt.TextFormat.RichText)
        self.stack = QStackedWidget()
        self.stack.addWidget(self._build_choose())
        self.stack.addWidget(self._build_preview())
        self.stack.addWidget(self._build_result())
        self.message = QLabel()
        self.message.setObjectName("import_message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # it quotes file names and cells
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(kinds)
        layout.addWidget(self.steps)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self._build_progress())
        layout.addWidget(self.message)

    def _build_choose(self) -> QWidget:
        zone = QFrame()
        zone.setObjectName("drop_zone")
        zone.setStyleSheet("#drop_zone { border: 2px dashed #9e9e9e; border-radius: 8px; "
                           "background: #fafafa; }")
        title = QLabel(_("Drop a CSV file here: an incident list, closing balances or "
                         "refund applications"))
        title.setWordWrap(True)
        title.setStyleSheet("font-size: 14pt;")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.choose_button = QPushButton(_("Choose file…"))
        self.choose_button.setObjectName("import_choose")
        self.choose_button.setMinimumSize(220, 36)
        self.choose_button.clicked.connect(self.choose_path)
        help_text = QLabel(_("UTF-8 or Shift_JIS (CP932) as Excel saves it; comma-separated "
                             ".csv, or tab-separated .tsv and .txt. The first rows are shown "
                             "before anything is written."))
        help_text.setWordWrap(True)
        help_text.setAlignment(Qt.AlignmentFlag.AlignCenter)
        help_text.setStyleSheet("color: #555555")
        inner = QVBoxLayout(zone)
        inner.setContentsMargins(40, 24, 40, 24)
        inner.setSpacing(16)
        inner.addStretch(1)
        inner.addWidget(title)
        inner.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignHCenter)
        inner.addWidget(help_text)
        inner.addStretch(1)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(zone, 3)
        layout.addStretch(2)
        return page

    def _build_preview(self) -> QWidget:
        self.file_label = QLabel()
        self.file_label.setObjectName("import_file")
        self.file_label.setTextFormat(Qt.TextFormat.RichText)
        self.format_label = QLabel()
        self.format_label.setObjectName("import_format")
        self.format_label.setTextFormat(Qt.TextFormat.PlainText)
        hint = QLabel(_("The first rows as they are in the file. Check the field each column "
                        "holds in the first row, and change it where it is wrong."))
        hint.setWordWrap(True)
        self.table = QTableWidget()
        self.table.setObjectName("import_preview")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.verticalHeader().setDefaultSectionSize(26)
        self.unknown_label = QLabel()
        self.unknown_label.setObjectName("import_unknown")
        self.unknown_label.setWordWrap(True)
        self.unknown_label.setTextFormat(Qt.TextFormat.PlainText)
        self.problems = QLabel()
        self.problems.setObjectName("import_problems")
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.PlainText)
        self.problems.setStyleSheet(ERROR_STYLE)
        self.other_button = QPushButton(_("Choose another file…"))
        self.other_button.clicked.connect(self.choose_path)
        self.validate_button = QPushButton(_("Validate"))
        self.validate_button.setObjectName("import_validate")
        self.validate_button.setToolTip(_("Reads the whole file and counts what an import "
                                          "would do, without writing anything."))
        self.validate_button.clicked.connect(self.validate)
        self.validate_button.setMinimumWidth(160)
        self.validate_button.setDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.other_button)
        buttons.addStretch(1)
        buttons.addWidget(self.validate_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.file_label)
        layout.addWidget(self.format_label)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.unknown_label)
        layout.addWidget(self.problems)
        layout.addLayout(buttons)
        return page

    def _build_result(self) -> QWidget:
        self.result_heading = QLabel()
        self.result_heading.setObjectName("import_result_heading")
        self.result_heading.setTextFormat(Qt.TextFormat.RichText)
        self.result_heading.setWordWrap(True)
        self.counts: dict[str, QLabel] = {}
        counts_box = QGroupBox(_("Rows"))
        counts_form = QFormLayout(counts_box)
        self.counts_form = counts_form
        for key, label in (("read", N_("Rows read")), ("accepted", N_("Accepted")),
                           ("duplicate", N_("Duplicates (already stored, skipped)")),
                           ("conflict", N_("Conflicts (same report ID, other content)")),
                           ("rejected", N_("Invalid rows")),
                           ("victims_created", N_("New victims")),
                           ("cases_created", N_("New cases"))):
            self.counts[key] = self._figure(f"import_count_{key}")
            counts_form.addRow(_(label), self.counts[key])
        # The balance refund's figures: the balances taken, or the applications' states.
        self.refund_box = QGroupBox()
        self.refund_box.setObjectName("import_refund_figures")
        self.refund_form = QFormLayout(self.refund_box)
        self.balance_total = self._figure("import_balance_total")
        self.refund_form.addRow(_("Balances accepted"), self.balance_total)
        self.states: dict[str, QLabel] = {}
        for state, label in STATE_LABELS.items():
            self.states[state.value] = self._figure(f"import_state_{state.value}")
            self.refund_form.addRow(_(label), self.states[state.value])
        self.amounts: dict[str, QLabel] = {}
        amounts_box = QGroupBox(_("Accepted amounts"))
        amounts_form = QFormLayout(amounts_box)
        for channel in Channel:
            self.amounts[channel.value] = self._figure(f"import_amount_{channel.value}")
            amounts_form.addRow(channel_label(channel), self.amounts[channel.value])
        self.amounts["total"] = self._figure("import_amount_total")
        total = QLabel("<b>{}</b>".format(_("Total")))
        amounts_form.addRow(total, self.amounts["total"])
        self.amounts_box = amounts_box
        figures = QHBoxLayout()
        figures.addWidget(counts_box, 1)
        figures.addWidget(amounts_box, 1)
        figures.addWidget(self.refund_box, 1)
        self.refused_label = QLabel()
        self.refused_label.setObjectName("import_refused_label")
        self.refused_label.setWordWrap(True)
        self.refused = make_table("import_refused", (N_("Line"), N_("Outcome"), N_("Reasons")),
                                  (70, 110), single=False, wrap=False, row_height=24)
        self.back_button = QPushButton(_("Back to the columns"))
        self.back_button.clicked.connect(lambda: self.show_step(STEP_PREVIEW))
        self.save_button = QPushButton(_("Save refused rows…"))
        self.save_button.setObjectName("import_save_refused")
        self.save_button.clicked.connect(self.save_refused)
        self.import_button = QPushButton()
        self.import_button.setObjectName("import_run")
        self.import_button.clicked.connect(self.run_import)
        self.import_button.setMinimumWidth(160)
        self.again_button = QPushButton(_("Import another file"))
        self.again_button.clicked.connect(self.restart)
        buttons = QHBoxLayout()
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.import_button)
        buttons.addWidget(self.again_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.result_heading)
        layout.addLayout(figures)
        layout.addWidget(self.refused_label)
        layout.addWidget(self.refused, 1)
        layout.addLayout(buttons)
        return page

    @staticmethod
    def _figure(name: str) -> QLabel:
        label = QLabel()
        label.setObjectName(name)
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        label.setMinimumWidth(110)
        return label

    def _build_progress(self) -> QWidget:
        self.progress_box = QWidget()
        self.status = QLabel()
        self.status.setObjectName("import_status")
        self.bar = QProgressBar()
        self.bar.setObjectName("import_progress")
        self.bar.setRange(0, PROGRESS_STEPS)
        self.bar.setFormat("%p%")
        self.cancel_button = QPushButton(_("Cancel"))
        self.cancel_button.setObjectName("import_cancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QHBoxLayout(self.progress_box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.status)
        layout.addWidget(self.bar, 1)
        layout.addWidget(self.cancel_button)
        self.progress_box.setVisible(False)
        return self.progress_box

    # ---------------------------------------------------------------- steps
    def show_step(self, step: int, indicator: int | None = None) -> None:
        self.stack.setCurrentIndex(step)
        current = indicator if indicator is not None else min(step, 2)
        parts = []
        for index, text in enumerate(_STEPS):
            label = _(text)
            if index == current:
                parts.append(f"<b>{label}</b>")
            else:
                parts.append(f"<span style='color:#8a8a8a'>{label}</span>")
        self.steps.setText("&nbsp;&nbsp;›&nbsp;&nbsp;".join(parts))

    def say(self, text: str, *, error: bool = False, done: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else DONE_STYLE if done else "")
        self.message.setText(text)

    # ---------------------------------------------------------------- step 1: choose
    @Slot()
    def choose_path(self) -> None:
        path = self.desk.prompter.open_file(
            self, _("Choose a file to import"),
            _("CSV files (*.csv *.tsv *.txt);;All files (*)"))
        if path:
            self.load_file(path)

    def load_file(self, path: str | os.PathLike[str], kind: str | None = None) -> None:
        """Open a file in the wizard: its preview replaces whatever was shown. ``kind``:
        say which kind of file it is first (AUTO: from its header), as with the list."""
        if self.running:
            self.say(_("An import is running: wait for it to finish, or cancel it first."),
                     error=True)
            return
        if kind is not None:
            self.kind_combo.blockSignals(True)
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))
            self.kind_combo.blockSignals(False)
        self.path = Path(path)
        self.preview, self.summary = None, None
        self.detected, self.overrides = {}, {}
        self.kind_badge.setText("")
        self._drop_spool()
        self.say(_("Reading {file}…").format(file=self.path.name))
        self._request_preview()

    def choose_kind(self, kind: str) -> None:
        """Say which kind of file this is (or AUTO: from its header), as with the list."""
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(kind))

    @Slot()
    def _kind_chosen(self) -> None:
        if self.path is not None and not self.running:
            self.load_file(self.path)  # another kind: other fields, so a fresh preview

    def _request_preview(self) -> None:
        seq = self._preview_wanted = next(self._preview_seq)
        path, mapping = self.path, dict(self.overrides) or None
        # Once the preview is shown, its kind stays while the operator maps columns.
        choice = self.kind if self.preview is not None else self.kind_combo.currentData()
        self.validate_button.setEnabled(False)
        self.reader.submit(_read_preview, path, choice, mapping,
                           on_done=lambda result: self._previewed(seq, result),
                           on_error=lambda exc: self._preview_failed(seq, exc))

    def _previewed(self, seq: int, result: tuple[str, bool, Preview, int]) -> None:
        if seq != self._preview_wanted:
            return  # the operator changed the mapping again meanwhile
        kind, recognised, found, size = result
        first = self.preview is None
        self.preview = found
        if first:
            self.kind, self.recognised = kind, recognised
            self._show_kind()
            self.detected = dict(found.columns)
            for name, headers in found.clashes.items():
                self.detected.update(dict.fromkeys(headers, name))
            self._fill_table(found, size)
            self.show_step(STEP_PREVIEW)
            self.say("")
        self._apply_mapping(found)

    def _preview_failed(self, seq: int, exc: Exception) -> None:
        if seq != self._preview_wanted:
            return
        if self.preview is None:  # the file itself cannot be read
            self.show_step(STEP_CHOOSE)
            name = self.path.name if self.path else ""
            self.say(_("{file} cannot be imported: {reason}").format(
                file=name, reason=error_text(exc)), error=True)
            return
        self.problems.setText(error_text(exc))  # a mapping the engine refuses
        self.validate_button.setEnabled(False)

    # ---------------------------------------------------------------- step 2: preview
    def _fill_table(self, found: Preview, size: int) -> None:
        assert self.path is not None
        name = html.escape(self.path.name)
        self.file_label.setText(f"<b>{name}</b>&nbsp;&nbsp;({size_label(size)})")
        self.format_label.setText(_("Encoding: {encoding}   Delimiter: {delimiter}   "
                                    "Header on line {line}").format(
            encoding=encoding_label(found.encoding),
            delimiter=delimiter_label(found.delimiter), line=found.header_line))
        shown = found.header[:MAX_COLUMNS]
        if len(shown) < len(found.header):
            self.format_label.setText(self.format_label.text() + "   " + _(
                "Only the first {count} of {total} columns are shown.").format(
                count=len(shown), total=len(found.header)))
        table = self.table
        table.clear()
        table.setColumnCount(len(shown))
        table.setRowCount(1 + len(found.rows))
        table.setHorizontalHeaderLabels(shown)
        table.setVerticalHeaderLabels(
            [_("Field")] + [str(line) for line, _cells in found.rows])
        self.combos = []
        for column, header in enumerate(shown):
            combo = self._field_combo()
            combo.setObjectName(f"import_map_{column}")
            combo.setToolTip(_("Field for the column {column}").format(column=header))
            combo.currentIndexChanged.connect(
                lambda _index, header=header, combo=combo: self._mapping_changed(header, combo))
            table.setCellWidget(0, column, combo)
            table.setColumnWidth(column, COLUMN_WIDTH)
            self.combos.append(combo)
        for row, (_line, cells) in enumerate(found.rows, start=1):
            for column in range(len(shown)):
                text = cells[column][:MAX_CELL_TEXT] if column < len(cells) else ""
                item = QTableWidgetItem(" ".join(text.split()) if "\n" in text else text)
                if "\n" in text or len(text) > 20:
                    item.setToolTip(text)
                table.setItem(row, column, item)
        table.setRowHeight(0, 32)

    def _show_kind(self) -> None:
        """The kind of the file and its programme, beside the list: recognised from the
        header, chosen, or not recognised (then read as an incident list)."""
        # The kind's label names its programme: 終了時残高（残高払戻し）.
        if self.kind_combo.currentData() != AUTO:
            text = kind_label(self.kind)
        elif self.recognised:
            text = _("Recognised from the header: {kind}").format(kind=kind_label(self.kind))
        else:
            text = _("The header fits no single kind: read as an incident list. Choose "
                     "the kind of file if it is another.")
        self.kind_badge.setText(text)
        colour = "#1b5e20" if self.kind in REFUND_KINDS else "#0d47a1"
        self.kind_badge.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def _field_combo(self) -> QComboBox:
        names, required = kind_fields(self.kind)
        combo = QComboBox()
        combo.addItem(_("(not recognised)"), UNMAPPED)
        combo.addItem(_("Ignore this column"), IGNORE)
        for name in names:
            text = field_label(name)
            if name in required:
                text = _("{field} (required)").format(field=text)
            combo.addItem(text, name)
        combo.setMaxVisibleItems(len(names) + 2)
        return combo

    def _column_field(self, found: Preview, header: str) -> str:
        if header in found.columns:
            return found.columns[header]
        for name, headers in found.clashes.items():
            if header in headers:
                return name
        return IGNORE if self.overrides.get(header) == IGNORE else UNMAPPED

    def _apply_mapping(self, found: Preview) -> None:
        """Show the mapping the engine will use: combos, greyed columns, problems."""
        grey = QBrush(QColor("#a0a0a0"))
        for column, header in enumerate(found.header[:len(self.combos)]):
            name = self._column_field(found, header)
            combo = self.combos[column]
            combo.blockSignals(True)
            combo.setCurrentIndex(max(0, combo.findData(name)))
            combo.blockSignals(False)
            used = name not in (UNMAPPED, IGNORE)
            for row in range(1, self.table.rowCount()):
                item = self.table.item(row, column)
                if item is not None:
                    item.setForeground(QBrush() if used else grey)
        unknown = [h for h in found.unknown_columns if self.overrides.get(h) != IGNORE]
        ignored = [h for h, name in self.overrides.items() if name == IGNORE]
        lines = []
        if unknown:
            lines.append(_("Columns not recognised (not imported, listed in the summary): "
                           "{columns}").format(columns="、".join(unknown)))
        if ignored:
            lines.append(_("Columns ignored: {columns}").format(columns="、".join(ignored)))
        self.unknown_label.setText("\n".join(lines))
        self.unknown_label.setVisible(bool(lines))
        self.problems.setText("\n".join(self._problems(found)))
        self.validate_button.setEnabled(found.usable and not self.running)

    @staticmethod
    def _problems(found: Preview) -> list[str]:
        problems = []
        if found.missing:
            problems.append(_("Required columns missing: {fields}. Choose the column that "
                              "holds each in the first row above, or add it to the file and "
                              "open the file again.").format(
                fields="、".join(field_label(name) for name in found.missing)))
        if found.missing_contact:
            problems.append(_("No column holds a phone number or an e-mail address, so no row "
                              "could be accepted. Choose one for a column, or add one to the "
                              "file."))
        for name, headers in found.clashes.items():
            problems.append(_("Several columns hold {field}: {columns}. Set the ones not to "
                              "use to 'Ignore this column'.").format(
                field=field_label(name), columns="、".join(headers)))
        return problems

    def _mapping_changed(self, header: str, combo: QComboBox) -> None:
        chosen = combo.currentData()
        if chosen == self.detected.get(header, UNMAPPED):
            self.overrides.pop(header, None)
        else:
            # The engine has no "unrecognised" choice: dropping a column is IGNORE.
            self.overrides[header] = chosen or IGNORE
        self.summary = None  # a validation no longer matches the mapping
        self._request_preview()

    def set_mapping(self, header: str, name: str) -> None:
        """Choose the field of a column, as the operator does with its list."""
        assert self.preview is not None
        combo = self.combos[self.preview.header.index(header)]
        combo.setCurrentIndex(combo.findData(name))

    # ---------------------------------------------------------------- step 3 and 4: runs
    @Slot()
    def validate(self) -> None:
        if self.preview is None or not self.preview.usable or self.running:
            return
        self._start(dry_run=True)

    @Slot()
    def run_import(self) -> None:
        if self.summary is None or not self.summary.dry_run or self.running:
            return
        self._start(dry_run=False)

    def _start(self, *, dry_run: bool) -> None:
        assert self.path is not None and self.preview is not None
        spool = Path(self._spool_folder()) / f"refused-{next(self._spool_seq)}.csv"
        self._set_running(True, _("Validating…") if dry_run else _("Importing…"))
        self.show_step(self.stack.currentIndex(), indicator=2 if dry_run else 3)
        self.say("")
        mapping, header = dict(self.overrides) or None, list(self.preview.header)
        source, refused = FileIn(str(self.path)), FileOut(str(spool))
        if self.kind == INCIDENTS:
            self.desk.act(
                import_spooling_refused, source, mapping=mapping, dry_run=dry_run,
                spool=refused, header=header, task=self.task,
                on_done=lambda summary: self._run_done(summary, spool),
                on_error=lambda exc: self._run_failed(exc, dry_run, spool))
        else:
            self.desk.act(
                import_refunds_spooling_refused, source, kind=self.kind, mapping=mapping,
                dry_run=dry_run, spool=refused, header=header, task=self.task,
                on_done=lambda summary: self._run_done(summary, spool),
                on_error=lambda exc: self._run_failed(exc, dry_run, spool))

    def _set_running(self, running: bool, status: str = "") -> None:
        self.running = running
        self.stack.setEnabled(not running)
        self.kind_combo.setEnabled(not running)
        self.progress_box.setVisible(running)
        self.cancel_button.setEnabled(running)
        self.bar.setValue(0)
        self.status.setText(status)
        self._status_prefix = status
        if self.preview is not None:
            self.validate_button.setEnabled(self.preview.usable and not running)

    @Slot(int, int)
    def _show_progress(self, done: int, total: int) -> None:
        if not self.running:
            return
        self.bar.setValue(PROGRESS_STEPS * done // total)
        if not self.task.cancelled:  # keep "Cancelling…" on screen
            self.status.setText(_("{status} {done} of {total}").format(
                status=self._status_prefix, done=size_label(done), total=size_label(total)))

    @Slot()
    def cancel(self) -> None:
        if self.running:
            self.task.cancel()
            self.cancel_button.setEnabled(False)
            self.status.setText(_("Cancelling…"))

    def _run_done(self, summary: ImportSummary | RefundImportSummary, spool: Path) -> None:
        self._set_running(False)
        self._use_spool(spool)
        self.summary = summary
        self._show_summary(summary)
        if summary.dry_run:
            self.say("")
        else:
            self.say(_(DONE_TEXT[self.kind]).format(count=f"{summary.accepted:,}"), done=True)
        self.finished.emit()

    def _run_failed(self, exc: Exception, dry_run: bool, spool: Path) -> None:
        self._set_running(False)
        spool.unlink(missing_ok=True)
        self.show_step(self.stack.currentIndex(), indicator=1 if dry_run else 2)
        if isinstance(exc, ImportCancelled):
            text = (_("Validation cancelled. Nothing was written.") if dry_run
                    else error_text(exc))
        else:
            if not hasattr(exc, "ja"):
                log.error("import failed: %r", exc)
            text = error_text(exc)
        self.say(text, error=True)
        self.finished.emit()

    def _show_summary(self, summary: ImportSummary | RefundImportSummary) -> None:
        final = not summary.dry_run
        if final:
            self.result_heading.setText("<h3>{}</h3>{}".format(
                _("Import finished"),
                _("{file} is imported. The figures below are what was stored.").format(
                    file=html.escape(summary.file_name))))
        else:
            self.result_heading.setText("<h3>{}</h3>{}".format(
                _("Validation result"),
                _("Nothing has been written yet. This is what importing {file} would "
                  "do.").format(file=html.escape(summary.file_name))))
        incidents = isinstance(summary, ImportSummary)
        for key, label in self.counts.items():
            shown = incidents or key not in ("victims_created", "cases_created")
            self.counts_form.setRowVisible(label, shown)
            label.setText(f"{getattr(summary, key):,}" if shown else "")
        self.counts_form.labelForField(self.counts["conflict"]).setText(
            _(CONFLICT_LABELS[self.kind]))
        self.amounts_box.setVisible(incidents)
        self.refund_box.setVisible(not incidents)
        if incidents:
            amounts = summary.amount_accepted_by_channel
            for channel in Channel:
                self.amounts[channel.value].setText(format_yen(amounts.get(channel.value, 0)))
            self.amounts["total"].setText(f"<b>{format_yen(sum(amounts.values()))}</b>")
        else:
            self._show_refund_figures(summary)
        self._fill_refused(summary)
        refused = summary.conflict + summary.rejected
        self.back_button.setVisible(not final)
        self.import_button.setVisible(not final)
        self.import_button.setText(_("Import {count} rows").format(
            count=f"{summary.accepted:,}"))
        self.import_button.setEnabled(summary.accepted > 0)
        self.again_button.setVisible(final)
        self.save_button.setEnabled(refused > 0 and self._refused_file is not None)
        self.show_step(STEP_RESULT, indicator=3 if final else 2)

    def _show_refund_figures(self, summary: RefundImportSummary) -> None:
        """Balances: the yen taken. Applications: how many stand in each state of the
        spec's table after the import (a dry run: after it, were it written)."""
        balances = summary.states is None
        self.refund_box.setTitle(_("Accepted balances") if balances else
                                 _("Applications in each state after the import"))
        self.refund_form.setRowVisible(self.balance_total, balances)
        self.balance_total.setText(format_yen(summary.balance_accepted) if balances else "")
        for state, label in self.states.items():
            self.refund_form.setRowVisible(label, not balances)
            label.setText("" if balances else f"{(summary.states or {}).get(state, 0):,}")

    def _fill_refused(self, summary: ImportSummary | RefundImportSummary) -> None:
        refused = summary.conflict + summary.rejected
        rows = summary.refused
        if not refused:
            text = _("No row was refused.")
        elif len(rows) < refused:
            text = _("Refused rows: {count}. The first {shown} are listed; save the refused "
                     "rows to see them all.").format(count=f"{refused:,}", shown=f"{len(rows):,}")
        else:
            text = _("Refused rows: {count}").format(count=f"{refused:,}")
        self.refused_label.setText(text)
        table = self.refused
        table.setRowCount(len(rows))
        for index, row in enumerate(rows):
            shown = [one_language(ja, en, both)
                     for ja, en, both in zip(row.ja, row.en, row.reasons, strict=True)]
            reasons = " | ".join(shown)
            items = (QTableWidgetItem(str(row.line)),
                     QTableWidgetItem(_(_OUTCOMES.get(row.outcome, row.outcome))),
                     QTableWidgetItem(reasons))
            items[0].setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            items[2].setToolTip("\n".join(shown) + "\n\n" + ", ".join(row.cells))
            for column, item in enumerate(items):
                table.setItem(index, column, item)
        table.setVisible(bool(rows))

    @Slot()
    def restart(self) -> None:
        self.path, self.preview, self.summary = None, None, None
        self._drop_spool()
        self.say("")
        self.show_step(STEP_CHOOSE)

    # ---------------------------------------------------------------- refused rows
    @Slot()
    def save_refused(self) -> None:
        if self._refused_file is None or self.summary is None or self.path is None:
            return
        suggested = str(self.path.with_name(
            _("{name}_refused.csv").format(name=self.path.stem)))
        target = self.desk.prompter.save_file(self, _("Save refused rows"), suggested,
                                              _("CSV files (*.csv)"))
        if not target:
            return
        refused = self.summary.conflict + self.summary.rejected
        # Names and phones of the operator's own file: open to them, but recorded.
        self.desk.act(
            save_refused_rows, FileIn(str(self._refused_file)), FileOut(target), rows=refused,
            source=self.path.name, batch_id=self.summary.batch_id,
            on_done=lambda _result: self.say(_("{count} refused rows saved to {path}").format(
                count=f"{refused:,}", path=target), done=True),
            on_error=lambda exc: self.say(error_text(exc), error=True))

    def _spool_folder(self) -> str:
        if self._spool_dir is None:
            # Refused rows hold personal data: a private folder, removed on close.
            self._spool_dir = tempfile.mkdtemp(prefix="hosho-import-")
        return self._spool_dir

    def _use_spool(self, spool: Path) -> None:
        if self._refused_file is not None and self._refused_file != spool:
            self._refused_file.unlink(missing_ok=True)
        self._refused_file = spool

    def _drop_spool(self) -> None:
        if self._refused_file is not None:
            self._refused_file.unlink(missing_ok=True)
        self._refused_file = None

    # ---------------------------------------------------------------- closing
    def shutdown(self) -> None:
        """Cancel a running import (it rolls back) and wait for the worker."""
        self.task.shutdown()
        self.reader.shutdown()
        if self._spool_dir is not None:
            shutil.rmtree(self._spool_dir, ignore_errors=True)
            self._spool_dir, self._refused_file = None, None

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        super().closeEvent(event)
