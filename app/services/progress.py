"""How long work reports progress and hears a cancel, without Qt and wherever it runs.

A long service (an import, a letter batch) takes two optional keywords:

    progress: Callable[[int, int], None] | None   # called with (done, total) now and then
    cancel:   Callable[[], bool] | None           # asked between chunks: stop if True

The caller never passes them by hand through a gateway: it hands the gateway a
``Watch`` (``gateway.write(service, ..., watch=watch)``) and the gateway supplies
``progress=watch.report, cancel=watch.cancelled``. In this process the window polls
the watch; a remote gateway runs the service on the server with a watch of its own,
and relays its reports and the desk's cancel over the wire. So the service never
learns where it runs, and a page never passes a callable to a gateway.
"""

from __future__ import annotations

import threading


class Watch:
    """Shared by the worker (``report``, ``cancelled``) and the window (``value``,
    ``cancel``). ``value`` is one tuple assignment, atomic under the GIL: the worker
    sets it per chunk and a GUI timer reads it (no signal per chunk)."""

    def __init__(self) -> None:
        self.value: tuple[int, int] = (0, 0)
        self._cancel = threading.Event()

    def report(self, done: int, total: int) -> None:
        self.value = (done, total)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def keywords(self) -> dict:
        """The two keywords a long service takes."""
        return {"progress": self.report, "cancel": self.cancelled}
