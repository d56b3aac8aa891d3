"""The main window: navigation between the areas an operator works in."""

from __future__ import annotations

from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app.core.i18n import _
from app.ui.cases_page import CasesPage
from app.ui.desk import Desk
from app.ui.import_page import ImportPage, dropped_file
from app.ui.intake_dialog import IntakeDialog
from app.ui.placeholders import PlannedArea


def _planned_areas() -> list[tuple[str, str, list[str]]]:
    return [
        ("queue", _("Outreach queue"), [
            _("From 19 August: nanaco and unauthorised-use cases first, in the order their "
              "contact details arrived"),
            _("'Next' hands you one case and holds it so that no two desks call the same "
              "person"),
            _("Call-backs at the agreed time; after three failed attempts, a guidance letter"),
        ]),
        ("letters", _("Letters"), [
            _("Guidance with claim form, deficiency notice, payment notice"),
            _("Batches in one PDF or one file per case, with preview and printing"),
        ]),
        ("approvals", _("Approvals"), [
            _("Verified cases waiting for a supervisor who did not verify them"),
            _("Refund batches waiting for release by a second supervisor"),
        ]),
        ("audit", _("Audit log"), [
            _("Every move, edit, import, letter and export: who, when, what changed"),
            _("Filter by case, operator, action and date; export for an auditor"),
        ]),
    ]


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
        for key, title, points in _planned_areas():
            self._add_page(key, title, PlannedArea(title, points))
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.nav.setCurrentRow(0)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        who = QLabel(_("Signed in: {name} ({role})").format(
            name=operator_name, role=desk.actor.role.label_ja))
        who.setObjectName("signed_in")
        self.statusBar().addPermanentWidget(who)
        self._add_actions()
        self.setAcceptDrops(True)  # an incident file dropped anywhere opens in the wizard

    def _add_page(self, key: str, title: str, widget: QWidget) -> None:
        self.pages[key] = widget
        self.nav.addItem(title)
        self.stack.addWidget(widget)

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
        self.show_page("cases")
        self.cases.next_case()

    def new_intake(self) -> IntakeDialog:
        dialog = IntakeDialog(self.desk, self)
        dialog.accepted.connect(lambda: self._intake_done(dialog))
        dialog.open()
        return dialog

    def _intake_done(self, dialog: IntakeDialog) -> None:
        if dialog.created is not None:
            self.show_page("cases")
            self.cases.search.setText(dialog.created.case_number)
            self.cases.apply_filters()
            self.cases.detail.load(dialog.created.id)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_file(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_file(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.show_page("import")
            self.imports.load_file(path)

    def closeEvent(self, event) -> None:
        self.imports.shutdown()
        self.desk.lane.shutdown()
        super().closeEvent(event)
