"""The case list beside the case detail: search as you type, filters, sorting."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelection, Qt, QTimer, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import _, ngettext
from app.domain.channels import Channel
from app.domain.states import Status
from app.services import case_search
from app.services.case_search import CaseQuery
from app.ui.case_detail import CaseDetail
from app.ui.case_model import COLUMNS, CaseListModel
from app.ui.desk import Desk
from app.ui.labels import channel_label, status_label
from app.ui.person_dialog import COMPENSATION_COLOUR, programme_badge
from app.ui.refresh import follow_changes, touches_cases

SEARCH_DELAY_MS = 150
# Case no., name, status, three amounts, deadline, then what is a scroll away.
COLUMN_WIDTHS = (120, 100, 76, 0, 0, 0, 70, 150, 120, 100, 100, 100, 90)
AMOUNT_SAMPLE = "99,999,999円"  # the widest amount a case holds, in the list's font


class CasesPage(QWidget):
    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.model = CaseListModel(desk, self)
        self.search = QLineEdit()
        self.search.setObjectName("case_search")
        self.search.setPlaceholderText(
            _("Search: case number, name or kana, phone, member ID (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.channel = QComboBox()
        self.channel.addItem(_("All channels"), None)
        for channel in Channel:
            self.channel.addItem(channel_label(channel), channel.value)
        self.status = QComboBox()
        self.status.addItem(_("All states"), None)
        for status in Status:
            self.status.addItem(status_label(status), status.value)
        self.overdue = QCheckBox(_("Credit deadline due or overdue"))
        self.count_label = QLabel()
        # A misheard check digit: the existing numbers one digit away, as links.
        self.suggestion = QLabel()
        self.suggestion.setObjectName("number_suggestion")
        self.suggestion.setVisible(False)
        self.suggestion.setWordWrap(True)  # never widens the list against the detail
        self.suggestion.linkActivated.connect(self._take_suggestion)
        self._open_first = False
        self.table = self._make_table()
        self.detail = CaseDetail(desk)
        self._timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._timer.timeout.connect(self.apply_filters)
        self._wire()
        self._lay_out()
        self.model.loaded.connect(self._update_count)
        self.model.failed.connect(lambda text: self.desk.prompter.error(self, text))
        # This desk's detail, imports, batches and other pages change cases: the rows
        # held are re-read in place (selection, current row and scroll stay).
        follow_changes(self, desk, touches_cases, self.model.update)
        self.apply_filters()

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setObjectName("case_table")
        table.setModel(self.model)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.setSortingEnabled(True)
        table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(24)
        header = table.horizontalHeader()
        # Fixed widths: resize-to-contents would read every row of a huge list.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        # Amounts as wide as their widest value or header in the table's own font.
        metrics = table.fontMetrics()
        for column, width in enumerate(COLUMN_WIDTHS[: len(COLUMNS)]):
            if not width:
                header = _(COLUMNS[column][0])
                width = max(metrics.horizontalAdvance(AMOUNT_SAMPLE),
                            metrics.horizontalAdvance(header)) + 16
            table.setColumnWidth(column, width)
        return table

    def _wire(self) -> None:
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.returnPressed.connect(self.open_first)
        self.search.installEventFilter(self)
        self.channel.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.status.currentIndexChanged.connect(lambda _i: self.apply_filters())
        self.overdue.toggled.connect(lambda _c: self.apply_filters())
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self.table.doubleClicked.connect(lambda index: self.open_row(index.row()))

    def _lay_out(self) -> None:
        filters = QHBoxLayout()
        # The list is the compensation programme's (the balance refund has its own page).
        filters.addWidget(programme_badge(_("Compensation"), COMPENSATION_COLOUR,
                                          "cases_programme"))
        filters.addWidget(self.search, 3)
        filters.addWidget(self.channel, 1)
        filters.addWidget(self.status, 1)
        filters.addWidget(self.overdue)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addLayout(filters)
        left_layout.addWidget(self.suggestion)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count_label)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([820, 560])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    @Slot()
    def apply_filters(self) -> None:
        self._timer.stop()
        # Qt hands enum data back as plain strings: convert at the edge.
        channel, status = self.channel.currentData(), self.status.currentData()
        query = CaseQuery(text=self.search.text(), channel=Channel(channel) if channel else None,
                          status=Status(status) if status else None,
                          overdue_only=self.overdue.isChecked(), sort=self.model.query.sort,
                          descending=self.model.query.descending)
        self.model.set_query(query)

    def _update_count(self) -> None:
        shown = self.model.rowCount()
        more = "+" if not self.model.exhausted else ""
        self.count_label.setText(ngettext("{count} case shown", "{count} cases shown",
                                          shown).format(count=f"{shown:,}{more}"))
        if self._open_first and self.model.query.text == self.search.text():
            self._open_first = False
            self._select_first()
        self.suggestion.setVisible(False)
        if shown == 0 and self.search.text().strip():
            self.desk.call(case_search.numbers_near, self.search.text(),
                           on_done=self._show_suggestion)

    def _show_suggestion(self, numbers: list[str]) -> None:
        if not numbers or self.model.rowCount():
            return
        links = "　".join(f"<a href='{n}'>{n}</a>" for n in numbers)
        self.suggestion.setText(_("No case has this number (check digit). Did you mean: "
                                  "{numbers}").format(numbers=links))
        self.suggestion.setVisible(True)

    def _take_suggestion(self, number: str) -> None:
        self.search.setText(number)
        self.open_first()

    def open_first(self) -> None:
        """Enter or ↓ in the search box: open the first match (once it has arrived)."""
        if self._timer.isActive() or self.model.query.text != self.search.text():
            self._open_first = True
            self.apply_filters()
            return
        self._select_first()

    def _select_first(self) -> None:
        if self.model.rowCount():
            self.table.selectRow(0)
            self.table.setFocus()

    def eventFilter(self, watched, event) -> bool:
        if (watched is self.search and event.type() == QEvent.Type.KeyPress
                and event.key() == Qt.Key.Key_Down):
            self.open_first()
            return True
        return super().eventFilter(watched, event)

    def _selected(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        rows = selected.indexes()
        if rows:
            self.open_row(rows[0].row())

    def open_row(self, row: int) -> None:
        case_id = self.model.case_id(row)
        if case_id is not None:
            self.detail.load(case_id)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def next_case(self) -> None:
        """Open the case below the current one (the 'next case' shortcut)."""
        current = self.table.currentIndex().row()
        target = min(current + 1, self.model.rowCount() - 1)
        if target >= 0:
            self.table.selectRow(target)
