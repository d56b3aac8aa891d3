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
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from app.domain.roles import Actor
from app.services.context import AppContext

Service = Callable[..., Any]


def service_name(service: Service) -> str:
    """``payouts.batch_items`` for app.services.payouts.batch_items: the name a remote
    gateway sends and the server's allow-list knows."""
    module = service.__module__
    if not module.startswith("app.services."):
        raise ValueError(f"{module}.{service.__qualname__} is not a service of app.services")
    return f"{module.removeprefix('app.services.')}.{service.__qualname__}"


class Gateway(Protocol):
    """What a desk needs of the services, wherever they run."""

    actor: Actor

    def read(self, service: Service, *args: Any, **kwargs: Any) -> Any:
        """``service(ctx, *args, **kwargs)``: reads, and the services open to everyone."""

    def write(self, service: Service, *args: Any, **kwargs: Any) -> Any:
        """``service(ctx, actor, *args, **kwargs)``: a use case on the operator's behalf."""

    def now(self) -> datetime:
        """The services' clock (the demo's or a test's fixed clock in-process; the
        server's in the centre): pages stamp file names and propose times with it."""


class InProcessGateway:
    """The services called in this process, on this desk's database."""

    def __init__(self, ctx: AppContext, actor: Actor) -> None:
        self.ctx, self.actor = ctx, actor

    def read(self, service: Service, *args: Any, **kwargs: Any) -> Any:
        return service(self.ctx, *args, **kwargs)

    def write(self, service: Service, *args: Any, **kwargs: Any) -> Any:
        return service(self.ctx, self.actor, *args, **kwargs)

    def now(self) -> datetime:
        return self.ctx.clock.now()
