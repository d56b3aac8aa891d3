"""Sessions of the centre server (``hosho serve``): opaque random tokens, stored hashed.

A desk signs in at the server and gets a token; every call names it. A session is
over when signed out, when an administrator ends it, when the account is locked or
reset (the operator's sign-in epoch moved), after 12 hours in any case, and after the
idle-lock period without a call: then it is *locked*, and only the same operator's
password (and code) at the idle lock opens it again (``unlocked``).

Everything lives in the database, so that several server processes on one database
agree. Throttling by client address counts refused sign-in steps here too; the
per-account lock is the operators' own (app.services.operators).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from app.core.errors import PermissionDenied
from app.domain.roles import Actor, Role
from app.services import audit, settings
from app.services.context import AppContext, SessionEnded, confirmed_actor, require_role
from app.storage.models import Operator, ServerFailure, ServerSession

MAX_AGE = timedelta(hours=12)
# A sign-in that stopped between the password and the code.
PENDING_AGE = timedelta(minutes=10)
# Per client address: this many refused sign-in steps in THROTTLE_WINDOW and the
# address is refused until the window has passed.
THROTTLE_FAILURES = 20
THROTTLE_WINDOW = timedelta(minutes=15)
# Touching last_seen_at on every call would write on every read: once a minute is
# precise enough for an idle period counted in minutes.
TOUCH_EVERY = timedelta(seconds=30)

ACTIVE, CODE, ENROL, NEW_PASSWORD = "active", "code", "enrol", "new_password"
SIGNED_OUT = "signed_out"


@dataclass(frozen=True)
class SessionView:
    id: int
    login: str
    role: Role
    client_address: str
    created_at: datetime
    last_seen_at: datetime
    stage: str
    state: str  # "open", "locked" (idle), "ended"
    end_reason: str | None


@dataclass(frozen=True)
class Bound:
    """A token's session as a call sees it."""

    session_id: int
    actor: Actor
    stage: str
    locked: bool


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "ignore")).hexdigest()


def _ended() -> SessionEnded:
    return SessionEnded("このサインインは終了しています。もう一度サインインしてください。",
                        "This session has ended; sign in again.")


def _throttled() -> PermissionDenied:
    return PermissionDenied("この端末からのサインインの誤りが続いたため、しばらく受け付けません。",
                            "Too many refused sign-ins from this address; wait, then try again.")


def check_address(ctx: AppContext, address: str) -> None:
    """Refuse an address with too many refused sign-in steps lately."""
    since = ctx.clock.now() - THROTTLE_WINDOW
    with ctx.db.read() as session:
        count = session.exec(select(func.count()).select_from(ServerFailure).where(
            ServerFailure.client_address == address, ServerFailure.at >= since)).one()
    if count >= THROTTLE_FAILURES:
        raise _throttled()


def count_address_failure(ctx: AppContext, address: str) -> None:
    now = ctx.clock.now()
    with ctx.db.write() as session:
        session.add(ServerFailure(client_address=address[:64], at=now))
        # Old rows say nothing any more.
        session.execute(delete(ServerFailure).where(ServerFailure.at < now - THROTTLE_WINDOW))


def open_session(ctx: AppContext, operator_id: int, epoch: int, stage: str,
                 address: str) -> str:
    """A new session; returns its token (shown to the desk once, never stored)."""
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        session.add(ServerSession(token_hash=digest(token), operator_id=operator_id,
                                  epoch=epoch, stage=stage, client_address=address[:64],
                                  created_at=now, last_seen_at=now))
    return token


def _idle_limit(session: Session) -> timedelta:
    return timedelta(minutes=settings.load(session).idle_lock_minutes)


def bind(ctx: AppContext, token: str | None) -> Bound:
    """The session a token names, or SessionEnded. A session idle longer than the
    idle-lock period comes back ``locked``; it is touched (kept alive) otherwise.
    Most calls only read: a write happens to end a session or, at most every
    TOUCH_EVERY, to move its last-seen time."""
    if not token:
        raise _ended()
    now = ctx.clock.now()
    with ctx.db.read() as session:
        found = session.exec(select(ServerSession, Operator).join(
            Operator, Operator.id == ServerSession.operator_id).where(
            ServerSession.token_hash == digest(token))).first()
        if found is None or found[0].ended_at is not None:
            raise _ended()
        row, operator = found
        reason = _end_reason(session, row, operator, now)
        locked = row.stage == ACTIVE and now - row.last_seen_at > _idle_limit(session)
        session_id, stage, epoch, seen = row.id, row.stage, row.epoch, row.last_seen_at
        actor = Actor(operator_id=operator.id, login=operator.login,
                      role=Role(operator.role), epoch=epoch)
    if reason is not None:
        end(ctx, session_id, reason)
        raise _ended()
    if not locked and now - seen >= TOUCH_EVERY:
        with ctx.db.write() as session:
            session.get(ServerSession, session_id).last_seen_at = now
    return Bound(session_id, actor, stage, locked)


