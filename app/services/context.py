"""What every service call needs: the database, the clock, the acting operator."""

from __future__ import annotations

from dataclasses import dataclass, field

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


def confirmed_actor(session: Session, actor: Actor) -> Actor:
    """Re-read the actor's role from the database: the caller's claim is not enough.

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
    return Actor(operator_id=operator.id, login=operator.login, role=Role(operator.role))


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
