"""One lane for the database: service calls run on a single worker thread.

Widgets never wait on the database. They hand a service call to the lane and
get the plain result back, in the GUI thread, through a queued signal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from app.core.logs import report_bug

log = logging.getLogger(__name__)


def alive(callback: Callable[..., Any] | None) -> bool:
    """False when the callback is a method of a widget that has since been destroyed.

    An answer can arrive after its page closed (the window shut, a test ended):
    handing it to a deleted widget would raise inside Qt's event loop.
    """
    owner = getattr(callback, "__self__", None)
    return callback is not None and (not isinstance(owner, QObject) or shiboken6.isValid(owner))


class _Relay(QObject):
    done = Signal(object)
    failed = Signal(object)


class _Job(QRunnable):
    def __init__(self, relay: _Relay, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        super().__init__()
        self.relay, self.fn, self.args, self.kwargs = relay, fn, args, kwargs

    def run(self) -> None:
        try:
            result = self.fn(*self.args, **self.kwargs)
        except Exception as exc:  # handed to the GUI thread, which decides how to show it
            self.relay.failed.emit(exc)
        else:
            self.relay.done.emit(result)


class ServiceLane(QObject):
    """Serialises database work off the GUI thread. ``busy`` tells tests and spinners."""

    idle = Signal()

    def __init__(self, parent: QObject | None = None, threads: int = 1) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._relays: set[_Relay] = set()

    @property
    def busy(self) -> bool:
        return bool(self._relays)

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_done: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None, **kwargs: Any) -> None:
        relay = _Relay()
        self._relays.add(relay)

        @Slot(object)
        def finished(result: object) -> None:
            self._release(relay)
            if alive(on_done):
                on_done(result)

        @Slot(object)
        def failed(exc: object) -> None:
            self._release(relay)
            if alive(on_error):
                on_error(exc)
            elif on_error is not None:
                log.info("service call failed after its page closed: %r", exc)
            else:
                report_bug(exc, "service call failed")

        relay.done.connect(finished)
        relay.failed.connect(failed)
        self.pool.start(_Job(relay, fn, args, kwargs))

    def _release(self, relay: _Relay) -> None:
        self._relays.discard(relay)
        relay.deleteLater()
        if not self._relays:
            self.idle.emit()

    def shutdown(self) -> None:
        self.pool.waitForDone()