def _end_reason(session: Session, row: ServerSession, operator: Operator | None,
                now: datetime) -> str | None:
    if operator is None or not operator.active:
        return "inactive"
    if operator.signin_epoch != row.epoch:
        return "locked_or_reset"
    if now - row.created_at > MAX_AGE:
        return "expired"
    if row.stage != ACTIVE and now - row.created_at > PENDING_AGE:
        return "unfinished"
    return None


def advance(ctx: AppContext, session_id: int, stage: str, epoch: int) -> None:
    """The next step of a sign-in passed (or the idle lock was opened)."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = session.get(ServerSession, session_id)
        row.stage, row.epoch, row.last_seen_at = stage, epoch, now


def end(ctx: AppContext, session_id: int, reason: str) -> None:
    """A server session ends. Signed out (``/auth/sign-out``: the window's menu at a
    centre desk, or ``hosho --server URL logout``): audited as a sign-out and the
    operator's held cases go back to the queue, as at a single desk (``sign_out``)."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = session.get(ServerSession, session_id)
        if row is not None and row.ended_at is None:
            row.ended_at, row.end_reason = now, reason
            operator = session.get(Operator, row.operator_id)
            if reason == SIGNED_OUT and operator is not None:
                _signed_out(session, operator, now, {"session": row.id})


def sign_out(ctx: AppContext, actor: Actor) -> None:
    """The window's "Sign out" at a single desk (the services in the desk's process):
    the session ends here. The operator's sign-in epoch moves on, so that this
    sign-in (this ``actor``) acts no more, as after a lock; the held cases go back to
    the queue; the sign-out is audited. A session that has already ended (a lock, a
    reset) has nothing more to end. A centre desk signs out at the server instead
    (``/auth/sign-out``, then ``end``): only that session ends there."""
    if actor.is_system:
        return
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = session.get(Operator, actor.operator_id, with_for_update=True)
        if row is None or (actor.epoch is not None and actor.epoch != row.signin_epoch):
            return
        row.signin_epoch += 1
        _signed_out(session, row, now, {"desk": "local"})


def _signed_out(session: Session, operator: Operator, now: datetime, where: dict) -> None:
    from app.services.queue import release_all_held

    actor = Actor(operator_id=operator.id, login=operator.login, role=Role(operator.role))
    released = release_all_held(session, actor, now)
    audit.record(session, actor, now, "operator.sign_out", "operator", operator.id,
                 after=where | {"released_cases": len(released)})


def list_sessions(ctx: AppContext, actor: Actor, include_ended: bool = False
                  ) -> list[SessionView]:
    """For administrators: who is signed in where, newest first."""
    now = ctx.clock.now()
    with ctx.db.read() as session:
        require_role(confirmed_actor(session, actor, now), Role.ADMIN)
        idle = _idle_limit(session)
        query = select(ServerSession, Operator).join(
            Operator, Operator.id == ServerSession.operator_id)
        if not include_ended:
            query = query.where(ServerSession.ended_at.is_(None),
                                ServerSession.created_at > now - MAX_AGE)
        rows = session.exec(query.order_by(ServerSession.id.desc())).all()
        return [_view(row, operator, now, idle) for row, operator in rows]


def _view(row: ServerSession, operator: Operator, now: datetime,
          idle: timedelta) -> SessionView:
    if row.ended_at is not None or operator.signin_epoch != row.epoch:
        state = "ended"
    elif now - row.last_seen_at > idle:
        state = "locked"
    else:
        state = "open"
    return SessionView(row.id, operator.login, Role(operator.role), row.client_address,
                       row.created_at, row.last_seen_at, row.stage, state, row.end_reason)


def end_session(ctx: AppContext, actor: Actor, session_id: int) -> None:
    """An administrator ends a session (a desk left signed in, a lost laptop)."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, Role.ADMIN)
        row = session.get(ServerSession, session_id)
        if row is None or row.ended_at is not None:
            raise PermissionDenied(f"セッション {session_id} は開いていません。",
                                   f"Session {session_id} is not open.")
        row.ended_at, row.end_reason = now, "ended_by_admin"
        audit.record(session, actor, now, "session.ended", "operator", row.operator_id,
                     after={"session": row.id})
