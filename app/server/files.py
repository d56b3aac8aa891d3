"""Files crossing the wire: a desk's uploads, and what a service wrote for the desk.

A desk names its files with app.services.gateway.FileIn / FileOut. Over the wire:

- ``FileIn``: the desk first streams the file to ``POST /files`` and gets an upload
  id; the call then names it as ``{"$hosho_file": "in", "upload": ID}``. The upload
  lands in the session's private spool folder (owner-only), counted as it streams:
  past the size limit it is refused (413) and removed, and a connection dropped
  mid-way leaves nothing (the partial file is removed; an upload id exists only for a
  complete file). Only the session that uploaded finds the id: the spool folder is
  named after the session's token, which the server binds, never after anything the
  desk says. An upload is used by one call, and removed after it.
- ``FileOut``: the call names ``{"$hosho_file": "out", "slot": N, "name": NAME,
  "folder": bool}``; the service gets a fresh path in the session's spool and writes
  there (whole or not at all, as it does on a desk). After the service returned (its
  transaction committed), the answer lists what it wrote; the desk fetches each file
  with ``GET /files/out/ID/NAME`` and then ``DELETE /files/out/ID``. A folder comes
  back as its list of files, each fetched on its own (flat: the services write no
  sub-folders): no archive to build on the server nor to unpack (and check) on the
  desk, and each file is streamed and placed atomically by the desk.

Only parameters the allow-list declares as files take a file (app.server.allow):
a plain path for them is refused, so a desk can never name a path on the server.
Spool entries are removed after their download, when the session signs out, and
after ``ttl_seconds`` in any case (swept now and then). Several server processes on
one host share the spool folder (HOSHO_SPOOL_DIR; the default is per OS user).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import NotFound, UserError, ValidationError
from app.core.files import PRIVATE_FILE, private_folder
from app.remote.codec import error_payload

log = logging.getLogger("hosho.server.files")
MB = 1024 * 1024
MARK = "$hosho_file"
IN, OUT, OUT_FOLDER = "in", "out", "out_folder"
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
SWEEP_EVERY = 60.0


class TooLarge(UserError):
    """A body past the server's limit (HTTP 413)."""


def too_large(limit: int, what: str = "file") -> TooLarge:
    size = f"{limit / MB:.0f} MB" if limit >= MB else f"{limit:,} bytes"
    if what == "file":
        return TooLarge(f"ファイルが大きすぎます（上限 {size}）。分けて取り込んでください。",
                        f"The file is too large (the limit is {size}); split it.")
    return TooLarge(f"要求が大きすぎます（上限 {size}）。", f"The request is too large "
                    f"(the limit is {size}).")


def _env_number(env: dict, name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"{name} は数値で指定してください: {raw}",
                        f"{name} takes a number: {raw}") from None
    if value <= 0:
        raise UserError(f"{name} は正の数で指定してください: {raw}",
                        f"{name} takes a positive number: {raw}")
    return value


@dataclass(frozen=True)
class Limits:
    """The server's configuration for files and bodies (environment of ``hosho serve``:
    HOSHO_UPLOAD_LIMIT_MB, HOSHO_CALL_LIMIT_MB, HOSHO_SPOOL_DIR, HOSHO_SPOOL_TTL_MINUTES)."""

    upload_bytes: int = 200 * MB
    call_bytes: int = 4 * MB
    spool: Path | None = None
    ttl_seconds: float = 3600.0

    @classmethod
    def from_environment(cls, env: dict | None = None) -> Limits:
        env = dict(os.environ if env is None else env)
        spool = env.get("HOSHO_SPOOL_DIR")
        return cls(upload_bytes=int(_env_number(env, "HOSHO_UPLOAD_LIMIT_MB", 200) * MB),
                   call_bytes=int(_env_number(env, "HOSHO_CALL_LIMIT_MB", 4) * MB),
                   spool=Path(spool) if spool else None,
                   ttl_seconds=_env_number(env, "HOSHO_SPOOL_TTL_MINUTES", 60) * 60)


def default_spool() -> Path:
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"hosho-spool-{user}"


