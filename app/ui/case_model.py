"""The case list as a Qt model backed by paged SQL queries.

The model holds only the pages fetched so far. Rows load as the view scrolls
(canFetchMore/fetchMore), each page after the key of the last row held (never an
OFFSET, which drifts when another desk writes); a new query discards late answers
to the old one.

A change made elsewhere (``update``) re-reads the rows held and applies the
difference in place: changed rows repaint, rows gone are removed, new rows are
inserted, moved rows move, so the view keeps its selection, current row and scroll
position (and Ctrl+J goes on from the current row).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from app.core.clock import to_jst
from app.core.i18n import N_, _, error_text, format_day, format_yen
from app.domain.deadlines import DeadlineFlag
from app.services.case_search import CaseQuery, CaseRow, list_cases
from app.ui.desk import Desk
from app.ui.labels import channel_label, status_label

PAGE = 200
# (header, sort key or None, value)
COLUMNS = (
    # What an operator reads first, amounts included, fits the list at the default
    # window size; the rest is a scroll away.
    (N_("Case no."), "case_number", lambda r: r.case_number),
    (N_("Name"), "name", lambda r: r.name),
    (N_("Status"), "status", lambda r: status_label(r.status)),
    (N_("Claimed amount"), "claimed_amount", lambda r: format_yen(r.claimed_amount)),
    (N_("Verified amount"), None, lambda r: format_yen(r.verified_amount)),
    (N_("Paid amount"), None, lambda r: format_yen(r.paid_amount)),
    (N_("Deadline"), None, lambda r: deadline_label(r.deadline)),
    (N_("Channel"), "channel", lambda r: channel_label(r.channel)),
    (N_("Kana"), None, lambda r: r.name_kana or ""),
    (N_("Phone"), None, lambda r: r.phone_masked),
    (N_("Account"), None, lambda r: r.account_masked),
    (N_("Billing date"), None, lambda r: format_day(r.billing_confirmation_date)),
    (N_("Updated"), "updated_at", lambda r: to_jst(r.updated_at).strftime("%m/%d %H:%M")),
)
_RIGHT = {3, 4, 5}
DEADLINE_COLUMN = 6
# Overdue in red, due in amber: the operator must see them without reading.
_DEADLINE_COLOURS = {DeadlineFlag.OVERDUE: QColor("#fde2e1"), DeadlineFlag.DUE: QColor("#fff1cc")}


def deadline_label(flag: DeadlineFlag) -> str:
    return {DeadlineFlag.NONE: "", DeadlineFlag.DUE: _("Due"),
            DeadlineFlag.OVERDUE: _("Overdue")}[flag]
Index = QModelIndex | QPersistentModelIndex


class CaseListModel(QAbstractTableModel):
    loaded = Signal()  # a page arrived (tests and the status bar listen)
    failed = Signal(str)

    def __init__(self, desk: Desk, parent=None) -> None:
        super().__init__(parent)
        self.desk = desk
        self.query = CaseQuery()
        self.rows: list[CaseRow] = []
        self.generation = 0
        self.loading = False
        self.exhausted = False

    # -- Qt model interface ----------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[index.column()][2](row)
        if role == Qt.ItemDataRole.UserRole:
            return row.id
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in _RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole and row.deadline in _DEADLINE_COLOURS:
            return QBrush(_DEADLINE_COLOURS[row.deadline])
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return _(COLUMNS[section][0])
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self.exhausted and not self.loading

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if self.canFetchMore(parent):
            self._load(self.rows[-1].key if self.rows else None)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        key = COLUMNS[column][1]
        if key is None:
            return
        self.set_query(replace(self.query, sort=key,
                               descending=order == Qt.SortOrder.DescendingOrder))

    # -- loading -----------------------------------------------------------
    def set_query(self, query: CaseQuery) -> None:
        self.query = query
        self.refresh()

    def refresh(self) -> None:
        self.generation += 1
        self.beginResetModel()
        self.rows = []
        self.exhausted = False
        self.loading = False
        self.endResetModel()
        self._load(None)

    def update(self) -> None:
        """Re-read the rows held (at least a page) after a change made elsewhere."""
        self.generation += 1  # a page on its way would land on rows about to change
        self.loading = True
        generation, wanted = self.generation, max(len(self.rows), PAGE)
        self.desk.call(list_cases, self.query, wanted,
                       on_done=lambda rows: self._reread(generation, rows, wanted),
                       on_error=lambda exc: self._failed(generation, exc))

    def _load(self, after) -> None:
        self.loading = True
        generation = self.generation
        self.desk.call(list_cases, self.query, PAGE, after,
                       on_done=lambda rows: self._arrived(generation, rows),
                       on_error=lambda exc: self._failed(generation, exc))

    def _reread(self, generation: int, rows: list[CaseRow], wanted: int) -> None:
        if generation != self.generation:
            return
        self.loading = False
        self.exhausted = len(rows) < wanted
        self._merge(rows)
        self.loaded.emit()

    def _merge(self, new: list[CaseRow]) -> None:
        """Turn the rows held into ``new`` by removals, one move and insertions."""
        kept = {row.id for row in new}
        for index in range(len(self.rows) - 1, -1, -1):
            if self.rows[index].id not in kept:
                self.beginRemoveRows(QModelIndex(), index, index)
                del self.rows[index]
                self.endRemoveRows()
        held = {row.id for row in self.rows}
        survivors = [row for row in new if row.id in held]
        if [r.id for r in survivors] != [r.id for r in self.rows]:
            self._reorder(survivors)
        else:
            for index, row in enumerate(survivors):
                if row != self.rows[index]:
                    self.rows[index] = row
                    self.dataChanged.emit(self.index(index, 0),
                                          self.index(index, len(COLUMNS) - 1))
        for index, row in enumerate(new):
            if row.id not in held:
                self.beginInsertRows(QModelIndex(), index, index)
                self.rows.insert(index, row)
                self.endInsertRows()

    def _reorder(self, survivors: list[CaseRow]) -> None:
        """Same rows, new order: persistent indexes (selection, current) follow their case."""
        self.layoutAboutToBeChanged.emit()
        place = {row.id: index for index, row in enumerate(survivors)}
        for old in self.persistentIndexList():
            row = place[self.rows[old.row()].id]
            self.changePersistentIndex(old, self.index(row, old.column()))
        self.rows = survivors
        self.layoutChanged.emit()

    def _arrived(self, generation: int, rows: list[CaseRow]) -> None:
        if generation != self.generation:
            return  # an answer to a query the operator has already changed
        self.loading = False
        self.exhausted = len(rows) < PAGE
        if rows:
            first = len(self.rows)
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self.rows.extend(rows)
            self.endInsertRows()
        self.loaded.emit()

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation == self.generation:
            self.loading = False
            self.exhausted = True
            self.failed.emit(error_text(exc))

    def case_id(self, row: int) -> int | None:
        return self.rows[row].id if 0 <= row < len(self.rows) else None
