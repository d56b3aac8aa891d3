"""The settings area of the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.i18n import _
from app.ui.desk import Desk
from app.ui.placeholders import PlannedArea


class SettingsPage(QWidget):
    title = "Settings"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.addWidget(PlannedArea(_("Settings"), [
            _("Outreach start date, attempts, hold time, reminder periods, programme "
              "figures"),
        ]))
