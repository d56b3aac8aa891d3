"""The audit log area of the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.i18n import _
from app.ui.desk import Desk
from app.ui.placeholders import PlannedArea


class AuditPage(QWidget):
    title = "Audit log"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.addWidget(PlannedArea(_("Audit log"), [
            _("Every move, edit, import, letter and export: who, when, what changed"),
            _("Filter by case, operator, action and date; export for an auditor"),
        ]))
