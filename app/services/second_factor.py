"""The second factor: TOTP (RFC 6238) with one-time recovery codes.

Every operator gives a code at sign-in (operators may be let off by the setting
operator_second_factor); supervisors and administrators give one again (step-up)
before an approval, a rejection, an amount override and any export of personal
data or payment files (``require_exporter``). A code is accepted
once only: the last accepted time step is kept per operator in the database.
Wrong codes, at sign-in or at a step-up, count with wrong passwords toward one
lock; a lock ends the account's sessions (``confirmed_actor``), so codes cannot
be guessed from a desk that is already signed in.
Recovery codes (for a lost phone) are shown once and stored as SHA-256 digests:
they carry 50 random bits each, so a slow hash adds nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pyotp
from cryptography.fernet import Fernet, InvalidToken
from sqlmodel import Session, select

from app.core.errors import EnvironmentProblem, PermissionDenied, UserError, ValidationError
from app.domain.roles import SYSTEM_ACTOR, Actor, Role
from app.services import audit
from app.services.context import AppContext, confirmed_actor, require_role
from app.services.operators import (
    FAILURES_BEFORE_LOCK,
    SECOND_FACTOR_ROLES,
    OperatorView,
    _actor_of,
    _view,
    check_own_password,
    count_failure,
    is_locked,
    record_sign_in,
    refused,
)
from app.storage.models import Operator, RecoveryCode

ISSUER = "Hosho Desk"
RECOVERY_CODES = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# Codes of the step before and after the current one are accepted too: phone
# clocks drift. Replays are still refused by the last-used step.
DRIFT_STEPS = 1
# The centre server keeps the authenticators' secrets encrypted under a key held
# outside the database (a Fernet key file, named by this variable or `hosho serve
# --totp-key`): a copy of the database alone gives no codes. Stored values then start
# with SEALED; a clear secret (a single desk, or one from before) is still read.
KEY_FILE_ENV = "HOSHO_TOTP_KEY_FILE"
SEALED = "fernet:"

__all__ = [
    "Enrolment",
    "SecondFactorRefused",
    "StepUpRequired",
    "begin_enrolment",
    "confirm_enrolment",
    "counting_step_up_failures",
    "is_enrolled",
    "record_recovery_codes_kept",
    "record_step_up_failure",
    "require_exporter",
    "require_step_up",
    "reset_second_factor",
    "step_up",
    "unlock_session",
    "verify_sign_in",
]


class SecondFactorRefused(PermissionDenied):
    """A wrong, reused or missing code."""


class TooManyAttempts(SecondFactorRefused):
    """Refused before the code is read: the attempts left before the lock are all
    being checked at this moment (step-ups that overlap). Not a wrong code: not counted."""


class StepUpRequired(SecondFactorRefused):
    """The move needs a fresh code and none was given."""


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str  # otpauth://, what the QR code holds


def normalise(code: str | None) -> str:
    """Full-width digits, spaces and hyphens as people type them."""
    text = unicodedata.normalize("NFKC", code or "")
    return "".join(ch for ch in text if ch not in " -\u3000").lower()


def is_enrolled(row: Operator) -> bool:
    return row.totp_secret is not None and row.totp_confirmed_at is not None


def _row(session: Session, operator_id: int | None) -> Operator:
    row = session.get(Operator, operator_id) if operator_id is not None else None
    if row is None:
        raise refused()
    return row


def begin_enrolment(ctx: AppContext, actor: Actor) -> Enrolment:
    """A new secret, pending until a code from it is confirmed."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        row = _row(session, actor.operator_id)
        if is_enrolled(row):
            raise UserError("二段階認証は登録済みです。再登録は管理者に依頼してください。",
                            "The second factor is already enrolled; ask an administrator "
                            "to reset it.")
        secret = pyotp.random_base32()
        row.totp_secret, row.totp_last_step = seal(secret), None
        audit.record(session, actor, now, "second_factor.enrolment_started", "operator", row.id)
        uri = pyotp.TOTP(secret).provisioning_uri(name=row.login, issuer_name=ISSUER)
        return Enrolment(secret, uri)


