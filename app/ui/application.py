"""Application set-up: fonts, language, database, sign-in, main window."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from app.core.clock import DemoClock
from app.core.errors import HoshoError
from app.core.i18n import _, error_text, set_locale
from app.core.logs import report_bug
from app.core.paths import demo_db_path
from app.domain.roles import Role
from app.services import operators
from app.services.context import AppContext
from app.ui.audit_page import warn_if_audit_broken
from app.ui.desk import Desk
from app.ui.fonts import apply_ui_font
from app.ui.main_window import MainWindow
from app.ui.qt_translations import install_qt_translations
from app.ui.signin import sign_in
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
    from app.services.opening import open_context

    path = demo_db_path()
    ctx = open_context(str(path), create=True)
    if not operators.has_operators(ctx):
        build_demo(ctx)
    ctx.clock = DemoClock()  # the demo's day, moving with real time (status bar)
    return ctx


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
    desk = Desk(ctx, operator.as_actor())
    window = MainWindow(desk, operator.display_name)
    window.show()
    if desk.actor.role is Role.ADMIN:  # the audit chain is checked at every admin sign-in
        warn_if_audit_broken(desk, window)
    return app.exec()


def centre_window(gateway, operator_name: str, prompter=None) -> MainWindow:
    """The main window of a centre desk signed in at the server (``gateway``): every
    service through it, and the changes other desks make, pushed by the server,
    refreshing the pages as this desk's own writes do (app.ui.live)."""
    from app.ui.live import follow_server

    desk = Desk(gateway, prompter=prompter)
    follow_server(desk)  # listening before the pages read their first rows
    return MainWindow(desk, operator_name)


def run_centre_desk(app: QApplication, url: str, ca_file: str | None) -> int:
    """``hosho --server URL``: the same window, every service at the centre's server."""
    from app.remote.gateway import RemoteGateway
    from app.ui.remote_signin import sign_in_remote

    gateway = RemoteGateway(url, ca_file=ca_file)
    log.info("sign-in window shown (centre server)")
    operator = sign_in_remote(gateway)
    if operator is None:
        return 0
    window = centre_window(gateway, operator.display_name)
    window.show()
    desk = window.desk
    if desk.actor.role is Role.ADMIN:
        warn_if_audit_broken(desk, window)
    code = app.exec()
    gateway.sign_out()
    gateway.close()  # and the stream of changes with it
    return code
