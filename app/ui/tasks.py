"""Long work (an import, a letter batch) off the desk's lane, with progress and cancel.

A page owns a ``BackgroundTask`` and hands it to the desk: ``desk.act(service, ...,
task=self.task)``. The call then runs on the task's own worker (the desk's lane stays
free for the other pages), the gateway gives the service the task's Watch as its
``progress``/``cancel`` keywords (app.services.progress), and a GUI timer polls the
watch and emits ``progressed``: no signal per row or per chunk from the worker (each
Python-side ``emit`` in PySide6 6.12.0 also drops a reference to ``True``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from app.services.progress import Watch
from app.ui.lane import ServiceLane, alive

POLL_MS = 100  # ten reads of the counter a second


class BackgroundTask(QObject):
    progressed = Signal(int, int)  # (done, total), from the poll timer
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, poll_ms: int = POLL_MS) -> None:
        super().__init__(parent)
        self.lane = ServiceLane(self, threads=1)
        self.watch = Watch()
        self.running = False
        self._shown = (0, 0)
        self._poll = QTimer(self)
        self._poll.setInterval(poll_ms)
        self._poll.timeout.connect(self._read)

    def begin(self) -> Watch:
        """A fresh watch for the call about to start (the desk calls it)."""
        self.watch, self._shown = Watch(), (0, 0)
        self._set_running(True)
        return self.watch

    def ending(self, callback: Callable[[Any], None] | None) -> Callable[[Any], None]:
        """``callback`` preceded by the task's end (the last progress shown first)."""

        def ended(result: Any) -> None:
            self._read()
            self._set_running(False)
            if alive(callback):
                callback(result)
            elif callback is None and isinstance(result, Exception):
                raise result  # the lane logs it

        return ended

    def cancel(self) -> None:
        if self.running:
            self.watch.cancel()

    @property
    def cancelled(self) -> bool:
        return self.watch.cancelled()

    def shutdown(self) -> None:
        """Cancel what runs (services leave nothing behind when cancelled) and wait."""
        self.watch.cancel()
        self._poll.stop()
        self.lane.shutdown()

    def _set_running(self, running: bool) -> None:
        self.running = running
        if running:
            self._poll.start()
        else:
            self._poll.stop()
        self.running_changed.emit(running)

    def _read(self) -> None:
        value = self.watch.value
        if value != self._shown and value[1]:
            self._shown = value
            self.progressed.emit(*value)
