"""A PDF preview (QtPdf) that can also print what it shows."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRect, QSize
from PySide6.QtGui import QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.core.i18n import _

# Pages are rasterised for the printer at no more than this: 300 dpi prints text
# crisply, and a 1200 dpi A4 image would take over half a gigabyte.
PRINT_DPI = 300


class LetterPreview(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document = QPdfDocument(self)
        self.view = QPdfView(self)
        self.view.setObjectName("letter_preview_view")
        self.view.setDocument(self.document)
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.caption = QLabel(_("No letter to preview yet."), self)
        self.caption.setObjectName("letter_preview_caption")
        self.path: Path | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.caption)
        layout.addWidget(self.view, 1)

    def load(self, path: Path | str, page: int = 1) -> bool:
        """Show ``path`` from ``page`` (1-based); False when it cannot be read."""
        self.document.close()
        self.path = Path(path)
        error = self.document.load(str(path))
        if error != QPdfDocument.Error.None_ or self.document.pageCount() == 0:
            self.path = None
            self.caption.setText(_("The PDF cannot be shown: {path}").format(path=path))
            return False
        self.caption.setText(_("{name}: {pages} pages").format(
            name=self.path.name, pages=self.document.pageCount()))
        self.show_page(page)
        return True

    def show_page(self, page: int) -> None:
        if 1 <= page <= self.document.pageCount():
            self.view.pageNavigator().jump(page - 1, QPointF(), 0)

    def clear(self) -> None:
        self.document.close()
        self.path = None
        self.caption.setText(_("No letter to preview yet."))

    @property
    def page_count(self) -> int:
        return self.document.pageCount()

    def print_to(self, printer: QPrinter) -> int:
        """Draw every page on ``printer`` (the printer the dialog chose, or a PDF file
        in tests); returns the number of pages sent."""
        count = self.document.pageCount()
        if count == 0:
            return 0
        painter = QPainter()
        if not painter.begin(printer):
            return 0
        try:
            for index in range(count):
                if index:
                    printer.newPage()
                target = painter.viewport()
                points = self.document.pagePointSize(index)
                scale = min(PRINT_DPI, printer.resolution()) / 72.0
                image = self.document.render(
                    index, QSize(int(points.width() * scale), int(points.height() * scale)))
                painter.drawImage(QRect(0, 0, target.width(), target.height()), image)
        finally:
            painter.end()
        return count
