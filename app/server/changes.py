"""Live desks: every change made through the server is pushed to every signed-in desk
(server-sent events), from whichever server process made it.

On PostgreSQL the processes share changes through LISTEN/NOTIFY on one channel; each
process listens on a connection of its own and hands what it hears to its desks.
On SQLite (one server process) the process hands its own changes over directly.
An event names what changed, never any personal data: the service and a case id.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.storage.db import Database

CHANNEL = "hosho_changes"
log = logging.getLogger("hosho.server.changes")


class Changes:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.shared = db.engine.dialect.name == "postgresql"
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None

    # Desks --------------------------------------------------------------------------------
    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.add((asyncio.get_running_loop(), queue))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers = {s for s in self._subscribers if s[1] is not queue}

    def _deliver(self, event: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers)
        for loop, queue in targets:
            loop.call_soon_threadsafe(_put, queue, event)

    # Publishing ---------------------------------------------------------------------------
    def publish(self, event: dict[str, Any]) -> None:
        """After the change committed: to every process's desks."""
        if not self.shared:
            self._deliver(event)
            return
        with self.db.engine.begin() as conn:
            conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                         {"channel": CHANNEL, "payload": json.dumps(event)})

    # Listening (PostgreSQL) ---------------------------------------------------------------
    def start(self) -> None:
        if self.shared and self._listener is None:
            self._listener = threading.Thread(target=self._listen, name="hosho-listen",
                                              daemon=True)
            self._listener.start()

    def stop(self) -> None:
        self._stop.set()

    def _listen(self) -> None:
        import psycopg

        url = make_url(self.db.url).set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self._deliver(json.loads(note.payload))
            except psycopg.OperationalError:
                log.warning("change listener lost its connection; reconnecting")
                self._stop.wait(1.0)


def _put(queue: asyncio.Queue, event: dict[str, Any]) -> None:
    if not queue.full():  # a desk that reads nothing is not waited for
        queue.put_nowait(event)


def event_of(service_name: str, kwargs_and_args: dict[str, Any], result: Any) -> dict:
    """What a write changed: the case, when the call names one."""
    case_id = kwargs_and_args.get("case_id")
    if case_id is None and type(result).__name__ == "CaseView":
        case_id = getattr(result, "id", None)
    return {"service": service_name, "case_id": case_id if isinstance(case_id, int) else None}
