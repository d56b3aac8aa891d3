"""Operator accounts and passwords (argon2id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlmodel import select

from app.core.errors import PermissionDenied, UserError, ValidationError
from app.domain.roles import SYSTEM_ACTOR, Actor, Role
from app.services import audit
from app.services.context import AppContext, confirmed_actor, require_role
from app.storage.models import Operator

# OWASP password storage guidance: argon2id, 19 MiB, 2 iterations, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, hash_len=32, salt_len=16)
MIN_PASSWORD_LENGTH = 12


@dataclass(frozen=True)
class OperatorView:
    id: int
    login: str
    display_name: str
    role: Role
    active: bool
    must_change_password: bool
    created_at: datetime

    def as_actor(self) -> Actor:
        return Actor(operator_id=self.id, login=self.login, role=self.role)


def _view(row: Operator) -> OperatorView:
    return OperatorView(row.id, row.login, row.display_name, Role(row.role), row.active,
                        row.must_change_password, row.created_at)


def check_password_policy(login: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password",
                              f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。",
                              f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters.")
    if login and login.casefold() in password.casefold():
        raise ValidationError("password", "パスワードに操作者名を含めないでください。",
                              "The password must not contain the operator's name.")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def add_operator(ctx: AppContext, actor: Actor, login: str, display_name: str, role: Role,
                 password: str, *, must_change_password: bool = False) -> OperatorView:
    login = login.strip()
    if not login or not login.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ValidationError("login", "操作者名は英数字で入力してください。",
                              "Operator names are letters and digits.")
    check_password_policy(login, password)
    password_hash = hash_password(password)  # slow on purpose: outside the transaction
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor)
        require_role(actor, Role.ADMIN)
        if session.exec(select(Operator).where(Operator.login == login)).first():
            raise UserError(f"操作者名 {login} は既に使われています。",
                            f"The operator name {login} is taken.")
        row = Operator(login=login, display_name=display_name.strip() or login, role=role.value,
                       password_hash=password_hash, active=True,
                       must_change_password=must_change_password, created_at=now)
        session.add(row)
        session.flush()
        audit.record(session, actor, now, "operator.add", "operator", row.id,
                     after={"login": login, "role": role.value})
        return _view(row)


def create_first_admin(ctx: AppContext, login: str, display_name: str,
                       password: str) -> OperatorView:
    """The first start on an empty database: refused once any account exists."""
    if has_operators(ctx):
        raise PermissionDenied("管理者は既に登録されています。", "An administrator already exists.")
    return add_operator(ctx, SYSTEM_ACTOR, login, display_name, Role.ADMIN, password)


def list_operators(ctx: AppContext) -> list[OperatorView]:
    with ctx.db.read() as session:
        return [_view(r) for r in session.exec(select(Operator).order_by(Operator.login)).all()]


def has_operators(ctx: AppContext) -> bool:
    with ctx.db.read() as session:
        return session.exec(select(func.count()).select_from(Operator)).one() > 0


def authenticate(ctx: AppContext, login: str, password: str) -> OperatorView:
    """The same message whether the name is unknown or the password wrong."""
    refused = PermissionDenied("操作者名またはパスワードが違います。",
                               "Wrong operator name or password.")
    with ctx.db.read() as session:
        row = session.exec(select(Operator).where(Operator.login == login.strip())).first()
    if row is None:
        # Spend the same time as a real check so that timing does not reveal names.
        _burn = HASHER.hash(password)
        del _burn
        raise refused
    try:
        HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        raise refused from None
    if not row.active:
        raise refused
    now = ctx.clock.now()
    with ctx.db.write() as session:
        audit.record(session, _view(row).as_actor(), now, "operator.sign_in", "operator", row.id)
    return _view(row)
