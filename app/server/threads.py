"""How many calls a server process runs at once.

The endpoints are plain functions that FastAPI runs on anyio's worker threads (40 by
default). Each call holds one database connection at a time, so a process runs no
more calls at once than its pool has connections (app.storage.db): a call beyond that
would wait inside a thread for a connection, holding the thread; the others wait
for a thread instead, in order.
"""

from __future__ import annotations

import os

import anyio.to_thread

from app.storage.db import POOL_OVERFLOW, POOL_SIZE

CALLS_AT_ONCE = POOL_SIZE + POOL_OVERFLOW


def calls_at_once() -> int:
    """CALLS_AT_ONCE, or HOSHO_SERVER_THREADS (fewer, up to the pool's connections)."""
    given = os.environ.get("HOSHO_SERVER_THREADS", "")
    return min(int(given), CALLS_AT_ONCE) if given.isdigit() and int(given) > 0 \
        else CALLS_AT_ONCE


def limit_threads() -> None:
    """Inside the server's event loop (its lifespan)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = calls_at_once()
