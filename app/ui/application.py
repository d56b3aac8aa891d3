"""Application set-up: fonts, language, database, sign-in, main window."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from app.core.clock import DemoClock
from app.core.errors import HoshoError
from app.core.i18n import _, error_text, set_locale
from app.core.logs import report_bug
from app.core.paths import demo_db_path
from app.domain.roles import Role
from app.services import operators
from app.services.context import AppContext
from app.services.operators import OperatorView
from app.ui.audit_page import warn_if_audit_broken
from app.ui.desk import Desk
from app.ui.fonts import apply_ui_font
from app.ui.main_window import SWITCH_USER, MainWindow
from app.ui.qt_translations import install_qt_translations
from app.ui.signin import SignInDialog, sign_in
from app.ui.wheel_guard import install_wheel_guard

log = logging.getLogger(__name__)


def make_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("Hosho Desk")
    apply_ui_font(app)
    install_wheel_guard(app)
    locale = os.environ.get("HOSHO_LANG", "ja")
    set_locale(locale)
    if locale == "ja" and app.property("hosho_qt_ja") is None:
        # Qt's own strings (OK, Cancel, the file dialog) in Japanese too.
        install_qt_translations(app)
        app.setProperty("hosho_qt_ja", True)
    return app


def install_excepthook() -> None:
    """An uncaught exception in a slot becomes a dialog, not a silent print."""

    def hook(kind, value, tb) -> None:
        if not isinstance(value, HoshoError):
            value.__traceback__ = value.__traceback__ or tb
            report_bug(value, "uncaught")
        # a bug is shown by its class and reference only: its text may hold personal data
        QMessageBox.critical(None, _("Hosho Desk"), error_text(value))

    sys.excepthook = hook


def open_demo_context() -> AppContext:
    from app.services.demo import build_demo
    from app.services.demo_refunds import demo_refund_clock
    from app.services.opening import open_context

    path = demo_db_path()
    ctx = open_context(str(path), create=True)
    if not operators.has_operators(ctx):
        build_demo(ctx)
    ctx.clock = DemoClock()  # the demo's day, moving with real time (status bar)
    # The refund programme's applications stand on a later day of their own.
    ctx.refund_clock = demo_refund_clock(ctx)
    return ctx


class DeskRun(QObject):
    """One program, one operator at a time: a window for the operator signed in; on
    "Sign out" or "Switch user" (the window's Account menu) the session ends, the
    sign-in dialog comes back and the next operator gets a new desk and a new window
    built from nothing, so that nothing of the first operator's work stays on screen
    (the case list, an open case, a dialog). Leaving the sign-in dialog ends the
    program (``finished``).

    ``new_dialog(title_mode)`` makes the sign-in dialog (for this database, or for the
    centre server with a new gateway); ``new_desk(dialog)`` the desk of the operator it
    signed in."""

    window_shown = Signal(object)  # the MainWindow
    finished = Signal()

    def __init__(self, new_dialog: Callable[[], SignInDialog],
                 new_desk: Callable[[SignInDialog], Desk],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.new_dialog, self.new_desk = new_dialog, new_desk
        self.window: MainWindow | None = None
        self.dialog: SignInDialog | None = None

    def show_window(self, desk: Desk, operator: OperatorView) -> MainWindow:
        window = self.window = MainWindow(desk, operator.display_name)
        window.signed_out.connect(self._signed_out)
        window.show()
        if desk.actor.role is Role.ADMIN:  # the audit chain is checked at every admin sign-in
            warn_if_audit_broken(desk, window)
        self.window_shown.emit(window)
        return window

    def _signed_out(self, mode: str) -> None:
        old = self.window
        self.window = None
        dialog = self.dialog = self.new_dialog()
        if mode == SWITCH_USER:
            dialog.setWindowTitle(_("Hosho Desk: switch user"))
            dialog.intro.setText(_("{name} has signed out. The next operator signs in with "
                                   "their own name and password.").format(
                                       name=old.desk.actor.login if old else ""))
        dialog.accepted.connect(lambda: self._signed_in(dialog))
        dialog.rejected.connect(self.finished)
        dialog.show()  # shown before the old window closes: the program stays open
        # Whatever the first operator had open goes with the window.
        for widget in QApplication.topLevelWidgets():
            if widget is not dialog and widget is not old and isinstance(widget, QWidget) \
                    and widget.isVisible() and not widget.inherits("QMenu"):
                widget.close()
        if old is not None:
            old.deleteLater()

    def _signed_in(self, dialog: SignInDialog) -> None:
        self.dialog = None
        if dialog.operator is None:
            self.finished.emit()
            return
        self.show_window(self.new_desk(dialog), dialog.operator)
        dialog.deleteLater()


def run_gui(args: argparse.Namespace) -> int:
    from app.services.opening import open_context

    app = make_app()
    install_excepthook()
    from app.remote.where import ca_file_of, server_of

    if server_of(args):
        return run_centre_desk(app, server_of(args), ca_file_of(args))
    ctx = open_demo_context() if args.demo else open_context(args.db, create=True)
    log.info("sign-in window shown (%s)", ctx.db.engine.dialect.name)
    operator = sign_in(ctx)
    if operator is None:
        return 0
    run = DeskRun(lambda: SignInDialog(ctx),
                  lambda dialog: Desk(ctx, dialog.operator.as_actor()))
    run.finished.connect(app.quit)
    run.show_window(Desk(ctx, operator.as_actor()), operator)
    return app.exec()


def centre_desk(gateway, prompter=None) -> Desk:
    """The desk of an operator signed in at the centre's server (``gateway``): every
    service through it, and the changes other desks make, pushed by the server,
    refreshing the pages as this desk's own writes do (app.ui.live)."""
    from app.ui.live import follow_server

    desk = Desk(gateway, prompter=prompter)
    follow_server(desk)  # listening before the pages read their first rows
    return desk


def run_centre_desk(app: QApplication, url: str, ca_file: str | None) -> int:
    """``hosho --server URL``: the same window, every service at the centre's server."""
    from app.remote.gateway import RemoteGateway
    from app.ui.remote_signin import RemoteSignInDialog, sign_in_remote

    gateway = RemoteGateway(url, ca_file=ca_file)
    log.info("sign-in window shown (centre server)")
    operator = sign_in_remote(gateway)
    if operator is None:
        return 0
    desks: list[Desk] = []

    def new_desk(gateway: RemoteGateway) -> Desk:
        desk = centre_desk(gateway)
        desks.append(desk)
        return desk

    # Each sign-in after a sign-out is a new session with a gateway of its own.
    run = DeskRun(lambda: RemoteSignInDialog(RemoteGateway(url, ca_file=ca_file)),
                  lambda dialog: new_desk(dialog.gateway))
    run.finished.connect(app.quit)
    run.show_window(new_desk(gateway), operator)
    code = app.exec()
    if run.window is not None:  # the program closed while signed in
        run.window.desk.gateway.sign_out()
    for desk in desks:
        desk.gateway.close()
    return code
