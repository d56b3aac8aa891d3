"""The remote gateway: a desk of a centre calls the services through the server.

The same protocol as app.services.gateway.InProcessGateway: ``read`` and ``write``
name a service function and its arguments. The server runs it (or refuses it) with
the operator of this desk's session, whatever ``actor`` says here: ``actor`` is only
what the window shows (name, role). Results come back as the same records and
errors as the same classes (app.remote.codec).

Files named by the page (FileIn, FileOut: app.services.gateway) cross the wire: a
FileIn is streamed to the server first (its upload id goes in the call), a FileOut
becomes a file the server's service writes in its spool, downloaded after the call
into the desk's path, whole or not at all (beside it under a temporary name, then
renamed; owner-only, as the services write on a desk). A watched call
(``watch=``) runs as a job at the server: its progress comes back into the watch as
it streams, and the watch's cancel is sent to the server (app.server.jobs).
"""

from __future__ import annotations

import json
import os
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import suppress
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from app.core.errors import EnvironmentProblem, UserError
from app.core.files import Staging, ensure_folder, written_into_place
from app.domain.roles import Actor
from app.remote.codec import decode, decode_result, encode, rebuild_error
from app.services import second_factor
from app.services.changes import Changed
from app.services.context import SessionEnded
from app.services.gateway import (
    FileIn,
    FileOut,
    Outcome,
    Service,
    checked_target,
    service_name,
)
from app.services.imports import ImportCancelled
from app.services.operators import OperatorView
from app.services.progress import Watch
from app.services.second_factor import Enrolment

TIMEOUT = httpx.Timeout(60.0, connect=10.0)
MARK = "$hosho_file"  # app.server.files
CHUNK = 1 << 20
CANCEL_POLL = 0.1


def unreachable(url: str, exc: Exception) -> EnvironmentProblem:
    return EnvironmentProblem(f"サーバー {url} に接続できません（{type(exc).__name__}）。",
                              f"Cannot reach the server {url} ({exc}).")


