"""Live desks: every change made through the server is pushed to every signed-in desk
(server-sent events), from whichever server process made it.

On PostgreSQL the processes share changes through LISTEN/NOTIFY on one channel; each
process listens on a connection of its own and hands what it hears to its desks.
On SQLite (one server process) the process hands its own changes over directly.
An event names what changed, never any personal data: the service, a case id and
the ids the write changed (app.services.changes.Changed, as the writing desk got
it), which a desk turns into the same refresh as its own writes (app.ui.live). The
writing session's own stream does not carry it back (its desk refreshed already).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.services.changes import NOTHING, Changed
from app.storage.db import Database

CHANNEL = "hosho_changes"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more: a write that changed more
# ids than fit (an import, a batch) is announced in several events.
PAYLOAD_LIMIT = 7000
ORIGIN = "origin"  # the writing session, between server processes only
log = logging.getLogger("hosho.server.changes")


class Changes:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.shared = db.engine.dialect.name == "postgresql"
        self._subscribers: set[tuple[asyncio.AbstractEventLoop, asyncio.Queue, int | None]] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None

    # Desks --------------------------------------------------------------------------------
    def subscribe(self, session_id: int | None = None) -> asyncio.Queue:
        """The events for one desk's stream: all but its own session's."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=1000)
        with self._lock:
            self._subscribers.add((asyncio.get_running_loop(), queue, session_id))
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        with self._lock:
            self._subscribers = {s for s in self._subscribers if s[1] is not queue}

    def _deliver(self, event: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers)
        origin = event.get(ORIGIN)
        seen = {k: v for k, v in event.items() if k != ORIGIN}
        for loop, queue, session_id in targets:
            if origin is None or origin != session_id:
                loop.call_soon_threadsafe(_put, queue, seen)

    # Publishing ---------------------------------------------------------------------------
    def publish(self, event: dict[str, Any]) -> None:
        """After the change committed: to every process's desks."""
        if not self.shared:
            self._deliver(event)
            return
        with self.db.engine.begin() as conn:
            for payload in payloads(event):
                conn.execute(text("SELECT pg_notify(:channel, :payload)"),
                             {"channel": CHANNEL, "payload": payload})

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


def event_of(service_name: str, kwargs_and_args: dict[str, Any], result: Any,
             changed: Changed = NOTHING, origin: int | None = None) -> dict:
    """What a write changed: the case, when the call names one, and every id."""
    case_id = kwargs_and_args.get("case_id")
    if case_id is None and type(result).__name__ == "CaseView":
        case_id = getattr(result, "id", None)
    return {"service": service_name, "case_id": case_id if isinstance(case_id, int) else None,
            "changed": changed.as_dict(), ORIGIN: origin}


def payloads(event: dict[str, Any]) -> list[str]:
    """The event as NOTIFY payloads under PAYLOAD_LIMIT: the changed ids split across
    as many as it takes (each a whole event a desk reads on its own)."""
    whole = json.dumps(event)
    if len(whole) < PAYLOAD_LIMIT:
        return [whole]
    changed = event.get("changed") or {}
    flags = {k: v for k, v in changed.items() if not isinstance(v, list)}
    ids = [(k, v) for k, values in changed.items() if isinstance(values, list)
           for v in values]
    per = max(1, (PAYLOAD_LIMIT - len(json.dumps(event | {"changed": flags})) - 200) // 12)
    parts = []
    for start in range(0, len(ids), per):
        part: dict[str, Any] = dict(flags)
        for name, value in ids[start:start + per]:
            part.setdefault(name, []).append(value)
        parts.append(json.dumps(event | {"changed": part}))
    return parts or [json.dumps(event | {"changed": flags})]
