"""Questions to the operator behind one seam.

Modal dialogs would block a test forever, so every confirmation, reason, message,
file to open or save, folder and print dialog goes through a Prompter; tests install
a scripted one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QInputDialog, QLineEdit, QMessageBox, QWidget

from app.core.i18n import _


class Prompter:
    def confirm(self, parent: QWidget | None, title: str, text: str) -> bool:
        answer = QMessageBox.question(parent, title, text,
                                      QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def ask_text(self, parent: QWidget | None, title: str, label: str) -> str | None:
        text, ok = QInputDialog.getMultiLineText(parent, title, label)
        return text.strip() if ok and text.strip() else None

    def ask_amount(self, parent: QWidget | None, title: str, label: str,
                   suggested: int) -> int | None:
        text, ok = QInputDialog.getText(parent, title, label, QLineEdit.EchoMode.Normal,
                                        f"{suggested}")
        if not ok:
            return None
        from app.ui.forms import parse_yen

        return parse_yen(text)

    def ask_code(self, parent: QWidget | None, title: str, label: str) -> str | None:
        """A one-time code (authenticator or recovery code), typed in the clear."""
        dialog = code_dialog(parent, title, label)
        if dialog.exec() != QInputDialog.DialogCode.Accepted:
            return None
        return dialog.textValue().strip() or None

    def choose_batch(self, parent: QWidget | None, preview, earliest):
        """The refund batch's preview: the chosen transfer date, or None to cancel."""
        from app.ui.batch_preview import choose_transfer_date

        return choose_transfer_date(parent, preview, earliest)

    def info(self, parent: QWidget | None, title: str, text: str) -> None:
        QMessageBox.information(parent, title, text)

    def open_file(self, parent: QWidget | None, caption: str, pattern: str,
                  folder: str = "") -> str | None:
        """A file to read, or None: ``pattern`` as Qt writes it ("CSV files (*.csv)")."""
        path, _chosen = QFileDialog.getOpenFileName(parent, caption, folder, pattern)
        return path or None

    def save_file(self, parent: QWidget | None, caption: str, suggested: str,
                  pattern: str) -> str | None:
        """Where to write a file, or None."""
        path, _chosen = QFileDialog.getSaveFileName(parent, caption, suggested, pattern)
        return path or None

    def choose_folder(self, parent: QWidget | None, caption: str, current: str) -> str | None:
        return QFileDialog.getExistingDirectory(parent, caption, current) or None

    def print_setup(self, parent: QWidget | None, printer) -> bool:
        """The system print dialog: True to print on ``printer`` as set up."""
        from PySide6.QtPrintSupport import QPrintDialog

        return QPrintDialog(printer, parent).exec() == QPrintDialog.DialogCode.Accepted

    def error(self, parent: QWidget | None, text: str) -> None:
        QMessageBox.warning(parent, _("Hosho Desk"), text)


def code_dialog(parent: QWidget | None, title: str, label: str) -> QInputDialog:
    dialog = QInputDialog(parent)
    dialog.setObjectName("codeDialog")
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextEchoMode(QLineEdit.EchoMode.Normal)
    dialog.setOkButtonText(_("OK"))
    dialog.setCancelButtonText(_("Cancel"))
    return dialog


class ScriptedPrompter(Prompter):
    """For tests: answers from a queue, and remembers what was asked."""

    def __init__(self, answers: list | None = None, files: list | None = None) -> None:
        self.answers = list(answers or [])
        self.asked: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.infos: list[str] = []
        # File dialogs answer from their own queue (paths, or None for "cancelled"), so
        # a test scripts its questions and its files apart; each ask is remembered as
        # (kind, caption, suggested name or pattern).
        self.files = list(files or [])
        self.file_asks: list[tuple[str, str, str]] = []
        self.printers: list = []
        self.print_answer = False  # the operator closes the print dialog

    def _file(self, kind: str, caption: str, hint: str):
        self.file_asks.append((kind, caption, hint))
        if not self.files:
            raise AssertionError(f"unexpected {kind} dialog: {caption}")
        answer = self.files.pop(0)
        return None if answer is None else str(answer)

    def _next(self, kind: str, text: str):
        self.asked.append((kind, text))
        if not self.answers:
            raise AssertionError(f"unexpected {kind} prompt: {text}")
        return self.answers.pop(0)

    def confirm(self, parent, title, text) -> bool:
        return bool(self._next("confirm", text))

    def ask_text(self, parent, title, label):
        return self._next("text", label)

    def ask_amount(self, parent, title, label, suggested):
        return self._next("amount", label)

    def ask_code(self, parent, title, label):
        return self._next("code", label)

    def choose_batch(self, parent, preview, earliest):
        """True takes the date the preview proposes; a date picks that day."""
        answer = self._next("batch", f"{preview.count} {preview.total_amount}")
        return preview.transfer_date if answer is True else answer or None

    def info(self, parent, title, text) -> None:
        self.infos.append(text)

    def open_file(self, parent, caption, pattern, folder=""):
        return self._file("open", caption, pattern)

    def save_file(self, parent, caption, suggested, pattern):
        return self._file("save", caption, suggested)

    def choose_folder(self, parent, caption, current):
        return self._file("folder", caption, current)

    def print_setup(self, parent, printer) -> bool:
        self.printers.append(printer)
        return self.print_answer

    def error(self, parent, text) -> None:
        self.errors.append(text)