def confirm_enrolment(ctx: AppContext, actor: Actor, code: str) -> list[str]:
    """The first code proves the phone holds the secret. Completes the sign-in and
    returns the recovery codes, shown this once."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        row = _row(session, actor.operator_id)
        if row.totp_secret is None or is_enrolled(row):
            raise UserError("登録を最初からやり直してください。", "Start the enrolment again.")
        if is_locked(row, now) or not _accept_totp(row, code, now):
            count_failure(session, row, now, "second_factor")
            failed = True
        else:
            failed = False
            row.totp_confirmed_at = now
            codes = _new_recovery_codes(session, row, now)
            audit.record(session, actor, now, "second_factor.enrolled", "operator", row.id,
                         after={"recovery_codes": len(codes)})
            record_sign_in(session, row, now)
    if failed:
        raise _wrong_code()
    return codes


def verify_sign_in(ctx: AppContext, operator_id: int, code: str) -> OperatorView:
    """The second step of a sign-in: a TOTP code, or one unused recovery code."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = _row(session, operator_id)
        if not is_enrolled(row):
            raise refused()
        accepted = (not is_locked(row, now) and row.active
                    and (_accept_totp(row, code, now) or _use_recovery(session, row, code, now)))
        if accepted:
            record_sign_in(session, row, now)
        else:
            count_failure(session, row, now, "second_factor")
        view = _view(row, session)
    if not accepted:
        raise _wrong_code()
    return view


def require_step_up(session: Session, actor: Actor, code: str | None, now: datetime) -> None:
    """For other services, inside their transaction: refuse unless ``code`` is a
    fresh valid code of this actor. The command line (system actor) is exempt:
    whoever runs it already holds the database.

    A locked account's codes are refused unchecked (and no code is spent): the
    refusal is not a wrong code, so it is not counted either."""
    if actor.is_system or actor.role not in SECOND_FACTOR_ROLES:
        return
    actor = confirmed_actor(session, actor, now)
    row = _row(session, actor.operator_id)
    if not is_enrolled(row):
        raise SecondFactorRefused("この操作の前に二段階認証を登録してください。",
                                  "Enrol the second factor before doing this.")
    if not normalise(code):
        raise StepUpRequired("この操作には認証アプリの確認コードが必要です。",
                             "This action needs a code from the authenticator app.")
    reserved = _reserve_attempt(session, row.id, now)
    if not (_accept_totp(row, code, now) or _use_recovery(session, row, code, now)):
        wrong = _wrong_code()
        wrong.reserved = reserved
        raise wrong
    if reserved:  # the right code: its attempt is given back
        session.refresh(row, attribute_names=["failed_count"],
                        with_for_update={"key_share": True})
        row.failed_count = max(0, row.failed_count - 1)
    audit.record(session, actor, now, "second_factor.step_up", "operator", row.id)


def _reserve_attempt(session: Session, operator_id: int, now: datetime) -> bool:
    """Before a code is read, take one of the attempts left before the lock, in a
    transaction of its own: step-ups that overlap (on PostgreSQL, desks or a centre's
    server threads at the same moment) each hold one, so that no more than the five
    before the lock are ever checked; one more at once is refused unread. A right code
    gives its attempt back; a wrong one is already counted (``record_step_up_failure``
    then only audits it and locks). SQLite's writes begin IMMEDIATE: step-ups never
    overlap there, and the count after the refusal is enough."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite":
        return False
    with Session(bind.engine) as other, other.begin():
        # FOR NO KEY UPDATE: the caller's transaction may already hold the row's key-share
        # lock (any row it inserted that refers to this operator); FOR UPDATE would wait
        # for it, and the caller waits for us.
        row = other.get(Operator, operator_id, with_for_update={"key_share": True})
        if is_locked(row, now) or row.failed_count >= FAILURES_BEFORE_LOCK:
            raise TooManyAttempts(
                "確認コードの試行が多すぎます。しばらくしてからもう一度お試しください。",
                "Too many codes at once: try again shortly.")
        row.failed_count += 1
    return True


def require_exporter(session: Session, actor: Actor, code: str | None, now: datetime) -> Actor:
    """For exports of personal data or payment files, inside the transaction that
    records the export: a supervisor or an administrator, with a fresh code."""
    actor = confirmed_actor(session, actor, now)
    require_role(actor, Role.SUPERVISOR, Role.ADMIN)
    require_step_up(session, actor, code, now)
    return actor


@contextmanager
def counting_step_up_failures(ctx: AppContext, actor: Actor) -> Iterator[None]:
    """Around a service that calls ``require_step_up``: its refusal rolls back, so the
    failure is counted (towards the lock-out) in a transaction of its own."""
    try:
        yield
    except SecondFactorRefused as refusal:
        record_step_up_failure(ctx, actor, refusal)
        raise


def step_up(ctx: AppContext, actor: Actor, code: str | None) -> None:
    """A stand-alone check (its own transaction), for services that ask first."""
    now = ctx.clock.now()
    try:
        with ctx.db.write() as session:
            actor = confirmed_actor(session, actor, now)
            require_step_up(session, actor, code, now)
    except SecondFactorRefused as refusal:
        record_step_up_failure(ctx, actor, refusal)
        raise


def record_step_up_failure(ctx: AppContext, actor: Actor,
                           refusal: BaseException | None = None) -> None:
    """The refused step-up's transaction rolled back: count the failure in a new one,
    toward the same lock as wrong passwords and sign-in codes. A session that the
    lock has ended counts nothing more: it is refused before any code is read. A
    wrong code whose attempt was reserved before it was read is counted already."""
    if actor.is_system or isinstance(refusal, TooManyAttempts):
        return
    if getattr(refusal, "reserved", False):
        _settle_reserved_failure(ctx, actor)
        return
    now = ctx.clock.now()
    with ctx.db.write() as session:
        # Locked first: the epoch is judged as the desk that counted just before left it.
        row = session.get(Operator, actor.operator_id, with_for_update=True)
        if row is not None and (actor.epoch is None or actor.epoch == row.signin_epoch):
            count_failure(session, row, now, "step_up")


def reset_second_factor(ctx: AppContext, actor: Actor, login: str) -> None:
    """An administrator clears a lost enrolment; the operator enrols again at sign-in.
    The sessions signed in with the old authenticator end."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        require_role(actor, Role.ADMIN)
        row = session.exec(select(Operator).where(Operator.login == login.strip())).first()
        if row is None:
            raise UserError(f"操作者 {login} はいません。", f"No operator {login}.")
        row.totp_secret = row.totp_confirmed_at = row.totp_last_step = None
        row.signin_epoch += 1
        for code in session.exec(select(RecoveryCode).where(
                RecoveryCode.operator_id == row.id)).all():
            session.delete(code)
        audit.record(session, actor, now, "second_factor.reset", "operator", row.id,
                     after={"login": row.login})


