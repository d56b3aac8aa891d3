"""What every page needs: the gateway to the services (in this process, or a centre
server far away: app.services.gateway), the signed-in operator, the lane that keeps
the services off the GUI thread, the prompter, and one "changes applied" signal.

Pages call ``desk.call`` (a read) and ``desk.act`` (a write on the operator's
behalf) with a service function of app.services; nothing in a page depends on where
the services run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.domain.roles import Actor
from app.services.context import AppContext, SessionEnded
from app.services.gateway import Gateway, InProcessGateway
from app.ui.lane import ServiceLane
from app.ui.prompts import Prompter


class Desk(QObject):
    # Emitted with the case id after any service call that changed a case;
    # pages refresh only what concerns them.
    case_changed = Signal(int)
    cases_changed = Signal()
    # A service refused the session (the account was locked or reset since sign-in):
    # the idle lock closes over the window and asks for a new sign-in.
    session_ended = Signal()

    def __init__(self, ctx: AppContext | Gateway, actor: Actor | None = None,
                 prompter: Prompter | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if isinstance(ctx, AppContext):
            ctx = InProcessGateway(ctx, actor)
        self.gateway: Gateway = ctx
        self.lane = ServiceLane(self)
        self.prompter = prompter or Prompter()

    @property
    def actor(self) -> Actor:
        return self.gateway.actor

    @actor.setter
    def actor(self, actor: Actor) -> None:
        self.gateway.actor = actor

    @property
    def ctx(self) -> AppContext:
        """The in-process context, for the code not yet moved onto the gateway."""
        return self.gateway.ctx

    def call(self, service: Callable[..., Any], *args: Any,
             on_done: Callable[[Any], None] | None = None,
             on_error: Callable[[Exception], None] | None = None, **kwargs: Any) -> None:
        """Run ``service(ctx, *args)`` through the gateway, on the lane."""
        self.lane.submit(self._watched, self.gateway.read, service, *args,
                         on_done=on_done, on_error=on_error, **kwargs)

    def act(self, service: Callable[..., Any], *args: Any,
            on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[Exception], None] | None = None, **kwargs: Any) -> None:
        """Run ``service(ctx, actor, *args)``: a use case on behalf of the operator."""
        self.lane.submit(self._watched, self.gateway.write, service, *args,
                         on_done=on_done, on_error=on_error, **kwargs)

    def _watched(self, through: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """On the lane's thread; the signal reaches the window through Qt's queue."""
        try:
            return through(*args, **kwargs)
        except SessionEnded:
            self.session_ended.emit()
            raise
