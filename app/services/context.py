"""What every service call needs: the database, the clock, the acting operator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlmodel import Session

from app.core.clock import Clock, SystemClock
from app.core.errors import NotFound, PermissionDenied
from app.domain.roles import Actor, Role
from app.storage.db import Database
from app.storage.models import Operator


class SessionEnded(PermissionDenied):
    """The account was locked (or reset) since this session signed in."""


@dataclass
class AppContext:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    # The balance-refund programme's own day, where it stands on another than the
    # compensation programme's (the demo: app.services.demo_refunds); None: ``clock``.
    refund_clock: Clock | None = None


def refund_clock(ctx: AppContext) -> Clock:
    """The clock the balance-refund programme's rules read: applications not after
    "now", the day a decision or a letter is dated, a 払出証書 still cashable."""
    return ctx.refund_clock or ctx.clock


def confirmed_actor(session: Session, actor: Actor, now: datetime | None = None) -> Actor:
    """Re-read the actor's role from the database: the caller's claim is not enough.

    A session signed in before a lock (or an administrator's reset) is over: its
    epoch is older than the operator's, and it acts no more, even once the lock has
    passed, until the operator signs in again. An account locked now acts for no one.
    ``now`` is the services' clock; without it, the wall clock.

    The command line (no operator id) acts as the system with admin rights:
    whoever can open the database file or URL already holds everything in it.
    """
    if actor.is_system:
        return actor
    operator = session.get(Operator, actor.operator_id)
    if operator is None or not operator.active:
        raise PermissionDenied(
            "この操作者は無効です。もう一度サインインしてください。",
            "This operator account is not active; sign in again.",
        )
    if actor.epoch is not None and actor.epoch != operator.signin_epoch:
        raise SessionEnded(
            "アカウントがロックまたはリセットされたため、このサインインは終了しました。"
            "ロックが解けてから、もう一度サインインしてください。",
            "This account was locked or reset since you signed in; sign in again "
            "once the lock has passed.",
        )
    moment = now or datetime.now(UTC)
    if operator.locked_until is not None and moment < operator.locked_until:
        raise SessionEnded(
            "パスワードまたは確認コードの誤りが続いたため、アカウントはロックされています。"
            "しばらく待ってから、もう一度サインインしてください。",
            "This account is locked after repeated wrong passwords or codes; wait, "
            "then sign in again.",
        )
    return Actor(operator_id=operator.id, login=operator.login, role=Role(operator.role),
                 epoch=actor.epoch)


def require_role(actor: Actor, *roles: Role) -> None:
    if actor.role not in roles:
        names = "・".join(role.label_ja for role in roles)
        raise PermissionDenied(
            f"この操作は{names}だけが行えます。",
            f"Only {', '.join(roles)} may do this.",
        )


def get_or_404(session: Session, model: type, key: int, what_ja: str, what_en: str):
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"{what_ja}（{key}）が見つかりません。", f"{what_en} {key} not found.")
    return row