def _settle_reserved_failure(ctx: AppContext, actor: Actor) -> None:
    """Audit a wrong code counted when its attempt was reserved; lock at the fifth."""
    now = ctx.clock.now()
    with ctx.db.write() as session:
        row = session.get(Operator, actor.operator_id, with_for_update=True)
        if row is None:
            return
        count_failure(session, row, now, "step_up", already_counted=True)


def _wrong_code() -> SecondFactorRefused:
    return SecondFactorRefused("確認コードが違うか、既に使われています。",
                               "The code is wrong or was already used.")


def _accept_totp(row: Operator, code: str | None, now: datetime) -> bool:
    """True for a valid code of a step not used before; remembers the step."""
    typed = normalise(code)
    if row.totp_secret is None or len(typed) != 6 or not typed.isdigit():
        return False
    totp = pyotp.TOTP(unseal(row.totp_secret))
    current = totp.timecode(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), typed):
            if row.totp_last_step is not None and step <= row.totp_last_step:
                return False  # replayed, or older than one already used
            row.totp_last_step = step
            return True
    return False


def _digest(code: str) -> str:
    return hashlib.sha256(normalise(code).encode("ascii", "ignore")).hexdigest()


def _new_recovery_codes(session: Session, row: Operator, now: datetime) -> list[str]:
    for old in session.exec(select(RecoveryCode).where(RecoveryCode.operator_id == row.id)):
        session.delete(old)
    codes = []
    for _ in range(RECOVERY_CODES):
        code = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(10))
        code = f"{code[:5]}-{code[5:]}"
        session.add(RecoveryCode(operator_id=row.id, code_hash=_digest(code), created_at=now))
        codes.append(code)
    return codes


def _use_recovery(session: Session, row: Operator, code: str | None, now: datetime) -> bool:
    typed = normalise(code)
    if len(typed) != 10:
        return False
    digest = _digest(typed)
    found = session.exec(select(RecoveryCode).where(
        RecoveryCode.operator_id == row.id, RecoveryCode.code_hash == digest,
        RecoveryCode.used_at.is_(None))).first()
    if found is None:
        return False
    found.used_at = now
    audit.record(session, _actor_of(row), now, "second_factor.recovery_code_used",
                 "operator", row.id)
    return True


# How an operator kept the recovery codes shown at enrolment (never the codes themselves).
KEPT_HOW = ("copied", "printed", "saved")


