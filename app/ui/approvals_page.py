"""The approvals area of the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.i18n import _
from app.ui.desk import Desk
from app.ui.placeholders import PlannedArea


class ApprovalsPage(QWidget):
    title = "Approvals"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.addWidget(PlannedArea(_("Approvals"), [
            _("Verified cases waiting for a supervisor who did not verify them"),
            _("Refund batches waiting for release by a second supervisor"),
        ]))
