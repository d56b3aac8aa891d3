"""Live desks: what other desks change, pushed by the centre's server, refreshes this
desk's pages the way its own writes do.

The remote gateway's ``watch`` hears every change another desk made (on a thread of
its own); each event carries what that write changed (app.services.changes.Changed,
as the server recorded it). Here the events cross into the GUI thread, are gathered
for a moment (fifty desks writing must not make every page re-read fifty times a
second) and leave as one ``desk.changed``: the same signal, and so the same
refresh (app.ui.refresh), as a write made at this desk.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.services.changes import NOTHING, Changed
from app.ui.desk import Desk

# How long events are gathered before the pages refresh once for all of them: well
# inside the two seconds in which another desk's change must show.
GATHER_MS = 250


def changed_of(event: dict[str, Any]) -> Changed:
    """What an event says changed; an event naming a case only (an older server) still
    refreshes that case."""
    changed = Changed.from_dict(event.get("changed") or {})
    case_id = event.get("case_id")
    if not changed and isinstance(case_id, int):
        changed = Changed(cases=frozenset({case_id}))
    return changed


class ServerChanges(QObject):
    # An event from the watch thread; Qt queues it to the GUI thread.
    heard = Signal(object)

    def __init__(self, desk: Desk) -> None:
        super().__init__(desk)
        self.desk = desk
        self.pending: Changed = NOTHING
        self._timer = QTimer(self, singleShot=True, interval=GATHER_MS)
        self._timer.timeout.connect(self._emit)
        self.heard.connect(self._gather)

    def start(self) -> None:
        self.desk.gateway.watch(self.heard.emit)

    def _gather(self, event: dict[str, Any]) -> None:
        changed = changed_of(event)
        if not changed:
            return
        self.pending = self.pending | changed
        if not self._timer.isActive():
            self._timer.start()

    def _emit(self) -> None:
        changed, self.pending = self.pending, NOTHING
        if changed:
            self.desk.changed.emit(changed)


def follow_server(desk: Desk) -> ServerChanges | None:
    """Start following the server's changes, when the desk's gateway has a server."""
    if not hasattr(desk.gateway, "watch"):
        return None  # a single desk: every change is its own
    live = ServerChanges(desk)
    live.start()
    return live