class RemoteGateway:
    """A session at one centre server. Thread-safe: httpx.Client is."""

    def __init__(self, url: str, *, ca_file: str | None = None, token: str | None = None,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.stage: str | None = "active" if token else None
        self.operator: OperatorView | None = None
        self.actor: Actor | None = None
        self.demo_clock = False  # the server runs the demo's clock (its /time says)
        self._closed = threading.Event()
        # The centre's own CA when given (a private PKI), else the system's.
        verify = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self.client = httpx.Client(base_url=self.url, timeout=TIMEOUT, verify=verify,
                                   transport=transport)

    # The wire ----------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = self._headers()
        try:
            response = self.client.post(path, json=body or {}, headers=headers)
        except httpx.HTTPError as exc:
            raise unreachable(self.url, exc) from None
        return self._answer(response)

    def _answer(self, response: httpx.Response) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.is_success and isinstance(data, dict):
            return data
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            raise rebuild_error(data["error"])
        raise EnvironmentProblem(f"サーバーの応答が読めません（{response.status_code}）。",
                                 f"Unreadable answer from the server ({response.status_code}).")

    # Sign-in ------------------------------------------------------------------------------
    def _signed(self, data: dict[str, Any]) -> OperatorView:
        self.stage = data.get("stage", self.stage)
        self.operator = decode(OperatorView, data["operator"])
        self.actor = self.operator.as_actor()
        return self.operator

    def sign_in(self, login: str, password: str) -> OperatorView:
        """The password step; ``stage`` then says what the server wants next:
        "code", "enrol", "new_password" or "active"."""
        self.token = None
        data = self._post("/auth/sign-in", {"login": login, "password": password})
        self.token = data["token"]
        return self._signed(data)

    def verify_code(self, code: str) -> OperatorView:
        return self._signed(self._post("/auth/code", {"code": code}))

    def begin_enrolment(self) -> Enrolment:
        return decode(Enrolment, self._post("/auth/enrol/begin")["enrolment"])

    def confirm_enrolment(self, code: str) -> list[str]:
        data = self._post("/auth/enrol/confirm", {"code": code})
        self._signed(data)
        return list(data["recovery_codes"])

    def change_password(self, old_password: str, new_password: str) -> OperatorView:
        return self._signed(self._post("/auth/new-password", {
            "old_password": old_password, "new_password": new_password}))

    def unlock(self, password: str, code: str | None = None) -> OperatorView:
        return self._signed(self._post("/auth/unlock", {"password": password, "code": code}))

    def sign_out(self) -> None:
        if self.token:
            self._post("/auth/sign-out")
        self.token, self.stage = None, None

    # The gateway protocol ------------------------------------------------------------------
    def _call(self, kind: str, service: Service, args: tuple, kwargs: dict,
              watch: Watch | None = None) -> tuple[dict, list]:
        if self.token is None:
            raise SessionEnded("サインインしていません。", "Not signed in.")
        outs: list[FileOut] = []
        args, kwargs = self._wired(args, outs, watch), self._wired(kwargs, outs, watch)
        body = {"service": service_name(service), "kind": kind,
                "args": encode(list(args)), "kwargs": encode(kwargs)}
        if watch is None:
            data = self._post("/call", body)
        else:
            data = self._job(body | {"job": True}, watch)
        return data, self._fetched(data, outs)

    def read(self, service: Service, *args: Any, watch: Watch | None = None,
             **kwargs: Any) -> Any:
        data, _outs = self._call("read", service, args, kwargs, watch)
        return decode_result(service, data.get("result"))

    def write(self, service: Service, *args: Any, watch: Watch | None = None,
              **kwargs: Any) -> Outcome:
        """The same answer as in-process: the service's value and what it changed (the
        server records it as the use case runs there)."""
        if service is second_factor.unlock_session:  # the idle lock: a sign-in step
            return Outcome(self.unlock(*args, **kwargs))
        data, _outs = self._call("write", service, args, kwargs, watch)
        return Outcome(decode_result(service, data.get("result")),
                       Changed.from_dict(data.get("changed") or {}))

    # Files ---------------------------------------------------------------------------------
    def _wired(self, values: Any, outs: list[FileOut], watch: Watch | None) -> Any:
        """``values`` with each FileIn uploaded and named by its upload id, and each
        FileOut named by its slot (the files the server's answer lists by slot)."""
        if isinstance(values, dict):
            return {k: self._wired(v, outs, watch) for k, v in values.items()}
        if isinstance(values, tuple | list):
            return type(values)(self._wired(v, outs, watch) for v in values)
        if isinstance(values, FileIn):
            return {MARK: "in", "upload": self.upload(values.path, watch)}
        if isinstance(values, FileOut):
            outs.append(checked_target(values))
            return {MARK: "out", "slot": len(outs) - 1, "name": Path(values.path).name,
                    "folder": values.folder}
        return values

    def upload(self, path: str | os.PathLike[str], watch: Watch | None = None) -> str:
        """Stream a desk file to the server's spool; its upload id (one call's use)."""
        path = Path(path)
        try:
            size = path.stat().st_size
            handle = path.open("rb")
        except OSError as exc:
            raise UserError(f"ファイルを開けません: {path.name}（{exc.strerror}）",
                            f"Cannot open {path.name} ({exc.strerror}).") from None

        def chunks() -> Iterator[bytes]:
            sent = 0
            with handle:
                while chunk := handle.read(CHUNK):
                    if watch is not None:
                        if watch.cancelled():
                            raise _Cancelled
                        sent += len(chunk)
                        watch.report(sent, size)
                    yield chunk

        headers = self._headers() | {"Content-Length": str(size),
                                     "Content-Type": "application/octet-stream",
                                     "X-File-Name": quote(path.name)}
        try:
            response = self.client.post("/files", content=chunks(), headers=headers)
        except _Cancelled:
            raise _cancelled() from None
        except httpx.HTTPError as exc:
            raise unreachable(self.url, exc) from None
        finally:
            handle.close()
        return str(self._answer(response)["upload"])

    def _fetched(self, data: dict, outs: list[FileOut]) -> list[Path]:
        """Download what the service wrote into the desk's FileOut paths; the answer's
        mentions of the server's paths become the desk's."""
        placed: list[Path] = []
        renames: list[tuple[str, str]] = []
        for offered in data.get("files") or []:
            slot = offered.get("slot")
            if not isinstance(slot, int) or not 0 <= slot < len(outs):
                continue
            target = Path(outs[slot].path)
            renames.append((str(offered.get("written_as") or ""), str(target)))
            files = offered.get("files")
            if files is None:
                continue
            placed += self._download(str(offered["id"]), target, bool(offered.get("folder")),
                                     files)
        if renames and "result" in data:
            data["result"] = _renamed(data["result"], [r for r in renames if r[0]])
        return placed

    def _download(self, out_id: str, target: Path, folder: bool, files: list[dict]
                  ) -> list[Path]:
        try:
            if not folder:
                (only,) = files
                with written_into_place(target) as temp:
                    self._fetch(out_id, only, temp)
                return [target]
            ensure_folder(target)
            with Staging() as staging:
                for entry in files:
                    temp = staging.new(target / _plain(entry.get("name")))
                    self._fetch(out_id, entry, temp)
                return staging.place_all()
        finally:
            with suppress(httpx.HTTPError):  # else the server removes it after its time-out
                self.client.delete(f"/files/out/{out_id}", headers=self._headers())

    def _fetch(self, out_id: str, entry: dict, temp: Path) -> None:
        name = _plain(entry.get("name"))
        written = 0
        try:
            with self.client.stream("GET", f"/files/out/{out_id}/{quote(name)}",
                                    headers=self._headers()) as response:
                if response.status_code != 200:
                    response.read()
                    self._answer(response)
                with temp.open("wb") as out:
                    for chunk in response.iter_bytes(CHUNK):
                        out.write(chunk)
                        written += len(chunk)
        except httpx.HTTPError as exc:
            raise unreachable(self.url, exc) from None
        if written != entry.get("size"):
            raise EnvironmentProblem(f"{name} のダウンロードが途中で切れました。",
                                     f"The download of {name} was cut off.")

    # Jobs ----------------------------------------------------------------------------------
    def _job(self, body: dict, watch: Watch) -> dict:
        """The call as a job: progress into ``watch`` as it streams, its cancel relayed."""
        stop = threading.Event()
        try:
            with self.client.stream("POST", "/call", json=body,
                                    headers=self._headers()) as response:
                if response.status_code != 200:
                    response.read()
                    return self._answer(response)
                for raw in response.iter_lines():
                    if not raw.strip():
                        continue
                    message = json.loads(raw)
                    if "job" in message:
                        threading.Thread(target=self._relay_cancel,
                                         args=(str(message["job"]), watch, stop),
                                         daemon=True, name="hosho-cancel").start()
                    elif "progress" in message:
                        watch.report(*message["progress"])
                    elif "error" in message:
                        raise rebuild_error(message["error"])
                    elif "result" in message:
                        return message
        except httpx.HTTPError as exc:
            raise unreachable(self.url, exc) from None
        except ValueError:
            pass
        finally:
            stop.set()
        raise EnvironmentProblem("サーバーの応答が途中で切れました。",
                                 "The server's answer was cut off.")

    def _relay_cancel(self, job_id: str, watch: Watch, stop: threading.Event) -> None:
        while not stop.wait(CANCEL_POLL):
            if watch.cancelled():
                # if unreachable, the job's own connection tells the server the desk is gone
                with suppress(httpx.HTTPError):
                    self.client.post(f"/jobs/{job_id}/cancel", headers=self._headers())
                return

    def now(self) -> datetime:
        try:
            response = self.client.get("/time", headers=self._headers())
        except (httpx.HTTPError, RuntimeError) as exc:  # RuntimeError: closed already
            raise unreachable(self.url, exc) from None
        answer = self._answer(response)
        self.demo_clock = bool(answer.get("demo"))
        return datetime.fromisoformat(answer["now"])

    # Live changes -------------------------------------------------------------------------
    def watch(self, on_change: Callable[[dict[str, Any]], None]) -> threading.Thread:
        """Call ``on_change(event)`` (on a thread of its own) for every change any desk
        makes at the server: {"service": …, "case_id": … or None}. Reconnects until
        ``close``."""
        thread = threading.Thread(target=self._watch, args=(on_change,), daemon=True,
                                  name="hosho-watch")
        thread.start()
        return thread

    def _watch(self, on_change: Callable[[dict[str, Any]], None]) -> None:
        while not self._closed.is_set():
            try:
                headers = {"Authorization": f"Bearer {self.token}"}
                with self.client.stream("GET", "/events", headers=headers,
                                        timeout=httpx.Timeout(10.0)) as response:
                    if response.status_code != 200:
                        return  # the session is over: nothing more will come
                    for line in response.iter_lines():
                        if self._closed.is_set():
                            return
                        if line.startswith("data: "):
                            on_change(json.loads(line[6:]))
            except (httpx.HTTPError, ValueError, RuntimeError):
                self._closed.wait(1.0)

    def close(self) -> None:
        self._closed.set()
        self.client.close()


class _Cancelled(Exception):
    """The watch's cancel, heard while uploading."""


def _cancelled() -> UserError:
    return ImportCancelled()  # nothing reached the server's database


def _plain(name: Any) -> str:
    """A file name the server sent: a plain name, never a path (nor a hidden file)."""
    text = str(name or "")
    if not text or text != Path(text).name or text.startswith(".") or "\\" in text:
        raise EnvironmentProblem("サーバーが不正なファイル名を返しました。",
                                 "The server sent an invalid file name.")
    return text


def _renamed(value: Any, renames: list[tuple[str, str]]) -> Any:
    """The server's spool paths in an answer as the desk's paths they stand for."""
    if isinstance(value, str):
        for server, desk in renames:
            if value == server:
                return desk
            if value.startswith(server + "/"):
                return str(Path(desk, *value[len(server) + 1:].split("/")))
        return value
    if isinstance(value, list):
        return [_renamed(v, renames) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v, renames) for k, v in value.items()}
    return value
