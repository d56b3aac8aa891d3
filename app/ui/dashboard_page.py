"""The dashboard area of the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.i18n import _
from app.ui.desk import Desk
from app.ui.placeholders import PlannedArea


class DashboardPage(QWidget):
    title = "Dashboard"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.addWidget(PlannedArea(_("Dashboard"), [
            _("Victims, cases and yen by channel and state, beside the programme's public "
              "figures"),
            _("Cases and yen paid per day; outreach progress; deadlines"),
        ]))
