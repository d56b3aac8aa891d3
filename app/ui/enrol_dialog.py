"""Second-factor enrolment: a QR code for the authenticator app, a first code to
prove it works, then the recovery codes, shown this once, with the means to keep
them: copy (clipboard), print (the system's print dialog, or a PDF through it) and
save to a file readable by its owner only. Each keeping is audited through the
gateway (second_factor.record_recovery_codes_kept): the how, never the codes.

An administrator's reset of the authenticator shows no codes: the operator enrols
again at the next sign-in, here, and gets new codes with the same means."""

from __future__ import annotations

import os
from pathlib import Path

import qrcode
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QImage,
    QPainter,
    QPixmap,
    QTextDocument,
)
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.clock import to_jst
from app.core.files import PRIVATE_FILE, ensure_folder
from app.core.i18n import _, error_text
from app.domain.roles import Actor
from app.services import second_factor
from app.services.context import AppContext
from app.services.gateway import InProcessGateway
from app.services.second_factor import Enrolment
from app.ui.lane import ServiceLane
from app.ui.prompts import Prompter


def qr_pixmap(data: str, scale: int = 6) -> QPixmap:
    """The QR code's modules drawn one square each, with the quiet zone."""
    code = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix) * scale
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                painter.fillRect(x * scale, y * scale, scale, scale, QColor("black"))
    painter.end()
    return QPixmap.fromImage(image)


def grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def write_owner_only(path: str | Path, text: str) -> Path:
    """``text`` into ``path``, readable and writable by its owner only (0600) from the
    first byte; a file already there is replaced, its mode tightened."""
    target = Path(path)
    ensure_folder(target.parent)
    fd = os.open(target, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
        if os.name == "posix":
            os.fchmod(out.fileno(), PRIVATE_FILE)  # an existing file keeps no wider mode
        out.write(text)
    return target


class KeepCodes(QWidget):
    """Copy, Print…, Save…: the recovery codes shown once leave the screen only this way,
    each time recorded (``record(how)``, audited by the service)."""

    kept = Signal(str)  # "copied", "printed", "saved", once recorded

    def __init__(self, record, prompter: Prompter | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keep_codes")
        self.record = record  # record(how, on_done, on_error)
        self.prompter = prompter or Prompter()
        self.codes: list[str] = []
        self.login, self.when = "", ""
        self.note = QLabel()
        self.note.setObjectName("keep_note")
        self.note.setWordWrap(True)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        outer.addLayout(row)
        outer.addWidget(self.note)
        self.buttons: dict[str, QPushButton] = {}
        for how, text, slot in (("copied", _("Copy"), self.copy),
                                ("printed", _("Print…"), self.print_codes),
                                ("saved", _("Save to a file…"), self.save)):
            button = QPushButton(text, objectName=f"keep_{how}")
            button.setAutoDefault(False)  # Enter in the dialog is still its OK
            button.clicked.connect(slot)
            row.addWidget(button)
            self.buttons[how] = button
        row.addStretch(1)

    def set_codes(self, codes: list[str], login: str, when) -> None:
        self.codes, self.login = list(codes), login
        self.when = to_jst(when).strftime("%Y/%m/%d %H:%M")

    def text(self) -> str:
        lines = [_("Hosho Desk: recovery codes"),
                 _("Operator: {login}   Made: {when}").format(login=self.login,
                                                              when=self.when),
                 _("Each code signs you in once, in place of the authenticator's code. "
                   "Keep them where only you can reach them."), ""]
        return "\n".join(lines + self.codes) + "\n"

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self._record("copied", _("Copied. Paste them somewhere safe, then clear the "
                                 "clipboard."))

    def print_codes(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        printer.setDocName(_("Hosho Desk: recovery codes"))
        if not self.prompter.print_setup(self, printer):
            return
        self.document().print_(printer)
        self._record("printed", _("Sent to the printer."))

    def document(self) -> QTextDocument:
        document = QTextDocument()
        font = QFont(QGuiApplication.font())  # the bundled Japanese font (app.ui.fonts)
        font.setPointSize(12)
        document.setDefaultFont(font)
        head, who, note, _blank, *codes = self.text().rstrip("\n").split("\n")
        rows = "".join(f"<p style='font-family: monospace; font-size: 16pt; margin: 6px 0'>"
                       f"{code}</p>" for code in codes)
        document.setHtml(f"<h2>{head}</h2><p>{who}</p><p>{note}</p>{rows}")
        return document

    def save(self) -> None:
        suggested = str(Path.home() / f"hosho-recovery-codes-{self.login}.txt")
        target = self.prompter.save_file(self, _("Save the recovery codes"), suggested,
                                         _("Text files (*.txt)"))
        if not target:
            return
        try:
            write_owner_only(target, self.text())
        except OSError as exc:
            self.note.setText(_("Could not save: {error}").format(error=exc.strerror))
            return
        self._record("saved", _("Saved to {path} (readable by you only).").format(
            path=target))

    def _record(self, how: str, said: str) -> None:
        self.note.setText(said)
        self.record(how, lambda _value: self.kept.emit(how),
                    lambda exc: self.note.setText(error_text(exc)))


class EnrolPanel(QWidget):
    """Three steps in one panel; ``finished`` once the recovery codes are shown
    and the operator has said so."""

    enrolled = Signal(list)  # the recovery codes

    def __init__(self, ctx: AppContext, actor: Actor, lane: ServiceLane,
                 parent: QWidget | None = None, prompter: Prompter | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.actor, self.lane = ctx, actor, lane
        self.enrolment: Enrolment | None = None
        self.recovery_codes: list[str] = []
        self.intro = QLabel(_("Your role needs a second factor. Scan this code with an "
                              "authenticator app on your phone (for example Google "
                              "Authenticator or Microsoft Authenticator), then type the "
                              "6-digit code it shows."))
        self.intro.setWordWrap(True)
        self.qr = QLabel()
        self.qr.setObjectName("qr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.secret = QLabel()
        self.secret.setObjectName("secret")
        self.secret.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.secret.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.code = QLineEdit()
        self.code.setObjectName("enrol_code")
        self.code.setMaxLength(16)
        self.code.setPlaceholderText("123456")
        form = self._form = QFormLayout()
        form.addRow(_("Code from the app"), self.code)
        self.recovery = QPlainTextEdit()
        self.recovery.setObjectName("recovery_codes")
        self.recovery.setReadOnly(True)
        self.recovery.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.recovery.setMaximumHeight(260)
        self.recovery.hide()
        self.keep = KeepCodes(self.record_kept, prompter)
        self.keep.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.qr)
        layout.addWidget(self.secret)
        layout.addLayout(form)
        layout.addWidget(self.recovery)
        layout.addWidget(self.keep)

    def now(self):
        return self.ctx.clock.now()

    def record_kept(self, how: str, on_done, on_error) -> None:
        """Through the gateway, as the operator the enrolment signed in."""
        gateway = InProcessGateway(self.ctx, self.actor)
        self.lane.submit(gateway.write, second_factor.record_recovery_codes_kept, how,
                         on_done=on_done, on_error=on_error)

    @property
    def done(self) -> bool:
        return bool(self.recovery_codes)

    def start(self, on_error) -> None:
        self.lane.submit(second_factor.begin_enrolment, self.ctx, self.actor,
                         on_done=self._show, on_error=on_error)

    def _show(self, enrolment: Enrolment) -> None:
        self.enrolment = enrolment
        self.qr.setPixmap(qr_pixmap(enrolment.uri))
        self.secret.setText(_("Key for typing in by hand: {key}").format(
            key=grouped(enrolment.secret)))
        self.code.setFocus()

    def confirm(self, on_error) -> None:
        self.lane.submit(second_factor.confirm_enrolment, self.ctx, self.actor,
                         self.code.text(), on_done=self._confirmed, on_error=on_error)

    def _confirmed(self, codes: list[str]) -> None:
        self.recovery_codes = codes
        self.qr.clear()
        self.qr.hide()
        self.secret.hide()
        self._form.setRowVisible(self.code, False)
        self.intro.setText(_("The authenticator is set up. These recovery codes let you "
                             "sign in if you lose your phone; each works once. Copy, print "
                             "or save them (or write them down) and keep them somewhere "
                             "safe: they are not shown again."))
        self.recovery.setPlainText("\n".join(codes))
        self.recovery.show()
        self.keep.set_codes(codes, self.actor.login, self.now())
        self.keep.show()
        self.enrolled.emit(codes)


class EnrolDialog(QDialog):
    """Enrolment on its own: after the first administrator is created."""

    def __init__(self, ctx: AppContext, actor: Actor, parent: QWidget | None = None,
                 prompter: Prompter | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Hosho Desk: set up the second factor"))
        self.setMinimumWidth(480)
        self.lane = ServiceLane(self)
        self.panel = EnrolPanel(ctx, actor, self.lane, prompter=prompter)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.panel.enrolled.connect(lambda _codes: self._enrolled())
        self.panel.start(self._failed)

    def submit(self) -> None:
        if self.panel.done:
            self.accept()
            return
        self.buttons.setEnabled(False)
        self.panel.confirm(self._failed)

    def _enrolled(self) -> None:
        self.buttons.setEnabled(True)
        self.message.clear()
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).hide()

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self.panel.code.clear()
        self.message.setText(error_text(exc))