def record_recovery_codes_kept(ctx: AppContext, actor: Actor, how: str) -> None:
    """The operator copied, printed or saved the recovery codes just shown: audited with
    the how, never with the codes (nor where a file went). Each time is recorded."""
    if how not in KEPT_HOW:
        raise ValidationError("how", f"記録できない方法です: {how}",
                              f"Not a way of keeping the codes: {how}")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        actor = confirmed_actor(session, actor, now)
        audit.record(session, actor, now, "second_factor.recovery_codes_kept", "operator",
                     actor.operator_id, after={"kept": how})


def remaining_recovery_codes(ctx: AppContext, actor: Actor) -> int:
    with ctx.db.read() as session:
        rows = session.exec(select(RecoveryCode).where(
            RecoveryCode.operator_id == actor.operator_id, RecoveryCode.used_at.is_(None)))
        return len(rows.all())


def unlock_session(ctx: AppContext, actor: Actor, password: str,
                   code: str | None = None) -> OperatorView:
    """The idle lock: the same operator's password, and code when one is required.
    Throttled and audited like a sign-in, and it is one: the view returned carries
    the current sign-in epoch, so a desk whose session a lock had ended acts again
    with ``view.as_actor()``."""
    view = check_own_password(ctx, actor, password)
    if view.totp_required and not view.totp_enrolled:
        raise PermissionDenied("認証アプリの登録が必要です。いったん終了し、もう一度サインイン"
                               "して登録してください。",
                               "An authenticator must be set up first: quit and sign in "
                               "again to set it up.")
    if view.totp_required:
        return verify_sign_in(ctx, view.id, code or "")
    return view


def code_required(ctx: AppContext, actor: Actor) -> bool:
    """Whether this operator's sign-in (and so the idle lock) asks for a code."""
    if actor.is_system:
        return False
    with ctx.db.read() as session:
        row = session.get(Operator, actor.operator_id)
        return row is not None and _view(row, session).totp_required


# -- secrets at rest ----------------------------------------------------------------------
def _key_problem(path: str, why_ja: str, why_en: str) -> EnvironmentProblem:
    return EnvironmentProblem(f"二段階認証の鍵ファイル {path} を使えません: {why_ja}",
                              f"Cannot use the second-factor key file {path}: {why_en}")


def cipher() -> Fernet | None:
    """The configured key, or None (secrets stay as they are: the single desk)."""
    path = os.environ.get(KEY_FILE_ENV)
    if not path:
        return None
    try:
        return Fernet(Path(path).read_bytes().strip())
    except OSError as exc:
        raise _key_problem(path, "読めません。", f"unreadable ({exc.strerror})") from None
    except ValueError:
        raise _key_problem(path, "鍵の形式ではありません。", "not a Fernet key") from None


def seal(secret: str) -> str:
    key = cipher()
    return secret if key is None else SEALED + key.encrypt(secret.encode("ascii")).decode()


def unseal(stored: str) -> str:
    if not stored.startswith(SEALED):
        return stored
    key = cipher()
    if key is None:
        raise EnvironmentProblem(
            "二段階認証の秘密鍵は暗号化されていますが、鍵ファイルが指定されていません。",
            f"The authenticator secrets are encrypted and no key file is set ({KEY_FILE_ENV}).")
    try:
        return key.decrypt(stored.removeprefix(SEALED).encode()).decode("ascii")
    except InvalidToken:
        raise EnvironmentProblem("二段階認証の秘密鍵をこの鍵ファイルで復号できません。",
                                 "The authenticator secrets do not open with this key file."
                                 ) from None


def new_key_file(path: Path) -> None:
    """A new key, readable by its owner only from the first byte."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(Fernet.generate_key() + b"\n")


def encrypt_secrets(ctx: AppContext) -> int:
    """The migration path: seal every secret still stored in clear under the configured
    key. Returns how many were sealed."""
    if cipher() is None:
        raise UserError(f"鍵ファイルを指定してください（{KEY_FILE_ENV}）。",
                        f"Name the key file first ({KEY_FILE_ENV}).")
    now = ctx.clock.now()
    with ctx.db.write() as session:
        rows = session.exec(select(Operator).where(Operator.totp_secret.is_not(None))).all()
        clear = [row for row in rows if not row.totp_secret.startswith(SEALED)]
        for row in clear:
            row.totp_secret = seal(row.totp_secret)
        if clear:
            audit.record(session, SYSTEM_ACTOR, now, "second_factor.secrets_sealed",
                         "operator", None, after={"count": len(clear)})
        return len(clear)
