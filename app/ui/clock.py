"""The services' time on a desk, never asked for on the GUI thread.

The status bar shows the services' clock (the demo's day in the demo, the server's
time at a centre), and a few pages stamp a file name or propose a time with it. At a
centre that clock is the server's, an HTTP request away: a server slow or out of
reach must never freeze the window. So the time is asked for on a worker of the
clock's own (not the desk's lane: a clock never waits behind an import, and pages
never wait behind an unreachable server's clock), at sign-in and every
``REFRESH_MS``; in between, ``now()`` counts on from the last answer with this
machine's monotonic clock. In process the services' clock is this process's: read
directly, as cheap as reading a variable.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from PySide6.QtCore import QObject, QTimer, Signal

from app.services.gateway import Gateway, InProcessGateway
from app.ui.lane import ServiceLane

REFRESH_MS = 15_000


class DeskClock(QObject):
    # The services' time, just heard (in the GUI thread): the status bar shows it.
    ticked = Signal(object)

    def __init__(self, gateway: Gateway, parent: QObject | None = None,
                 refresh_ms: int = REFRESH_MS) -> None:
        super().__init__(parent)
        self.gateway = gateway
        self.lane = ServiceLane(self)
        self._heard: tuple[datetime, float] | None = None
        self._asking = False
        self._timer = QTimer(self, interval=refresh_ms)
        self._timer.timeout.connect(self.refresh)

    @property
    def local(self) -> bool:
        """In this process: the services' clock is read directly."""
        return isinstance(self.gateway, InProcessGateway)

    @property
    def demo(self) -> bool:
        """The demo's clock (this process's, or the demo server's as it said)."""
        return bool(getattr(self.gateway, "demo_clock", False))

    @property
    def busy(self) -> bool:
        return self.lane.busy

    def start(self) -> None:
        """Ask now, and again every REFRESH_MS."""
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        """Ask the services' time off the GUI thread; returns at once. While an answer
        is awaited (a slow server) no second question piles up behind it."""
        if self._asking:
            return
        self._asking = True
        self.lane.submit(self.gateway.now, on_done=self._answered, on_error=self._missed)

    def now(self) -> datetime:
        """The services' time, without waiting: in process the clock itself; at a centre
        the server's last answer counted on (this machine's time until the first)."""
        if self.local:
            return self.gateway.now()
        if self._heard is None:
            return datetime.now(UTC)
        at, monotonic = self._heard
        return at + timedelta(seconds=time.monotonic() - monotonic)

    def shutdown(self) -> None:
        self._timer.stop()
        # a question to a server out of reach ends at the gateway's time-out: not waited for

    def _answered(self, now: datetime) -> None:
        self._asking = False
        self._heard = (now, time.monotonic())
        self.ticked.emit(now)

    def _missed(self, _exc: Exception) -> None:
        self._asking = False  # out of reach: the last time heard goes on counting