def safe_name(name: Any, default: str) -> str:
    """A plain file name from what a desk says (never a path, never hidden)."""
    text = _UNSAFE.sub("_", str(name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()
    text = text.lstrip(".")[:120].strip()
    return text or default


def _no_such_file() -> NotFound:
    return NotFound("ファイルが見つかりません（期限切れか、別のセッションのものです）。",
                    "No such file (it expired, or belongs to another session).")


class Spool:
    """The server's spool folder: one private folder per session, under ``root``."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.root = private_folder(limits.spool or default_spool())
        self._swept = 0.0

    # Folders ------------------------------------------------------------------------------
    @staticmethod
    def key(token: str) -> str:
        return hashlib.sha256(b"hosho-spool\0" + token.encode("utf-8", "ignore")).hexdigest()[:32]

    def folder(self, token: str) -> Path:
        return self.root / self.key(token)

    def _entry(self, token: str, kind: str, entry_id: str) -> Path:
        if not isinstance(entry_id, str) or not _ID.match(entry_id):
            raise _no_such_file()
        return self.folder(token) / kind / entry_id

    def _new_entry(self, token: str, kind: str) -> tuple[str, Path]:
        self.sweep()
        entry_id = secrets.token_urlsafe(18)
        path = self.folder(token) / kind / entry_id
        for folder in (self.folder(token), path.parent, path):
            private_folder(folder)
        return entry_id, path

    # Uploads ------------------------------------------------------------------------------
    async def receive(self, token: str, name: str | None, chunks: AsyncIterator[bytes],
                      declared: int | None) -> dict[str, Any]:
        """Stream an upload into the spool; refused past the limit, removed if cut off."""
        limit = self.limits.upload_bytes
        if declared is not None and declared > limit:
            raise too_large(limit)
        upload_id, folder = self._new_entry(token, "in")
        part = folder / ".partial"
        size = 0
        try:
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         PRIVATE_FILE)
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    if size > limit:
                        raise too_large(limit)
                    out.write(chunk)
            if declared is not None and size != declared:
                raise ValidationError("file", "ファイルが途中で切れました。",
                                      "The file arrived incomplete.")
            os.replace(part, folder / safe_name(name, "upload"))
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return {"upload": upload_id, "size": size}

    def upload(self, token: str, upload_id: str) -> Path:
        folder = self._entry(token, "in", upload_id)
        try:
            found = [p for p in folder.iterdir() if not p.name.startswith(".")]
        except OSError:
            found = []
        if len(found) != 1 or not found[0].is_file():
            raise _no_such_file()
        return found[0]

    # Outputs ------------------------------------------------------------------------------
    def new_output(self, token: str, name: Any, folder: bool) -> tuple[str, Path]:
        out_id, path = self._new_entry(token, "out")
        return out_id, path / safe_name(name, "folder" if folder else "file")

    def written(self, path: Path) -> list[dict[str, Any]] | None:
        """What the service wrote at ``path``: its files (name, size), or None."""
        if path.is_file():
            return [{"name": path.name, "size": path.stat().st_size}]
        if path.is_dir():
            return [{"name": p.name, "size": p.stat().st_size} for p in sorted(path.iterdir())
                    if p.is_file() and not p.name.startswith(".")]
        return None

    def output_file(self, token: str, out_id: str, name: str) -> Path:
        folder = self._entry(token, "out", out_id)
        if safe_name(name, "") != name:
            raise _no_such_file()
        try:
            (top,) = [p for p in folder.iterdir()]
        except (OSError, ValueError):
            raise _no_such_file() from None
        path = top if top.is_file() and top.name == name else top / name
        if not path.is_file():
            raise _no_such_file()
        return path

    # Removing ------------------------------------------------------------------------------
    def discard(self, token: str, kind: str, entry_id: str) -> None:
        shutil.rmtree(self._entry(token, kind, entry_id), ignore_errors=True)

    def discard_path(self, path: Path) -> None:
        """An entry by a path inside it (an upload's file, an output's target)."""
        if self.root not in path.parents:
            return
        entry = path
        while entry.parent.name not in ("in", "out") and entry.parent != self.root:
            entry = entry.parent
        if self.root in entry.parents:
            shutil.rmtree(entry, ignore_errors=True)

    def end_session(self, token: str) -> None:
        shutil.rmtree(self.folder(token), ignore_errors=True)

    def sweep(self, force: bool = False) -> int:
        """Remove entries older than the time-out (now and then: at most once a minute)."""
        now = time.time()
        if not force and now - self._swept < SWEEP_EVERY:
            return 0
        self._swept, removed = now, 0
        cutoff = now - self.limits.ttl_seconds
        for entry in self.root.glob("*/*/*"):
            try:
                if entry.stat().st_mtime < cutoff:
                    shutil.rmtree(entry, ignore_errors=True)
                    removed += 1
            except OSError:
                continue
        for session in self.root.iterdir():
            try:
                if session.is_dir() and not any(session.glob("*/*")) \
                        and session.stat().st_mtime < cutoff:
                    shutil.rmtree(session, ignore_errors=True)
            except OSError:
                continue
        if removed:
            log.info("spool: %d expired entries removed", removed)
        return removed


@dataclass
class FileBinder:
    """A call's file arguments: markers from the desk made spool paths (bind_arguments)."""

    spool: Spool
    token: str
    uploads: list[Path] = field(default_factory=list)
    outputs: list[tuple[int, str, Path, bool]] = field(default_factory=list)  # slot, id, path

    def bind(self, name: str, direction: str, value: Any) -> Any:
        if value is None:
            return None  # the service's hint says whether None is allowed
        if not isinstance(value, dict) or MARK not in value:
            raise ValidationError(name, f"{name} はファイルとして渡してください。",
                                  f"{name} takes a file (FileIn or FileOut), not a path.")
        given = value.get(MARK)
        if direction == IN:
            if given != "in":
                raise ValidationError(name, f"{name} は読み込むファイルです。",
                                      f"{name} is a file the service reads (FileIn).")
            path = self.spool.upload(self.token, value.get("upload"))
            self.uploads.append(path)
            return str(path)
        if given != "out":
            raise ValidationError(name, f"{name} は書き出すファイルです。",
                                  f"{name} is a file the service writes (FileOut).")
        slot = value.get("slot")
        if not isinstance(slot, int) or any(slot == s for s, *_ in self.outputs):
            raise ValidationError(name, "ファイルの指定が正しくありません。",
                                  "Invalid file argument.")
        folder = direction == OUT_FOLDER or bool(value.get("folder"))
        out_id, path = self.spool.new_output(self.token, value.get("name"), folder)
        self.outputs.append((slot, out_id, path, folder))
        return str(path)

    def for_desk(self) -> dict[str, str]:
        """Each output's spool path -> the name of the desk's file (or folder) it is
        downloaded into: what the service records of it (app.core.files.recorded_path)."""
        return {str(path): path.name for _slot, _id, path, _folder in self.outputs}

    def offered(self) -> list[dict[str, Any]]:
        """After the service returned: what the desk may download (what was written)."""
        found = []
        for slot, out_id, path, _folder in self.outputs:
            files = self.spool.written(path)  # None: not written (nothing to fetch)
            if files is None:
                self.spool.discard_path(path)
            found.append({"slot": slot, "id": out_id, "folder": path.is_dir(),
                          "files": files, "written_as": str(path)})
        return found

    def done(self, succeeded: bool) -> None:
        """The uploads are used up; a failed call's outputs are nothing to fetch."""
        for path in self.uploads:
            self.spool.discard_path(path)
        if not succeeded:
            for _slot, _id, path, _folder in self.outputs:
                self.spool.discard_path(path)

    def discard_outputs(self) -> None:
        for _slot, _id, path, _folder in self.outputs:
            self.spool.discard_path(path)


class BodyLimit:
    """ASGI middleware: a request body (a call's JSON) past ``limit`` bytes is refused
    with 413 as it arrives, never buffered whole. Uploads (``/files``) count their own."""

    def __init__(self, app, limit: int, streamed: tuple[str, ...] = ("/files",)) -> None:
        self.app, self.limit, self.streamed = app, limit, streamed

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "DELETE") \
                or scope["path"].startswith(self.streamed):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        messages, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                messages.append(message)
                break
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send)
                return
            messages.append(message)
            if not message.get("more_body"):
                break

        async def replay():
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"error": error_payload(too_large(self.limit, "call"))}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
