"""What every page needs: the gateway to the services (in this process, or a centre
server far away: app.services.gateway), the signed-in operator, the lane that keeps
the services off the GUI thread, the prompter, and one "changes applied" signal.

Pages call ``desk.call`` (a read) and ``desk.act`` (a write on the operator's
behalf) with a service function of app.services and plain arguments; nothing in a
page depends on where the services run. After every write that changed something
the desk emits ``changed`` with what it changed (app.services.changes.Changed):
pages refresh from that (app.ui.refresh), never by hand. Long work runs on a
``BackgroundTask`` of its own (``task=``), with progress and cancel.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from app.domain.roles import Actor
from app.services.context import AppContext, SessionEnded
from app.services.gateway import Gateway, InProcessGateway, Outcome
from app.ui.clock import DeskClock
from app.ui.lane import ServiceLane, alive
from app.ui.prompts import Prompter

if TYPE_CHECKING:
    from app.ui.tasks import BackgroundTask

Done = Callable[[Any], None] | None
Failed = Callable[[Exception], None] | None


class Desk(QObject):
    # What a write changed (a Changed), emitted in the GUI thread after its on_done.
    changed = Signal(object)
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
        self.clock = DeskClock(self.gateway, self)  # the services' time, off the GUI thread
        self.prompter = prompter or Prompter()

    @property
    def actor(self) -> Actor:
        return self.gateway.actor

    @actor.setter
    def actor(self, actor: Actor) -> None:
        self.gateway.actor = actor

    def now(self) -> datetime:
        """The services' time (app.ui.clock), without waiting on a server: what pages
        stamp file names and propose times with."""
        return self.clock.now()

    def call(self, service: Callable[..., Any], *args: Any, on_done: Done = None,
             on_error: Failed = None, task: BackgroundTask | None = None,
             **kwargs: Any) -> None:
        """Run ``service(ctx, *args)`` through the gateway, on the lane (or the task's)."""
        self._submit(self.gateway.read, service, args, kwargs, on_done, on_error, task)

    def act(self, service: Callable[..., Any], *args: Any, on_done: Done = None,
            on_error: Failed = None, task: BackgroundTask | None = None,
            **kwargs: Any) -> None:
        """Run ``service(ctx, actor, *args)``: a use case on behalf of the operator.
        ``on_done`` gets the service's value; then ``changed`` says what changed."""

        def done(outcome: Outcome) -> None:
            if alive(on_done):  # not a page closed meanwhile; the change happened all the same
                on_done(outcome.value)
            if outcome.changed:
                self.changed.emit(outcome.changed)

        self._submit(self.gateway.write, service, args, kwargs, done, on_error, task)

    def sign_out(self, on_done: Done = None, on_error: Failed = None) -> None:
        """End this desk's session through its gateway, off the GUI thread: in-process
        the service sessions.sign_out, at a centre desk the server's sign-out (the
        server ends the session, audits it and releases the operator's held cases).
        From then on this desk's operator acts no more: a new sign-in makes a new desk."""
        self.lane.submit(self.gateway.sign_out, on_done=on_done, on_error=on_error)

    def locally(self, fn: Callable[..., Any], *args: Any, on_done: Done = None,
                on_error: Failed = None) -> None:
        """Work on this desk's own files with data already in hand (a report the page
        shows, written where the operator chose): no service, no database, so no
        gateway; on the lane all the same, off the GUI thread."""
        self.lane.submit(fn, *args, on_done=on_done, on_error=on_error)

    def _submit(self, through, service, args, kwargs, on_done, on_error, task) -> None:
        lane = self.lane
        if task is not None:
            lane, kwargs = task.lane, kwargs | {"watch": task.begin()}
            on_done, on_error = task.ending(on_done), task.ending(on_error)
        lane.submit(self._watched, through, service, *args, on_done=on_done,
                    on_error=on_error, **kwargs)

    def _watched(self, through: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """On the lane's thread; the signal reaches the window through Qt's queue."""
        try:
            return through(*args, **kwargs)
        except SessionEnded:
            self.session_ended.emit()
            raise
