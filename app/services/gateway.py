"""The one interface the window (and a remote desk) talks to: a gateway to the services.

A page never holds a database or an ``AppContext``. It asks its desk to ``read`` or
``write`` through a gateway, naming a service function of ``app.services`` and the
arguments after its context (and, for a write, after the acting operator):

    gateway.read(payouts.batch_items, batch_id)          # payouts.batch_items(ctx, batch_id)
    gateway.write(cases.move_case, case_id, request)     # cases.move_case(ctx, actor, ...)

``InProcessGateway`` calls the function here, with this desk's context and operator
(the single desk on SQLite). A remote gateway (the centre, ``hosho --server``) sends
the function's name (``service_name``) and the arguments to the server, which looks
the name up on its allow-list, validates the arguments, binds the operator from its
own session, never from the desk, and returns the same records and the same errors.
So that both behave alike, a service reachable through a gateway takes and returns
plain values only (records of app.services.views and friends, dataclasses, dates,
ints, strings), never a session, an ORM row or a callable.

A write answers an ``Outcome``: the service's own return value and what it changed
(app.services.changes, collected from the audit events the use case wrote; a remote
gateway receives it beside the value). Long work is watched: ``watch=`` (a
app.services.progress.Watch) becomes the service's ``progress``/``cancel`` keywords.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from app.core.clock import DemoClock
from app.core.errors import UserError
from app.domain.roles import Actor
from app.services import changes, sessions
from app.services.changes import Changed
from app.services.context import AppContext
from app.services.progress import Watch

Service = Callable[..., Any]


def service_name(service: Service) -> str:
    """``payouts.batch_items`` for app.services.payouts.batch_items: the name a remote
    gateway sends and the server's allow-list knows."""
    module = service.__module__
    if not module.startswith("app.services."):
        raise ValueError(f"{module}.{service.__qualname__} is not a service of app.services")
    return f"{module.removeprefix('app.services.')}.{service.__qualname__}"


@dataclass(frozen=True)
class Outcome:
    """A write's answer: the service's value, and what the write changed."""

    value: Any
    changed: Changed = changes.NOTHING


@dataclass(frozen=True)
class FileIn:
    """A file on the desk that the service reads (an import, a result file)."""

    path: str


@dataclass(frozen=True)
class FileOut:
    """A file (or, with ``folder``, a folder of files) on the desk that the service
    writes (a transfer file, a letter batch, an export)."""

    path: str
    folder: bool = False


def checked_target(out: FileOut) -> FileOut:
    """Refuse, before the service runs, a file to write that names an existing folder
    (or a folder that names a file): else the service would record its batch or export
    as made, then fail to put it in place (at a centre: after the server committed)."""
    target = Path(out.path)
    if not out.folder and target.is_dir():
        raise UserError(f"フォルダーが指定されました。ファイル名を指定してください: {target}",
                        f"{target} is a folder: name the file to write.")
    if out.folder and target.exists() and not target.is_dir():
        raise UserError(f"ファイルが指定されました。フォルダーを指定してください: {target}",
                        f"{target} is a file: name a folder to write into.")
    above = next((p for p in target.parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise UserError(f"{above} はフォルダーではないため、その中に書き出せません: {target}",
                        f"{above} is not a folder: nothing can be written at {target}.")
    return out


def local_paths(values: Any) -> Any:
    """``values`` (args tuple or kwargs dict) with FileIn/FileOut as their paths."""
    if isinstance(values, dict):
        return {k: local_paths(v) for k, v in values.items()}
    if isinstance(values, tuple | list):
        return type(values)(local_paths(v) for v in values)
    if isinstance(values, FileOut):
        return checked_target(values).path
    if isinstance(values, FileIn):
        return values.path
    return values


class Gateway(Protocol):
    """What a desk needs of the services, wherever they run."""

    actor: Actor

    def read(self, service: Service, *args: Any, watch: Watch | None = None,
             **kwargs: Any) -> Any:
        """``service(ctx, *args, **kwargs)``: reads, and the services open to everyone."""

    def write(self, service: Service, *args: Any, watch: Watch | None = None,
              **kwargs: Any) -> Outcome:
        """``service(ctx, actor, *args, **kwargs)``: a use case on the operator's behalf,
        answered with what it changed."""

    def sign_out(self) -> None:
        """End this desk's session where it is kept (audited, the operator's held
        cases back in the queue); afterwards the gateway's actor acts no more."""

    def now(self) -> datetime:
        """The services' clock (the demo's or a test's fixed clock in-process; the
        server's in the centre): pages stamp file names and propose times with it."""


class InProcessGateway:
    """The services called in this process, on this desk's database."""

    def __init__(self, ctx: AppContext, actor: Actor) -> None:
        self.ctx, self.actor = ctx, actor

    def read(self, service: Service, *args: Any, watch: Watch | None = None,
             **kwargs: Any) -> Any:
        service_name(service)  # the same allow-list a server keeps: app.services only
        return service(self.ctx, *local_paths(args), **_watched(local_paths(kwargs), watch))

    def write(self, service: Service, *args: Any, watch: Watch | None = None,
              **kwargs: Any) -> Outcome:
        service_name(service)
        with changes.recording() as recorder:
            value = service(self.ctx, self.actor, *local_paths(args),
                            **_watched(local_paths(kwargs), watch))
        return Outcome(value, recorder.value)

    def sign_out(self) -> None:
        self.write(sessions.sign_out)

    def now(self) -> datetime:
        return self.ctx.clock.now()

    @property
    def demo_clock(self) -> bool:
        """The demo's clock: the status bar says so (a remote gateway hears it from the
        server's /time)."""
        return isinstance(self.ctx.clock, DemoClock)


def _watched(kwargs: dict[str, Any], watch: Watch | None) -> dict[str, Any]:
    return kwargs if watch is None else kwargs | watch.keywords()
