"""The read-only tables of every page, built and filled one way."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app.core.i18n import _

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter


def make_table(name: str, headers: Sequence[str], widths: Sequence[int] = (), *,
               rows: bool = True, single: bool = True, stretch_last: bool = True, wrap: bool = True,
               fit: bool = False, row_height: int | None = None,
               row_labels: bool = False, parent: QWidget | None = None) -> QTableWidget:
    """A table the operator reads and picks rows from, never edits.

    ``headers`` are untranslated (N_) texts; ``rows``: whole rows are selected (one at
    a time if ``single``); ``fit``: columns sized to their contents; ``row_labels``: the
    vertical header shows (a table of figures by label)."""
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels([_(h) for h in headers])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    if rows:
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        if single:
            table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(row_labels)
    if row_height:
        table.verticalHeader().setDefaultSectionSize(row_height)
    table.setWordWrap(wrap)
    for column, width in enumerate(widths):
        table.setColumnWidth(column, width)
    if fit:
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(stretch_last)
    return table


def fill_table(table: QTableWidget, rows: Iterable[Sequence[object]],
               right: Iterable[int] = (), *, data: Sequence[object] | None = None,
               tooltips: bool = False) -> None:
    """Replace the table's rows; ``right``: the columns of figures, right-aligned;
    ``data``: a value per row kept on each cell (UserRole), such as a case id."""
    rows, right = list(rows), set(right)
    table.setRowCount(len(rows))
    for r, values in enumerate(rows):
        for c, value in enumerate(values):
            text = "" if value is None else str(value)
            item = QTableWidgetItem(text)
            if c in right:
                item.setTextAlignment(RIGHT)
            if data is not None:
                item.setData(Qt.ItemDataRole.UserRole, data[r])
            if tooltips and text:
                item.setToolTip(text)
            table.setItem(r, c, item)


def selected_row(table: QTableWidget) -> int | None:
    rows = table.selectionModel().selectedRows() if table.selectionModel() else []
    return rows[0].row() if rows else None
