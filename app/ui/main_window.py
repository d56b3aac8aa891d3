"""The main window: navigation between the areas an operator works in."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app.core.clock import DemoClock, to_jst
from app.core.errors import HoshoError
from app.core.i18n import _
from app.domain.roles import Role
from app.ui.approvals_page import ApprovalsPage
from app.ui.audit_page import AuditPage
from app.ui.cases_page import CasesPage
from app.ui.dashboard_page import DashboardPage
from app.ui.desk import Desk
from app.ui.drops import FileDrop
from app.ui.idle_lock import IdleLock
from app.ui.import_page import ImportPage
from app.ui.intake_dialog import IntakeDialog
from app.ui.labels import role_label
from app.ui.letters_page import LettersPage
from app.ui.operators_page import OperatorsPage
from app.ui.payouts_page import PayoutsPage
from app.ui.queue_page import QueuePage
from app.ui.refunds_page import RefundsPage
from app.ui.settings_page import SettingsPage


class MainWindow(QMainWindow):
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
        self._add_page("import", _("Import incident lists"), self.imports)
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
        self._clock_timer = QTimer(self, interval=15_000)
        self._clock_timer.timeout.connect(self._show_clock)
        self._clock_timer.start()
        self._show_clock()
        self._add_actions()
        FileDrop(self, self._dropped)  # an incident file dropped anywhere opens in the wizard
        self.approvals.case_opened.connect(self.open_case)
        self.queue.case_opened.connect(self.open_case)
        self.idle_lock = IdleLock(self, desk)  # asks for the password after idle minutes

    def _add_page(self, key: str, title: str, widget: QWidget) -> None:
        self.pages[key] = widget
        self.nav.addItem(title)
        self.stack.addWidget(widget)

    def _supervisors_only(self, key: str) -> None:
        """Approving and reading the trail are a supervisor's: absent for operators."""
        if self.desk.actor.role is Role.OPERATOR:
            self.nav.item(list(self.pages).index(key)).setHidden(True)

    def _show_clock(self) -> None:
        try:
            now = to_jst(self.desk.gateway.now())
        except HoshoError:  # a centre server out of reach: the last time shown stays
            return
        # The demo's clock is this process's (a centre desk's gateway has no context).
        clock = getattr(getattr(self.desk.gateway, "ctx", None), "clock", None)
        demo = isinstance(clock, DemoClock)
        text = now.strftime("%Y/%m/%d %H:%M")
        self.clock_label.setText(_("Demo time: {time}").format(time=text) if demo else text)

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

    def _dropped(self, path: str) -> None:
        self.show_page("import")
        self.imports.load_file(path)

    def closeEvent(self, event) -> None:
        self.imports.shutdown()
        self.letters.shutdown()
        self.desk.lane.shutdown()
        super().closeEvent(event)
