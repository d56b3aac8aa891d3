"""Files the program writes: owner-only, whole or not at all, and no leftovers after a crash.

Everything the program writes may hold personal data (letters, exports, bank
files, reports, backups, logs), so every file is created readable and writable
by its owner only (0600) and every folder of the program's own is 0700. A file
is written under a temporary name beside its target (a rename within one
folder is atomic, across file systems it is not) and renamed into place when
complete. Each temporary name is first listed in a journal in the program's
temporary folder (``tmp/`` in the user data folder); a journal whose process
is gone (killed, crashed, power cut) is cleaned up at the next start:
``clean_stale_temporaries`` removes the temporary files it lists.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path

PRIVATE_FILE = 0o600
PRIVATE_FOLDER = 0o700
_TEMP_NAME = re.compile(r"^\..+\.[0-9a-f]{12}\.part$")
_JOURNAL_SUFFIX = ".pending"
_SQLITE_SIDES = ("-wal", "-shm", "-journal")
log = logging.getLogger(__name__)


# -- folders ----------------------------------------------------------------------------
def private_folder(path: str | Path) -> Path:
    """A folder of the program's own (data, logs, temporary files): created, and tightened
    if it exists, to owner-only."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
    _tighten(folder, PRIVATE_FOLDER)
    return folder


def ensure_folder(path: str | Path) -> Path:
    """A folder the user named (where letters or an export go): an existing one is left
    as the user set it up; a missing one is created owner-only."""
    folder = Path(path)
    if not folder.is_dir():
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER)
        for created in missing:
            _tighten(created, PRIVATE_FOLDER)
    return folder


def _tighten(path: Path, mode: int) -> None:
    if os.name != "posix":
        return  # Windows: the user profile's folders are private already
    with suppress(OSError):  # a folder someone else owns is left as it is
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o777 != mode:
            os.chmod(path, mode)


def private_file(path: str | Path) -> Path:
    """Create ``path`` empty and owner-only if missing; tighten it if it exists."""
    target = Path(path)
    ensure_folder(target.parent)
    fd = os.open(target, os.O_CREAT | os.O_WRONLY, PRIVATE_FILE)
    os.close(fd)
    _tighten(target, PRIVATE_FILE)
    return target


# -- the journal of temporary files -------------------------------------------------------
def temporary_folder() -> Path:
    from app.core.paths import user_data_dir

    return private_folder(user_data_dir() / "tmp")


def _lock(fd: int) -> bool:
    """Hold an exclusive lock on the journal while its process lives; False if taken."""
    try:
        if os.name == "posix":
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


