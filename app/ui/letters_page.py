"""The letters area of the main window."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.core.i18n import _
from app.ui.desk import Desk
from app.ui.placeholders import PlannedArea


class LettersPage(QWidget):
    title = "Letters"

    def __init__(self, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.desk = desk
        layout = QVBoxLayout(self)
        layout.addWidget(PlannedArea(_("Letters"), [
            _("Guidance with claim form, deficiency notice, payment notice"),
            _("Batches in one PDF or one file per case, with preview and printing"),
        ]))
