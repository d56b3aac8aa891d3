"""Operator accounts and passwords (argon2id)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from app.core.clock import to_jst
from app.core.errors import NotFound, PermissionDenied, UserError, ValidationError
from app.core.paths import resources_dir
from app.domain.roles import (
    ALWAYS_SECOND_FACTOR,
    SYSTEM_ACTOR,
    Actor,
    Role,
    second_factor_required,
)
from app.services import audit, settings
from app.services.context import AppContext, confirmed_actor, require_role
from app.storage.models import Operator, SignInThrottle

# OWASP password storage guidance: argon2id, 19 MiB, 2 iterations, 1 lane.
HASHER = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1, hash_len=32, salt_len=16)
MIN_PASSWORD_LENGTH = 12
# The demo programme's accounts share this published password (app.services.demo
# writes it directly); every other way of setting a password refuses it.
DEMO_PASSWORD = "hosho-demo-2019"
# Supervisors and administrators: an authenticator code at every sign-in and again
# (step-up) before approvals, rejections, overrides and exports. Operators give a
# code at sign-in too, unless the setting operator_second_factor relaxes it.
SECOND_FACTOR_ROLES = ALWAYS_SECOND_FACTOR
# Throttling: this many wrong answers in a row lock the account, first for
# LOCK_FIRST, doubling with each further lock up to LOCK_CAP.
FAILURES_BEFORE_LOCK = 5
LOCK_FIRST = timedelta(minutes=1)
LOCK_CAP = timedelta(hours=1)
REFUSED_JA = "操作者名またはパスワードが違います。"
REFUSED_EN = "Wrong operator name or password."


@dataclass(frozen=True)
class OperatorView:
    id: int
    login: str
    display_name: str
    role: Role
    active: bool
    must_change_password: bool
    created_at: datetime
    totp_enrolled: bool = False
    # Whether a sign-in asks for an authenticator code (by role and the settings).
    totp_required: bool = True
    signin_epoch: int = 0

    def as_actor(self) -> Actor:
        return Actor(operator_id=self.id, login=self.login, role=self.role,
                     epoch=self.signin_epoch)


def _view(row: Operator, session: Session) -> OperatorView:
    enrolled = row.totp_secret is not None and row.totp_confirmed_at is not None
    required = second_factor_required(Role(row.role), enrolled,
                                      settings.load(session).operator_second_factor)
    return OperatorView(row.id, row.login, row.display_name, Role(row.role), row.active,
                        row.must_change_password, row.created_at, enrolled, required,
                        row.signin_epoch)


def check_password_policy(login: str, password: str, display_name: str = "") -> None:
    """OWASP-style: a long password, no composition rules, not a known one, not the name,
    not the demo's published one."""
    # Spaces are counted once per run and not at the ends: twelve spaces are no password.
    if len(" ".join(password.split())) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password",
                              f"パスワードは空白を除いて{MIN_PASSWORD_LENGTH}文字以上にしてください。",
                              f"Passwords must be at least {MIN_PASSWORD_LENGTH} characters, "
                              "not counting spaces at the ends or repeated spaces.")
    folded = password.casefold()
    if _bare(DEMO_PASSWORD) in _bare(folded):
        raise ValidationError("password",
                              "デモ用に公開されているパスワードは使えません。",
                              "The demo's published password cannot be used here.")
    if folded.strip() in common_passwords() or folded.replace(" ", "") in common_passwords():
        raise ValidationError("password",
                              "よく使われるパスワード、または流出したパスワードの一覧にあります。"
                              "別のパスワードにしてください。",
                              "This password is on the list of common or breached passwords.")
    for name in _name_parts(login, display_name):
        if name in folded or name in folded.replace(" ", ""):
            raise ValidationError("password", "パスワードに操作者名や氏名を含めないでください。",
                                  "The password must not contain the operator's name.")


