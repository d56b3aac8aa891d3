"""Pages refresh from what changed, and a hidden page waits until it is shown.

``follow_changes(page, desk, concerns, refresh)``: after every write (the desk's
``changed``), ``concerns(changed)`` says whether it touches the page; if so, a page
on screen refreshes at once and a hidden one only notes that it is stale, and
refreshes once when it is next shown. Hidden pages cost no query.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget

from app.services.changes import Changed
from app.ui.desk import Desk


class ChangeFollower(QObject):
    def __init__(self, page: QWidget, desk: Desk, concerns: Callable[[Changed], bool],
                 refresh: Callable[[], None]) -> None:
        super().__init__(page)
        self.page, self.concerns, self.refresh = page, concerns, refresh
        self.stale = False
        desk.changed.connect(self._changed)
        page.installEventFilter(self)

    def _changed(self, changed: Changed) -> None:
        if not self.concerns(changed):
            return
        if self.page.isVisible() or not self.page.window().isVisible():
            # on screen (or not placed in a shown window at all): now
            self.stale = False
            self.refresh()
        else:
            self.stale = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.page and event.type() == QEvent.Type.Show and self.stale:
            self.stale = False
            self.refresh()
        return False


def follow_changes(page: QWidget, desk: Desk, concerns: Callable[[Changed], bool],
                   refresh: Callable[[], None]) -> ChangeFollower:
    return ChangeFollower(page, desk, concerns, refresh)


# What the usual pages follow.
def touches_cases(changed: Changed) -> bool:
    """Case lists and counts: cases, their victims' names, and the settings that set
    deadlines and queue order."""
    return bool(changed.cases or changed.victims or changed.settings)


def touches_payouts(changed: Changed) -> bool:
    return bool(changed.payouts or changed.cases or changed.settings)


def touches_letters(changed: Changed) -> bool:
    return bool(changed.letters or changed.cases)


def touches_refund_letters(changed: Changed) -> bool:
    """The refund letters due: a refund decision (a refusal, a confirmation, a
    payment, a 払出証書 issued or returned) makes an application due a letter, a
    letter batch makes it due no more."""
    return bool(changed.refunds or changed.letters)


def touches_refunds(changed: Changed) -> bool:
    """The balance-refund page: its imports and decisions, and the compensation cases
    and payouts its people in both programmes are weighed against."""
    return bool(changed.refunds or changed.cases or changed.payouts or changed.settings)
