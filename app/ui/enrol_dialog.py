"""Second-factor enrolment: a QR code for the authenticator app, a first code to
prove it works, then the recovery codes, shown this once."""

from __future__ import annotations

import qrcode
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import _, error_text
from app.domain.roles import Actor
from app.services import second_factor
from app.services.context import AppContext
from app.services.second_factor import Enrolment
from app.ui.lane import ServiceLane


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


class EnrolPanel(QWidget):
    """Three steps in one panel; ``finished`` once the recovery codes are shown
    and the operator has said so."""

    enrolled = Signal(list)  # the recovery codes

    def __init__(self, ctx: AppContext, actor: Actor, lane: ServiceLane,
                 parent: QWidget | None = None) -> None:
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.qr)
        layout.addWidget(self.secret)
        layout.addLayout(form)
        layout.addWidget(self.recovery)

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
                             "sign in if you lose your phone; each works once. Write them "
                             "down and keep them somewhere safe: they are not shown again."))
        self.recovery.setPlainText("\n".join(codes))
        self.recovery.show()
        self.enrolled.emit(codes)


class EnrolDialog(QDialog):
    """Enrolment on its own: after the first administrator is created."""

    def __init__(self, ctx: AppContext, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Hosho Desk: set up the second factor"))
        self.setMinimumWidth(480)
        self.lane = ServiceLane(self)
        self.panel = EnrolPanel(ctx, actor, self.lane)
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
