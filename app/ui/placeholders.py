"""Areas that later work fills: each says what it will hold, not an empty frame."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.core.i18n import _


class PlannedArea(QWidget):
    def __init__(self, title: str, points: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        heading = QLabel(f"<h2>{title}</h2>")
        body = QLabel("<p>" + _("This area will hold:") + "</p><ul>"
                      + "".join(f"<li>{p}</li>" for p in points) + "</ul>")
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addWidget(body)
        layout.addStretch(1)
