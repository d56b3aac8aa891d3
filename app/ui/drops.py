"""One way to take a file dropped on the window or on a page."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QMimeData, QObject
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QWidget

INCIDENT_SUFFIXES = (".csv", ".tsv", ".txt")


def dropped_file(mime: QMimeData, suffixes: Sequence[str] = INCIDENT_SUFFIXES) -> str | None:
    """The first local file with one of ``suffixes`` among dropped URLs."""
    if not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(tuple(suffixes)):
            return url.toLocalFile()
    return None


class FileDrop(QObject):
    """Accepts a drop of one file on ``widget`` and hands its path to ``take``.

    ``ready()`` says whether a drop is welcome now (not while an import runs)."""

    def __init__(self, widget: QWidget, take: Callable[[str], None],
                 suffixes: Sequence[str] = INCIDENT_SUFFIXES,
                 ready: Callable[[], bool] = lambda: True) -> None:
        super().__init__(widget)
        self.take, self.suffixes, self.ready = take, tuple(suffixes), ready
        widget.setAcceptDrops(True)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove):
            if self.enter(event):
                return True
        elif event.type() == QEvent.Type.Drop:
            return self.drop(event)
        return False

    def enter(self, event: QDragEnterEvent) -> bool:
        if dropped_file(event.mimeData(), self.suffixes) and self.ready():
            event.acceptProposedAction()
            return True
        event.ignore()
        return False

    def drop(self, event: QDropEvent) -> bool:
        path = dropped_file(event.mimeData(), self.suffixes)
        if not path or not self.ready():
            return False
        event.acceptProposedAction()
        self.take(path)
        return True