def _bare(text: str) -> str:
    """Letters and digits only: 'Hosho Demo 2019' is the demo password all the same."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _name_parts(login: str, display_name: str) -> set[str]:
    parts = {login.strip().casefold()}
    name = display_name.strip().casefold()
    parts.add(name)
    parts.add(name.replace(" ", "").replace("\u3000", ""))
    for part in name.replace("\u3000", " ").split():
        # Short Latin fragments ("li") would refuse half the dictionary; a kanji
        # surname of two characters is distinctive enough.
        if len(part) >= 3 or (len(part) >= 2 and not part.isascii()):
            parts.add(part)
    return {p for p in parts if p}


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = resources_dir() / "security" / "common-passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().casefold() for line in lines
                     if line.strip() and not line.startswith("#"))


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def add_operator(ctx: AppContext, actor: Actor, login: str, display_name: str, role: Role,
                 password: str, *, must_change_password: bool = False) -> OperatorView:
    login = login.strip()
    if not login or not login.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise ValidationError("login", "操作者名は英数字で入力してください。",
                              "Operator names are letters and digits.")
    check_password_policy(login, password, display_name)
    password_hash = hash_password(password)  # slow on purpose: outside the transaction
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, Role.ADMIN)
        if session.exec(select(Operator).where(Operator.login == login)).first():
            raise UserError(f"操作者名 {login} は既に使われています。",
                            f"The operator name {login} is taken.")
        row = Operator(login=login, display_name=display_name.strip() or login, role=role.value,
                       password_hash=password_hash, active=True,
                       must_change_password=must_change_password, created_at=now,
                       password_changed_at=now)
        session.add(row)
        session.flush()
        audit.record(session, actor, now, "operator.add", "operator", row.id,
                     after={"login": login, "role": role.value,
                            "must_change_password": must_change_password})
        return _view(row, session)


def create_first_admin(ctx: AppContext, login: str, display_name: str,
                       password: str) -> OperatorView:
    """The first start on an empty database: refused once any account exists."""
    if has_operators(ctx):
        raise PermissionDenied("管理者は既に登録されています。", "An administrator already exists.")
    return add_operator(ctx, SYSTEM_ACTOR, login, display_name, Role.ADMIN, password)


def list_operators(ctx: AppContext) -> list[OperatorView]:
    with ctx.db.read() as session:
        rows = session.exec(select(Operator).order_by(Operator.login)).all()
        return [_view(r, session) for r in rows]


def has_operators(ctx: AppContext) -> bool:
    with ctx.db.read() as session:
        return session.exec(select(func.count()).select_from(Operator)).one() > 0


def refused() -> PermissionDenied:
    """One message for every refusal: an unknown name or a wrong password."""
    return PermissionDenied(REFUSED_JA, REFUSED_EN)


def paused(until: datetime) -> PermissionDenied:
    """After the failures that lock: the same words for a known or an unknown name."""
    when = to_jst(until).strftime("%Y/%m/%d %H:%M")
    return PermissionDenied(
        f"失敗が続いたため、この操作者名でのサインインは {when} まで一時停止しています。",
        f"After repeated failures, sign-in under this name is paused until {when}.")


def _lock_period(lock_count: int) -> timedelta:
    return min(LOCK_FIRST * 2 ** (lock_count - 1), LOCK_CAP)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return HASHER.hash(secrets.token_urlsafe(16))


def _password_matches(row: Operator | None, password: str) -> bool:
    """Always spend one argon2 verification, so that timing reveals nothing."""
    stored = row.password_hash if row is not None else _dummy_hash()
    try:
        return HASHER.verify(stored, password) and row is not None
    except (VerificationError, InvalidHashError):
        return False


def is_locked(row: Operator, now: datetime) -> bool:
    return row.locked_until is not None and now < row.locked_until


def count_failure(session: Session, row: Operator, now: datetime, what: str, *,
                  already_counted: bool = False) -> None:
    """A wrong password or code, at sign-in, at the idle lock, in a password change or
    a step-up: all counted together, audited, and the fifth in a row locks. The lock
    ends every session of the account (a new sign-in epoch).

    The count is read again under the row's lock: failures counted at the same moment
    by other desks (on PostgreSQL) would otherwise overwrite one another, and the
    account would never lock. ``already_counted``: a step-up's attempt was counted
    when it was reserved (second_factor._reserve_attempt); here it is only audited and,
    at the fifth, locks."""
    session.refresh(row, attribute_names=["failed_count", "lock_count", "locked_until",
                                          "signin_epoch"], with_for_update=True)
    if not already_counted:
        row.failed_count += 1
    actor = _actor_of(row)
    audit.record(session, actor, now, f"operator.{what}_failed", "operator", row.id,
                 after={"failed_count": row.failed_count})
    if row.failed_count >= FAILURES_BEFORE_LOCK:
        row.lock_count += 1
        period = _lock_period(row.lock_count)
        row.locked_until = now + period
        row.failed_count = 0
        row.signin_epoch += 1
        audit.record(session, actor, now, "operator.locked", "operator", row.id,
                     after={"locked_until": row.locked_until.isoformat(),
                            "lock_count": row.lock_count,
                            "minutes": int(period.total_seconds() // 60)})


def _actor_of(row: Operator) -> Actor:
    return Actor(operator_id=row.id, login=row.login, role=Role(row.role),
                 epoch=row.signin_epoch)


def clear_failures(row: Operator) -> None:
    row.failed_count, row.lock_count, row.locked_until = 0, 0, None


def record_sign_in(session: Session, row: Operator, now: datetime) -> None:
    clear_failures(row)
    audit.record(session, _actor_of(row), now, "operator.sign_in", "operator", row.id)


def authenticate(ctx: AppContext, login: str, password: str) -> OperatorView:
    """Check the password. The same message, and about the same time, whether the
    name is unknown, the password wrong or the account locked.

    For a role that needs a second factor the sign-in is complete only after
    ``second_factor.verify_sign_in`` (or enrolment); the password step alone is
    not recorded as a sign-in.
    """
    with ctx.db.read() as session:
        row = session.exec(select(Operator).where(Operator.login == login.strip())).first()
    matches = _password_matches(row, password)  # slow: outside the transaction
    now = ctx.clock.now()
    with ctx.db.write() as session:
        if row is None:
            audit.record(session, SYSTEM_ACTOR, now, "operator.sign_in_unknown", "operator",
                         None, after={"login": login.strip()[:64]})
            raise_later = _unknown_step(session, login.strip()[:64], now)
        else:
            row = session.get(Operator, row.id)
            raise_later = _password_step(session, row, matches, now)
            view = _view(row, session)
    if raise_later is not None:
        raise raise_later
    return view


def _password_step(session: Session, row: Operator, matches: bool,
                   now: datetime) -> PermissionDenied | None:
    """The refusal to raise once the failure is committed, or None."""
    if is_locked(row, now):
        audit.record(session, _actor_of(row), now, "operator.sign_in_locked",
                     "operator", row.id)
        return paused(row.locked_until)
    if not matches or not row.active:
        count_failure(session, row, now, "sign_in")
        return paused(row.locked_until) if is_locked(row, now) else refused()
    if _view(row, session).totp_required:
        audit.record(session, _actor_of(row), now, "operator.password_accepted",
                     "operator", row.id)
    else:
        record_sign_in(session, row, now)
    return None


def _unknown_step(session: Session, login: str, now: datetime) -> PermissionDenied:
    """A name no operator has fails, counts and locks exactly as a known one would."""
    maker = postgresql.insert if session.get_bind().dialect.name == "postgresql" \
        else sqlite.insert
    session.execute(maker(SignInThrottle).values(login=login, failed_count=0, lock_count=0)
                    .on_conflict_do_nothing(index_elements=["login"]))  # two desks at once
    row = session.get(SignInThrottle, login, with_for_update=True)
    if row.locked_until is not None and now < row.locked_until:
        return paused(row.locked_until)
    row.failed_count += 1
    if row.failed_count >= FAILURES_BEFORE_LOCK:
        row.lock_count += 1
        row.locked_until, row.failed_count = now + _lock_period(row.lock_count), 0
        return paused(row.locked_until)
    return refused()


def check_own_password(ctx: AppContext, actor: Actor, password: str) -> OperatorView:
    """The idle lock: the signed-in operator proves it is still them, throttled alike."""
    if actor.is_system:
        raise refused()
    with ctx.db.read() as session:
        row = session.get(Operator, actor.operator_id)
    if row is None:
        raise refused()
    return authenticate(ctx, row.login, password)


def change_password(ctx: AppContext, actor: Actor, old_password: str,
                    new_password: str) -> OperatorView:
    """The operator's own change; required at the next sign-in after a reset. A wrong
    current password counts toward the lock like a wrong password at sign-in."""
    now = ctx.clock.now()
    with ctx.db.read() as session:
        row = session.get(Operator, actor.operator_id) if not actor.is_system else None
        if row is None:
            raise refused()
        confirmed_actor(session, actor, now)  # a locked account tries nothing
    if not _password_matches(row, old_password):  # slow: outside the transaction
        with ctx.db.write() as session:
            row = session.get(Operator, row.id)
            count_failure(session, row, now, "password_change")
        raise PermissionDenied("現在のパスワードが違います。", "The current password is wrong.")
    if old_password == new_password:
        raise ValidationError("password", "新しいパスワードは今のものと別にしてください。",
                              "The new password must differ from the current one.")
    check_password_policy(row.login, new_password, row.display_name)
    new_hash = hash_password(new_password)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        row = session.get(Operator, actor.operator_id)
        row.password_hash, row.password_changed_at = new_hash, now
        row.must_change_password = False
        audit.record(session, actor, now, "operator.password_changed", "operator", row.id)
        return _view(row, session)


ONE_TIME_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def one_time_password() -> str:
    groups = ["".join(secrets.choice(ONE_TIME_ALPHABET) for _ in range(4)) for _ in range(4)]
    return "-".join(groups)


def reset_password(ctx: AppContext, actor: Actor, login: str,
                   password: str | None = None) -> str:
    """An administrator sets a one-time password; the operator must change it at
    the next sign-in. Also lifts a lock, and ends the sessions signed in with the old
    password. Returns the one-time password."""
    with ctx.db.read() as session:
        row = session.exec(select(Operator).where(Operator.login == login.strip())).first()
    if row is None:
        raise NotFound(f"操作者 {login} はいません。", f"No operator {login}.")
    password = password if password is not None else one_time_password()
    check_password_policy(row.login, password, row.display_name)
    new_hash = hash_password(password)
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, Role.ADMIN)
        row = session.get(Operator, row.id)
        was_locked = is_locked(row, now)
        row.password_hash, row.password_changed_at = new_hash, now
        row.must_change_password = True
        clear_failures(row)
        row.signin_epoch += 1
        audit.record(session, actor, now, "operator.password_reset", "operator", row.id,
                     after={"login": row.login, "must_change_password": True,
                            "was_locked": was_locked})
    return password
