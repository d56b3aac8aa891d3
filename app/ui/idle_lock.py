"""The idle lock: after a set time without input the main window hides its work
and asks for the password again (and the authenticator code when the operator's
sign-in needs one). Nothing of a case stays on screen: the central widget is taken
out of the window, open dialogs are hidden, the title and status bar are blanked.

The same lock closes over the window when a service says the session has ended
(the account was locked by wrong passwords or codes, or reset): unlocking is a new
sign-in, and the desk acts from then on as the session it gives."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QWindow
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.i18n import _, error_text
from app.services import second_factor, settings

# What counts as someone at the keyboard. Paint and timer events do not.
INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick,
    QEvent.Type.MouseMove, QEvent.Type.Wheel, QEvent.Type.TouchBegin,
})


class LockPanel(QWidget):
    unlock_requested = Signal(str, str)

    def __init__(self, login: str, needs_code: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("idle_lock_panel")
        box = QWidget()
        box.setMaximumWidth(460)
        title = QLabel(_("Hosho Desk is locked"))
        title.setStyleSheet("font-size: 18pt; font-weight: bold")
        text = QLabel(_("The window was locked after a period without use. {login}, enter "
                        "your password to continue.").format(login=login))
        text.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setObjectName("unlock_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.code = QLineEdit()
        self.code.setObjectName("unlock_code")
        self.code.setPlaceholderText("123456")
        self.form = QFormLayout()
        self.form.addRow(_("Password"), self.password)
        self.form.addRow(_("Code"), self.code)
        self.set_needs_code(needs_code)
        self.message = QLabel()
        self.message.setObjectName("unlock_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b00020")
        self.button = QPushButton(_("Unlock"))
        self.button.setObjectName("unlock")
        self.button.setDefault(True)
        self.button.clicked.connect(self.submit)
        self.password.returnPressed.connect(self.submit)
        self.code.returnPressed.connect(self.submit)
        inner = QVBoxLayout(box)
        inner.addWidget(title)
        inner.addWidget(text)
        inner.addLayout(self.form)
        inner.addWidget(self.message)
        inner.addWidget(self.button, 0, Qt.AlignmentFlag.AlignRight)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def set_needs_code(self, needs_code: bool) -> None:
        self.form.setRowVisible(self.code, needs_code)

    def submit(self) -> None:
        self.button.setEnabled(False)
        self.message.setText(_("Checking…"))
        self.unlock_requested.emit(self.password.text(), self.code.text())

    def failed(self, exc: Exception) -> None:
        self.button.setEnabled(True)
        self.password.clear()
        self.code.clear()
        self.message.setText(error_text(exc))


class IdleLock(QObject):
    """Watches every input event of the application; locks ``window`` when none
    came for the timeout (the setting idle_lock_minutes, or ``timeout_ms``)."""

    locked = Signal()
    unlocked = Signal()

    def __init__(self, window: QMainWindow, desk, timeout_ms: int | None = None) -> None:
        super().__init__(window)
        self.window, self.desk = window, desk
        self.panel: LockPanel | None = None
        self._central: QWidget | None = None
        self._title = ""
        self._hidden: list[QWidget] = []
        self.needs_code = True  # until the database has said
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock)
        # Input reaches each top-level QWindow before the widget in it: watching
        # those windows sees every key and click without a Python call for each of
        # the application's many other events (painting, layout, timers).
        self._watched: set[int] = set()
        window.installEventFilter(self)  # its Show: then its QWindow exists
        QGuiApplication.instance().focusWindowChanged.connect(self._watch)
        self._watch(window.windowHandle())
        self._ask_needs_code()
        if hasattr(desk, "session_ended"):
            desk.session_ended.connect(self.lock)
        if timeout_ms is not None:
            self.set_timeout(timeout_ms)
        else:
            desk.call(settings.get,
                      on_done=lambda s: self.set_timeout(s.idle_lock_minutes * 60_000))

    def _ask_needs_code(self) -> None:
        self.desk.call(second_factor.code_required, self.desk.actor,
                       on_done=self._got_needs_code)

    def _got_needs_code(self, needs_code: bool) -> None:
        self.needs_code = needs_code
        if self.panel is not None:
            self.panel.set_needs_code(needs_code)

    @property
    def is_locked(self) -> bool:
        return self.panel is not None

    def set_timeout(self, milliseconds: int) -> None:
        self.timer.setInterval(max(1, milliseconds))
        if not self.is_locked:
            self.timer.start()

    def _watch(self, handle: QWindow | None) -> None:
        """Dialogs too: each window that gets the focus is watched from then on."""
        key = id(handle)
        if handle is not None and key not in self._watched:
            self._watched.add(key)
            handle.installEventFilter(self)
            handle.destroyed.connect(lambda *_args: self._watched.discard(key))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Show and watched is self.window:
            self._watch(self.window.windowHandle())
        elif not self.is_locked and kind in INPUT_EVENTS:
            self.timer.start()  # restart the count
        return False

    def lock(self) -> None:
        if self.is_locked:
            return
        window = self.window
        self._central = window.takeCentralWidget()  # kept alive, out of sight
        self._title = window.windowTitle()
        window.setWindowTitle(_("Hosho Desk — locked"))
        self._hidden = [w for w in QApplication.topLevelWidgets()
                        if isinstance(w, QDialog) and w.isVisible()]
        self._hidden += [w for w in (window.statusBar(), window.menuBar()) if w.isVisible()]
        for widget in self._hidden:
            widget.hide()
        self.panel = LockPanel(self.desk.actor.login, self.needs_code)
        self.panel.unlock_requested.connect(self._try_unlock)
        self._ask_needs_code()  # an administrator may have changed the rule since
        window.setCentralWidget(self.panel)
        self.panel.show()
        self.panel.password.setFocus()
        self.locked.emit()

    def _try_unlock(self, password: str, code: str) -> None:
        self.desk.act(second_factor.unlock_session, password, code or None,
                      on_done=self._unlock, on_error=self.panel.failed)

    def _unlock(self, view) -> None:
        if not self.is_locked:
            return
        # A new sign-in: the desk acts as its session (after a lock, the old one may not).
        self.desk.actor = view.as_actor()
        window = self.window
        panel = window.takeCentralWidget()
        panel.deleteLater()
        self.panel = None
        window.setCentralWidget(self._central)
        self._central.show()  # taking it out of the window had hidden it
        self._central = None
        window.setWindowTitle(self._title)
        for widget in self._hidden:
            widget.show()
        self._hidden = []
        self.timer.start()
        self.unlocked.emit()
