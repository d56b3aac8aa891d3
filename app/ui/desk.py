"""What every page needs: the services' context, the signed-in operator, the
database lane, the prompter, and one "changes applied" signal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.domain.roles import Actor
from app.services.context import AppContext, SessionEnded
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

    def __init__(self, ctx: AppContext, actor: Actor, prompter: Prompter | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.actor = actor
        self.lane = ServiceLane(self)
        self.prompter = prompter or Prompter()

    def call(self, service: Callable[..., Any], *args: Any,
             on_done: Callable[[Any], None] | None = None,
             on_error: Callable[[Exception], None] | None = None, **kwargs: Any) -> None:
        """Run ``service(ctx, *args)`` on the lane."""
        self.lane.submit(service, self.ctx, *args, on_done=on_done, on_error=on_error, **kwargs)

    def act(self, service: Callable[..., Any], *args: Any,
            on_done: Callable[[Any], None] | None = None,
            on_error: Callable[[Exception], None] | None = None, **kwargs: Any) -> None:
        """Run ``service(ctx, actor, *args)``: a use case on behalf of the operator."""
        self.lane.submit(self._watched, service, self.ctx, self.actor, *args,
                         on_done=on_done, on_error=on_error, **kwargs)

    def _watched(self, service: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """On the lane's thread; the signal reaches the window through Qt's queue."""
        try:
            return service(*args, **kwargs)
        except SessionEnded:
            self.session_ended.emit()
            raise
