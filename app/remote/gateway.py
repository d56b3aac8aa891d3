"""The remote gateway: a desk of a centre calls the services through the server.

The same protocol as app.services.gateway.InProcessGateway: ``read`` and ``write``
name a service function and its arguments. The server runs it (or refuses it) with
the operator of this desk's session, whatever ``actor`` says here: ``actor`` is only
what the window shows (name, role). Results come back as the same records and
errors as the same classes (app.remote.codec).
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx

from app.core.errors import EnvironmentProblem, UserError
from app.domain.roles import Actor
from app.remote.codec import decode, decode_result, encode, rebuild_error
from app.services import second_factor
from app.services.changes import Changed
from app.services.context import SessionEnded
from app.services.gateway import Outcome, Service, service_name
from app.services.operators import OperatorView
from app.services.second_factor import Enrolment

TIMEOUT = httpx.Timeout(60.0, connect=10.0)


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
        self._closed = threading.Event()
        # The centre's own CA when given (a private PKI), else the system's.
        verify = ssl.create_default_context(cafile=ca_file) if ca_file else True
        self.client = httpx.Client(base_url=self.url, timeout=TIMEOUT, verify=verify,
                                   transport=transport)

    @property
    def ctx(self):
        """A page not yet on the gateway asks for the in-process context: a centre desk
        has none (it holds no database), so say so instead of failing obscurely."""
        raise UserError("この画面はセンターモード（--server）ではまだ使えません。",
                        "This page is not available on a centre desk (--server) yet.")

    # The wire ----------------------------------------------------------------------------
    def _post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
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
    def _call(self, kind: str, service: Service, args: tuple, kwargs: dict) -> dict:
        if self.token is None:
            raise SessionEnded("サインインしていません。", "Not signed in.")
        return self._post("/call", {"service": service_name(service), "kind": kind,
                                    "args": encode(list(args)), "kwargs": encode(kwargs)})

    def read(self, service: Service, *args: Any, **kwargs: Any) -> Any:
        return decode_result(service, self._call("read", service, args, kwargs).get("result"))

    def write(self, service: Service, *args: Any, **kwargs: Any) -> Outcome:
        """The same answer as in-process: the service's value and what it changed (the
        server records it as the use case runs there)."""
        if service is second_factor.unlock_session:  # the idle lock: a sign-in step
            return Outcome(self.unlock(*args, **kwargs))
        data = self._call("write", service, args, kwargs)
        return Outcome(decode_result(service, data.get("result")),
                       Changed.from_dict(data.get("changed") or {}))

    def now(self) -> datetime:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            response = self.client.get("/time", headers=headers)
        except httpx.HTTPError as exc:
            raise unreachable(self.url, exc) from None
        return datetime.fromisoformat(self._answer(response)["now"])

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
