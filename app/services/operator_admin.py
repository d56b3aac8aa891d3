"""Operator management from the window, for administrators: the same services as the
``hosho operator`` commands (their rules and audit events), behind a fresh
authenticator code (step-up) since the window, unlike the command line, is a session.

The step-up is checked (and audited) in its own transaction just before the action: a
code is spent even if the action is then refused, never the other way round."""

from __future__ import annotations

from sqlmodel import select

from app.core.errors import NotFound, UserError
from app.domain.roles import Actor, Role
from app.services import audit, operators, second_factor
from app.services.context import AppContext, confirmed_actor, require_role
from app.storage.models import Operator


def _stepped_up(ctx: AppContext, actor: Actor, code: str | None) -> None:
    with second_factor.counting_step_up_failures(ctx, actor), ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.ADMIN)
        second_factor.require_step_up(session, actor, code, ctx.clock.now())


def add(ctx: AppContext, actor: Actor, login: str, display_name: str, role: Role,
        second_factor_code: str | None = None, *, password: str | None = None,
        must_change_password: bool = True) -> tuple[operators.OperatorView, str]:
    """A new operator with a one-time password (changed at the first sign-in), the one
    answered. The command line may give the password (``hosho operator add
    --password-stdin``; the policy holds), then answered as "" and changed at the first
    sign-in only with ``must_change_password``."""
    _stepped_up(ctx, actor, second_factor_code)
    if password is None:
        password, must_change_password, answered = operators.one_time_password(), True, None
    else:
        answered = ""
    view = operators.add_operator(ctx, actor, login, display_name, role, password,
                                  must_change_password=must_change_password)
    return view, password if answered is None else answered


def reset_password(ctx: AppContext, actor: Actor, login: str,
                   second_factor_code: str | None = None, *,
                   password: str | None = None) -> str:
    """A one-time password (generated, or the command line's ``password``), the one set."""
    _stepped_up(ctx, actor, second_factor_code)
    return operators.reset_password(ctx, actor, login, password)


def reset_second_factor(ctx: AppContext, actor: Actor, login: str,
                        second_factor_code: str | None = None) -> None:
    _stepped_up(ctx, actor, second_factor_code)
    second_factor.reset_second_factor(ctx, actor, login)


def set_active(ctx: AppContext, actor: Actor, login: str, active: bool,
               second_factor_code: str | None = None) -> None:
    """Deactivate (or reactivate) an account; deactivating ends its sessions. An
    administrator cannot deactivate their own account (nobody would be left to undo it)."""
    _stepped_up(ctx, actor, second_factor_code)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, Role.ADMIN)
        row = session.exec(select(Operator).where(Operator.login == login.strip())).first()
        if row is None:
            raise NotFound(f"操作者 {login} はいません。", f"No operator {login}.")
        if row.id == actor.operator_id and not active:
            raise UserError("自分のアカウントは無効にできません。",
                                      "You cannot deactivate your own account.")
        row.active = active
        row.signin_epoch += 1
        audit.record(session, actor, now,
                     "operator.activated" if active else "operator.deactivated",
                     "operator", row.id, after={"login": row.login, "active": active})