class Staging:
    """The temporary files of one job. ``new(target)`` gives a temporary path beside the
    target, ``place`` renames it into place; whatever was not placed is removed when the
    block ends (and, after a crash, at the next start)."""

    def __init__(self) -> None:
        self._journal = temporary_folder() / (
            f"{os.getpid()}-{secrets.token_hex(6)}{_JOURNAL_SUFFIX}")
        self._fd = os.open(self._journal, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_APPEND,
                           PRIVATE_FILE)
        _lock(self._fd)
        self.pending: dict[Path, Path] = {}  # temporary -> target

    def new(self, target: str | Path, stem: str | None = None) -> Path:
        target = Path(target)
        temp = target.parent / f".{stem or target.name}.{secrets.token_hex(6)}.part"
        # listed before it exists: a crash right after creating it still finds it
        os.write(self._fd, os.fsencode(str(temp.resolve())) + b"\n")
        fd = os.open(temp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
        os.close(fd)
        self.pending[temp] = target
        return temp

    def place(self, temp: Path, target: str | Path | None = None) -> Path:
        """Rename ``temp`` into place (its target unless one is given), its data on disk first."""
        final = Path(target) if target is not None else self.pending[temp]
        with open(temp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, final)
        self.pending.pop(temp, None)
        _sync_folder(final.parent)
        return final

    def place_all(self) -> list[Path]:
        return [self.place(temp) for temp in list(self.pending)]

    def discard(self, temp: Path) -> None:
        Path(temp).unlink(missing_ok=True)
        self.pending.pop(temp, None)

    def keep(self, temp: Path) -> None:
        """Leave ``temp`` where it is (the caller told the user where to find it)."""
        self.pending.pop(temp, None)

    def close(self) -> None:
        for temp in list(self.pending):
            self.discard(temp)
        os.close(self._fd)
        self._journal.unlink(missing_ok=True)

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()


def _sync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def clean_stale_temporaries(min_age_seconds: float = 60.0) -> int:
    """Remove the temporary files listed by journals whose process is gone; returns how
    many files were removed. A journal still locked belongs to a live process (another
    desk's program on this machine) and is left alone."""
    removed = 0
    for journal in temporary_folder().glob(f"*{_JOURNAL_SUFFIX}"):
        listed = _stale_listing(journal, min_age_seconds)
        if listed is None:
            continue
        for raw in listed:
            temp = Path(os.fsdecode(raw))
            if not _TEMP_NAME.match(temp.name):
                continue  # never anything but the program's own temporary names
            # with what SQLite keeps beside a temporary database (a backup being checked)
            for path in (temp, *(temp.with_name(temp.name + s) for s in _SQLITE_SIDES)):
                if path.is_file():
                    path.unlink(missing_ok=True)
                    removed += 1
        journal.unlink(missing_ok=True)
    if removed:
        log.info("removed %d temporary files left by an interrupted run", removed)
    return removed


def _stale_listing(journal: Path, min_age_seconds: float) -> list[bytes] | None:
    """The paths a dead process's journal lists; None while its process lives."""
    try:
        fd = os.open(journal, os.O_RDWR)
    except OSError:
        return None
    try:
        if not _lock(fd):
            return None
        data = b""
        while chunk := os.read(fd, 1 << 16):  # through the locking handle (Windows)
            data += chunk
        if not data and time.time() - os.fstat(fd).st_mtime < min_age_seconds:
            return None  # just created by a process about to lock it
        return data.splitlines()
    finally:
        os.close(fd)  # closed before the unlink: Windows cannot remove an open file


# -- whole files --------------------------------------------------------------------------
@contextmanager
def written_into_place(path: str | Path) -> Iterator[Path]:
    """Yield an owner-only temporary path beside ``path``; move it into place only if the
    block ends without an error, so a reader never finds half a report or half a bank
    file, and a crash leaves nothing (see ``clean_stale_temporaries``)."""
    target = Path(path)
    ensure_folder(target.parent)
    with Staging() as staging:
        temp = staging.new(target)
        yield temp
        staging.place(temp)


# -- what a record names ----------------------------------------------------------------
# The files a centre server's service writes for a desk to download: spool path -> the
# name the desk saves it as. Set by the server around one call, in the thread that
# runs it (app.server.app); empty on a single desk.
_FOR_A_DESK: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("hosho_for_a_desk",
                                                                  default=())


@contextmanager
def written_for_a_desk(files: dict[str, str]) -> Iterator[None]:
    """While a service runs at the centre: ``files`` maps each spool path it writes to
    the name of the desk's file it stands for (app.core.files.recorded_path)."""
    token = _FOR_A_DESK.set(tuple(files.items()))
    try:
        yield
    finally:
        _FOR_A_DESK.reset(token)


def recorded_path(path: str | Path) -> str:
    """How a record (a letter batch, an audit event) names a file a service wrote: its
    path on a single desk; at a centre, the name of the desk's file it was downloaded
    into (``per-case/H-0000001-8_guidance_….pdf`` inside a folder), never the path of
    the server's spool, which is gone after the download and nobody's business."""
    text = str(path)
    for spool, desk in _FOR_A_DESK.get():
        if text == spool:
            return desk
        if text.startswith(spool + os.sep):
            return "/".join((desk, *Path(text[len(spool) + 1:]).parts))
    return text
