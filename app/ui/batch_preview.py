"""Before a refund batch is built: what it will hold, and on which day it pays.

The supervisor sees the cases, their count and total, any case a transfer file
cannot carry, and chooses the transfer date on a calendar that offers only bank
business days (weekends, public holidays and 31 Dec to 3 Jan are greyed and cannot
be chosen). Nothing is written until 「バッチを作成」.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, QLocale, Slot
from PySide6.QtGui import QColor, QTextCharFormat
from PySide6.QtWidgets import (
    QCalendarWidget,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import _, current_locale, format_day, format_yen
from app.domain.calendar import holiday_name, is_business_day, next_business_day
from app.services.payouts import BatchPreview

# How far ahead the calendar offers a transfer date (and greys closed days).
DAYS_AHEAD = 120


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def _pydate(day: QDate) -> date:
    return date(day.year(), day.month(), day.day())


class BatchPreviewDialog(QDialog):
    def __init__(self, preview: BatchPreview, earliest: date,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("batchPreview")
        self.setWindowTitle(_("Build a refund batch"))
        self.preview, self.earliest = preview, earliest
        self.chosen = max(preview.transfer_date, earliest)
        layout = QVBoxLayout(self)
        summary = QLabel(_("{count} transfers, {total} in all").format(
            count=f"{preview.count:,}", total=format_yen(preview.total_amount)))
        summary.setObjectName("previewSummary")
        summary.setStyleSheet("font-size: 15px; font-weight: bold;")
        layout.addWidget(summary)
        body = QHBoxLayout()
        body.addLayout(self._cases_column(), 1)
        body.addLayout(self._calendar_column(), 1)
        layout.addLayout(body)
        buttons = QDialogButtonBox()
        self.build_button = buttons.addButton(_("Build batch"),
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        self.build_button.setObjectName("confirmBuild")
        self.build_button.setEnabled(preview.count > 0)
        cancel = buttons.addButton(_("Cancel"), QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setObjectName("cancelBuild")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._show_chosen()

    def _cases_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.addWidget(QLabel(_("Cases in the batch (oldest approval first)")))
        self.cases = QListWidget()
        self.cases.setObjectName("previewCases")
        self.cases.addItems(list(self.preview.case_numbers))
        column.addWidget(self.cases, 1)
        if self.preview.refused:
            refused = QLabel(_("Left out (the transfer file cannot carry them):") + "\n"
                             + "\n".join(self.preview.refused))
            refused.setObjectName("previewRefused")
            refused.setWordWrap(True)
            refused.setStyleSheet("color: #b00020;")
            column.addWidget(refused)
        return column

    def _calendar_column(self) -> QVBoxLayout:
        column = QVBoxLayout()
        column.addWidget(QLabel(_("Transfer date (bank business days only)")))
        self.calendar = QCalendarWidget()
        self.calendar.setObjectName("transferCalendar")
        if current_locale() == "ja":  # month and weekday names as the interface speaks
            self.calendar.setLocale(QLocale(QLocale.Language.Japanese,
                                            QLocale.Country.Japan))
        self.calendar.setGridVisible(True)
        self.calendar.setMinimumDate(_qdate(self.earliest))
        self.calendar.setMaximumDate(_qdate(self.earliest + timedelta(days=DAYS_AHEAD)))
        self._grey_closed_days()
        self.calendar.setSelectedDate(_qdate(self.chosen))
        self.calendar.selectionChanged.connect(self._date_picked)
        column.addWidget(self.calendar)
        self.date_label = QLabel()
        self.date_label.setObjectName("transferDate")
        self.date_label.setWordWrap(True)
        column.addWidget(self.date_label)
        return column

    def _grey_closed_days(self) -> None:
        closed = QTextCharFormat()
        closed.setForeground(QColor("#a0a0a0"))
        closed.setBackground(QColor("#f0f0f0"))
        day = self.earliest.replace(day=1)  # the days before the earliest are closed too
        while day <= self.earliest + timedelta(days=DAYS_AHEAD):
            if day < self.earliest or not is_business_day(day):
                closed.setToolTip(holiday_name(day) or _("Bank holiday")
                                  if day >= self.earliest else "")
                self.calendar.setDateTextFormat(_qdate(day), closed)
            day += timedelta(days=1)

    @Slot()
    def _date_picked(self) -> None:
        picked = _pydate(self.calendar.selectedDate())
        if is_business_day(picked):
            self.chosen = picked
            self._show_chosen()
            return
        # A closed day cannot be chosen: back to the last business day chosen.
        self.calendar.blockSignals(True)
        self.calendar.setSelectedDate(_qdate(self.chosen))
        self.calendar.blockSignals(False)
        self._show_chosen(refused=picked)

    def _show_chosen(self, refused: date | None = None) -> None:
        text = _("Transfer on {day}").format(day=format_day(self.chosen))
        if refused is not None:
            why = holiday_name(refused) or _("not a bank business day")
            text += "\n" + _("{day} cannot be chosen: {why}").format(
                day=format_day(refused), why=why)
        self.date_label.setText(text)


def choose_transfer_date(parent: QWidget | None, preview: BatchPreview,
                         earliest: date) -> date | None:
    """Show the preview; the chosen business day, or None when cancelled."""
    dialog = BatchPreviewDialog(preview, earliest, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return next_business_day(dialog.chosen)

