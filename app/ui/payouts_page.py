"""The payouts area of the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.i18n import _
from app.ui.desk import Desk
from app.ui.placeholders import PlannedArea


class PayoutsPage(QWidget):
    title = "Payouts"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.addWidget(PlannedArea(_("Payouts"), [
            _("Refund batches, transfer files, card-company and nanaco lists"),
            _("Reconciliation by channel and batch"),
        ]))
