"""Long work over the wire: a call run as a job, its progress streamed, its cancel heard.

A desk that watches its call (``gateway.write(..., watch=w)``) posts ``/call`` with
``"job": true``. The server validates the call as any other (errors come back as
usual), then answers a stream of JSON lines on that same request:

    {"job": ID}                       first: the id the desk cancels by
    {"progress": [done, total]}       at most every PROGRESS_EVERY seconds
    {"alive": true}                   when nothing moved for a while
    {"result": …, "changed": …, "files": […]}   or   {"error": …, "status": N}

The service runs in a worker thread of the process that took the request, with a
``ServerWatch`` as its ``progress``/``cancel`` keywords. Its progress lives in that
process and reaches the desk on the call's own connection, so nothing has to route
the desk back to it when several server processes share the port. A cancel
(``POST /jobs/ID/cancel``) may land at any process: the one holding the job sets its
watch; any other leaves a cancel mark in the session's spool folder, which the
running job's watch looks for (the processes of one host share the spool). A dropped
connection cancels the job too. The services are all or nothing: a cancelled import
or batch rolls back and leaves no file; one that committed before the cancel arrived
stays whole (and its answer says so, if the desk is still there to hear it).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from app.core.errors import ConflictError, NotFound
from app.services.progress import Watch

log = logging.getLogger("hosho.server.jobs")
PROGRESS_EVERY = 0.2
ALIVE_EVERY = 5.0
MARK_CHECK_EVERY = 0.25
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class ServerWatch(Watch):
    """A watch also cancelled by a mark file (a cancel that reached another process)."""

    def __init__(self, mark: Path) -> None:
        super().__init__()
        self.mark = mark
        self._checked = 0.0

    def cancelled(self) -> bool:
        if super().cancelled():
            return True
        now = time.monotonic()
        if now - self._checked >= MARK_CHECK_EVERY:
            self._checked = now
            if self.mark.exists():
                self.cancel()
                return True
        return False


class Jobs:
    """The jobs running in this process, by id, with the session folder they belong to."""

    def __init__(self) -> None:
        self._running: dict[str, tuple[str, ServerWatch]] = {}
        self._lock = threading.Lock()

    def new(self, session_folder: Path) -> tuple[str, ServerWatch]:
        job_id = secrets.token_urlsafe(18)
        watch = ServerWatch(session_folder / "jobs" / f"{job_id}.cancel")
        with self._lock:
            self._running[job_id] = (str(session_folder), watch)
        return job_id, watch

    def finished(self, job_id: str) -> None:
        with self._lock:
            found = self._running.pop(job_id, None)
        if found:
            found[1].mark.unlink(missing_ok=True)

    def _local(self, session_folder: Path, job_id: str) -> ServerWatch | None:
        with self._lock:
            found = self._running.get(job_id)
        return found[1] if found and found[0] == str(session_folder) else None

    def cancel(self, session_folder: Path, job_id: str) -> str:
        """"cancelling" here, or "asked" (a mark for the process that holds it)."""
        if not isinstance(job_id, str) or not _ID.match(job_id):
            raise _no_such_job()
        watch = self._local(session_folder, job_id)
        if watch is not None:
            watch.cancel()
            return "cancelling"
        marks = session_folder / "jobs"
        marks.mkdir(parents=True, exist_ok=True, mode=0o700)
        (marks / f"{job_id}.cancel").touch(mode=0o600)
        return "asked"

    def progress(self, session_folder: Path, job_id: str) -> tuple[int, int]:
        watch = self._local(session_folder, job_id)
        if watch is None:
            raise ConflictError(
                "この処理はこのサーバープロセスでは動いていません（終わったか、別のプロセス"
                "です）。進み具合は呼び出しの応答で届きます。",
                "That job is not running in this server process (it ended, or another "
                "process runs it); its progress comes on the call's own answer.")
        return watch.value


def _no_such_job() -> NotFound:
    return NotFound("その処理は見つかりません。", "No such job.")


def line(value: dict[str, Any]) -> bytes:
    return (json.dumps(value) + "\n").encode()


async def stream(job_id: str, watch: ServerWatch, run: Callable[[], dict[str, Any]],
                 on_gone: Callable[[], None]) -> AsyncIterator[bytes]:
    """The job's answer as JSON lines. ``run`` (in a worker thread) answers the last
    line's dict itself, errors included; ``on_gone`` runs if the desk went away."""
    yield line({"job": job_id})
    # What the desk was shown is read before the work starts: a job quick enough to
    # report its only progress before this line ran would otherwise never send it.
    shown, said = watch.value, time.monotonic()
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(None, run)
    finished = False
    try:
        while not future.done():
            await asyncio.wait({future}, timeout=PROGRESS_EVERY)
            if watch.value != shown:
                shown, said = watch.value, time.monotonic()
                yield line({"progress": list(shown)})
            elif time.monotonic() - said > ALIVE_EVERY:
                said = time.monotonic()
                yield line({"alive": True})
        answer = future.result()
        if shown != watch.value and "result" in answer:
            yield line({"progress": list(watch.value)})
        finished = True
        yield line(answer)
    finally:
        if not finished:
            # The desk went away (or the server is stopping): the service hears a
            # cancel and rolls back; what it wrote for the desk is removed.
            watch.cancel()
            future.add_done_callback(lambda _f: on_gone())
            log.info("job %s: the desk went away; cancelled", job_id[:6])
