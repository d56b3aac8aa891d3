"""The outreach queue area of the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.i18n import _
from app.ui.desk import Desk
from app.ui.placeholders import PlannedArea


class QueuePage(QWidget):
    title = "Outreach queue"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.addWidget(PlannedArea(_("Outreach queue"), [
            _("From 19 August: nanaco and unauthorised-use cases first, in the order their "
              "contact details arrived"),
            _("'Next' hands you one case and holds it so that no two desks call the same "
              "person"),
            _("Call-backs at the agreed time; after three failed attempts, a guidance letter"),
        ]))
