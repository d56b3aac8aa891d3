"""The main window: navigation between the areas an operator works in."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app.core.clock import to_jst
from app.core.i18n import _, error_text
from app.domain.roles import Role
from app.services.context import SessionEnded
from app.ui.approvals_page import ApprovalsPage
from app.ui.audit_page import AuditPage
from app.ui.cases_page import CasesPage
from app.ui.dashboard_page import DashboardPage
from app.ui.desk import Desk
from app.ui.drops import FileDrop
from app.ui.idle_lock import IdleLock
from app.ui.import_page import AUTO, ImportPage
from app.ui.intake_dialog import IntakeDialog
from app.ui.labels import role_label
from app.ui.letters_page import LettersPage
from app.ui.operators_page import OperatorsPage
from app.ui.payouts_page import PayoutsPage
from app.ui.queue_page import QueuePage
from app.ui.refunds_page import RefundsPage
from app.ui.settings_page import SettingsPage

SIGN_OUT, SWITCH_USER = "sign_out", "switch_user"


class MainWindow(QMainWindow):
    # After the session has ended (SIGN_OUT or SWITCH_USER): the program asks for the
    # next sign-in (app.ui.application.DeskRun) and this window closes.
    signed_out = Signal(str)

    def __init__(self, desk: Desk, operator_name: str) -> None:
        super().__init__()
        self.desk = desk
        self.setWindowTitle(_("Hosho Desk — compensation case management"))
        self.resize(1400, 860)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(190)
        self.nav.setStyleSheet("QListWidget::item { padding: 8px 6px; }")
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        self.cases = CasesPage(desk)
        self._add_page("cases", _("Cases"), self.cases)
        self.imports = ImportPage(desk)
        self._add_page("import", _("Import files"), self.imports)
        # Each area lives in its own module; the window only places them.
        self.queue = QueuePage(desk)
        self._add_page("queue", _("Outreach queue"), self.queue)
        self.refunds = RefundsPage(desk)
        self._add_page("refunds", _("Balance refund"), self.refunds)
        self.dashboard = DashboardPage(desk)
        self._add_page("dashboard", _("Dashboard"), self.dashboard)
        self.letters = LettersPage(desk)
        self._add_page("letters", _("Letters"), self.letters)
        self.approvals = ApprovalsPage(desk)
        self._add_page("approvals", _("Approvals"), self.approvals)
        self._supervisors_only("approvals")
        self.payouts = PayoutsPage(desk)
        self._add_page("payouts", _("Payouts"), self.payouts)
        self.audit = AuditPage(desk)
        self._add_page("audit", _("Audit log"), self.audit)
        self._supervisors_only("audit")
        self.settings = SettingsPage(desk)
        self._add_page("settings", _("Settings"), self.settings)
        self.operators = None
        if desk.actor.role is Role.ADMIN:  # accounts are an administrator's
            self.operators = OperatorsPage(desk)
            self._add_page("operators", _("Operators"), self.operators)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        who = QLabel(_("Signed in: {name} ({role})").format(
            name=operator_name, role=role_label(desk.actor.role)))
        who.setObjectName("signed_in")
        # The services' time (the demo's day in the demo): what deadlines are read against.
        self.clock_label = QLabel(objectName="clock_label")
        self.statusBar().addPermanentWidget(self.clock_label)
        self.statusBar().addPermanentWidget(who)
        # Asked off the GUI thread, now and every 15 s (app.ui.clock): a centre server
        # slow or out of reach never freezes the window; the last time heard stays.
        desk.clock.ticked.connect(self._show_clock)
        desk.clock.start()
        self._add_actions()
        FileDrop(self, self._dropped)  # a file dropped anywhere opens in the wizard
        self.approvals.case_opened.connect(self.open_case)
        self.queue.case_opened.connect(self.open_case)
        self.refunds.import_wanted.connect(self.import_refund_file)
        self.idle_lock = IdleLock(self, desk)  # asks for the password after idle minutes

    def _add_page(self, key: str, title: str, widget: QWidget) -> None:
        self.pages[key] = widget
        self.nav.addItem(title)
        self.stack.addWidget(widget)

    def _supervisors_only(self, key: str) -> None:
        """Approving and reading the trail are a supervisor's: absent for operators."""
        if self.desk.actor.role is Role.OPERATOR:
            self.nav.item(list(self.pages).index(key)).setHidden(True)

    def _show_clock(self, now: datetime) -> None:
        text = to_jst(now).strftime("%Y/%m/%d %H:%M")
        self.clock_label.setText(_("Demo time: {time}").format(time=text)
                                 if self.desk.clock.demo else text)

    def show_page(self, key: str) -> None:
        self.nav.setCurrentRow(list(self.pages).index(key))

    def _add_actions(self) -> None:
        for text, keys, slot in (
            (_("Search cases"), QKeySequence.StandardKey.Find, self.search),
            (_("New phone intake"), QKeySequence("Ctrl+N"), self.new_intake),
            (_("Next case"), QKeySequence("Ctrl+J"), self.next_case),
        ):
            action = QAction(text, self)
            action.setShortcut(keys)
            action.triggered.connect(slot)
            self.addAction(action)
        menu = self.menuBar().addMenu(_("Case"))
        for action in self.actions():
            menu.addAction(action)
        self.account_menu = self.menuBar().addMenu(_("Operator account"))
        self.account_menu.setObjectName("account_menu")
        for name, text, keys, mode in (
            ("switch_user", _("Switch user…"), QKeySequence("Ctrl+Shift+U"), SWITCH_USER),
            ("sign_out", _("Sign out"), QKeySequence("Ctrl+Shift+Q"), SIGN_OUT),
        ):
            action = QAction(text, self, objectName=name)
            action.setShortcut(keys)
            action.triggered.connect(lambda _checked=False, m=mode: self.sign_out(m))
            self.addAction(action)
            self.account_menu.addAction(action)

    def sign_out(self, mode: str = SIGN_OUT) -> None:
        """End the session (audited; held cases back in the queue), then hand over to
        the next sign-in. Nothing of this operator's work stays: the window closes."""
        if getattr(self, "_signing_out", False):
            return
        self._signing_out = True
        self.idle_lock.timer.stop()
        self.desk.clock.stop()
        self.desk.sign_out(on_done=lambda _none: self._signed_out(mode),
                           on_error=lambda exc: self._sign_out_failed(mode, exc))

    def _sign_out_failed(self, mode: str, exc: Exception) -> None:
        if isinstance(exc, SessionEnded):  # ended already (a lock, a reset): nothing to end
            self._signed_out(mode)
            return
        self._signing_out = False
        self.idle_lock.timer.start()
        self.desk.clock.start()
        self.desk.prompter.error(self, error_text(exc))

    def _signed_out(self, mode: str) -> None:
        self.signed_out.emit(mode)  # the next sign-in is on screen before this closes
        self.close()

    def search(self) -> None:
        self.show_page("cases")
        self.cases.focus_search()

    def next_case(self) -> None:
        """Ctrl+J: on the outreach queue, take the next person to call; elsewhere, the next
        case in the list."""
        if self.stack.currentWidget() is self.queue:
            self.queue.take_next()
            return
        self.show_page("cases")
        self.cases.next_case()

    def new_intake(self) -> IntakeDialog:
        dialog = IntakeDialog(self.desk, self)
        dialog.accepted.connect(lambda: self._intake_done(dialog))
        dialog.open()
        return dialog

    def open_case(self, case_id: int) -> None:
        """Show one case in the case detail, from whichever area named it."""
        self.show_page("cases")
        self.cases.detail.load(case_id)

    def _intake_done(self, dialog: IntakeDialog) -> None:
        if dialog.created is not None:
            self.show_page("cases")
            self.cases.search.setText(dialog.created.case_number)
            self.cases.apply_filters()
            self.cases.detail.load(dialog.created.id)

    def import_refund_file(self, kind: str) -> None:
        """The refund page's import: the wizard, set to that kind of file."""
        self.show_page("import")
        self.imports.choose_kind(kind)
        self.imports.choose_path()

    def _dropped(self, path: str) -> None:
        self.show_page("import")
        self.imports.load_file(path, kind=AUTO)  # whatever was chosen before: its header says

    def closeEvent(self, event) -> None:
        self.imports.shutdown()
        self.letters.shutdown()
        self.audit.shutdown()
        self.desk.clock.shutdown()
        self.desk.lane.shutdown()
        super().closeEvent(event)
