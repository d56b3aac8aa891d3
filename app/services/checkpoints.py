"""Checkpoints of the audit chain, kept outside the database (app.domain.checkpoint).

Taking one: the chain is verified first, and the checkpoint describes the head that
was verified, as it stood before the checkpoint itself was recorded. The trail then
gets an ``audit.checkpoint`` event naming the position, the hash and the key, so the
trail says when checkpoints were taken; that event is not inside the file (it is
covered by the next checkpoint). The file is moved into place before that event
commits, and stays true if the commit fails: it only describes events already there.

Keys: an Ed25519 private key in a PEM file readable by its owner only, given by
``--key FILE`` or ``$HOSHO_AUDIT_KEY``, kept away from the database (its server, its
backups). The public key (FILE.pub) is what a verifier needs: ``--public-key FILE``
or ``$HOSHO_AUDIT_PUBLIC_KEY``.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.core.clock import to_jst
from app.core.errors import UserError
from app.core.files import written_into_place
from app.domain.audit_chain import GENESIS
from app.domain.checkpoint import (
    CLOCK_TOLERANCE,
    Checkpoint,
    CheckpointFormatError,
    backdated_problem,
    chain_problem,
    fingerprint,
    from_json,
    sign,
    signature_problem,
)
from app.domain.roles import Actor, Role
from app.services import audit
from app.services.audit_log import ChainReport, verify_chain
from app.services.context import AppContext, confirmed_actor, require_role
from app.storage.db import Database
from app.storage.models import AuditEvent, AuditHead

KEY_ENV = "HOSHO_AUDIT_KEY"
PUBLIC_KEY_ENV = "HOSHO_AUDIT_PUBLIC_KEY"


# -- keys ----------------------------------------------------------------------------------
def generate_key(out: str | Path) -> tuple[Path, Path, str]:
    """A new key pair: ``out`` (private, owner-only) and ``out``.pub. Never overwrites."""
    private_path = Path(out)
    public_path = private_path.with_name(private_path.name + ".pub")
    for path in (private_path, public_path):
        if path.exists():
            raise UserError(f"ファイルが既にあります（上書きしません）: {path}",
                            f"{path} exists already (a key is never overwritten).")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    _write_new(private_path, pem, 0o600)
    try:
        _write_new(public_path, public_pem, 0o644)
    except BaseException:
        private_path.unlink(missing_ok=True)
        raise
    return private_path, public_path, fingerprint(key.public_key())


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"署名鍵のファイルがありません: {path}", f"No key file at {path}.")
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise UserError(f"署名鍵が所有者以外にも読める状態です（chmod 600 {path}）。",
                        f"The key file {path} is readable by others than its owner "
                        f"(chmod 600 {path}).")
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise UserError(f"署名鍵として読めません: {path}",
                        f"{path} is not a private key this program can read.") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise UserError(f"Ed25519 の鍵ではありません: {path}", f"{path} is not an Ed25519 key.")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"公開鍵のファイルがありません: {path}", f"No public key file at {path}.")
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (ValueError, TypeError) as exc:
        raise UserError(f"公開鍵として読めません: {path}",
                        f"{path} is not a public key this program can read.") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise UserError(f"Ed25519 の公開鍵ではありません: {path}",
                        f"{path} is not an Ed25519 public key.")
    return key


def configured_private_key(path: str | None = None) -> Ed25519PrivateKey | None:
    """--key FILE, else $HOSHO_AUDIT_KEY, else none (checkpoints go unsigned)."""
    chosen = path or os.environ.get(KEY_ENV)
    return load_private_key(chosen) if chosen else None


def configured_public_key(path: str | None = None) -> Ed25519PublicKey | None:
    """--public-key FILE, else $HOSHO_AUDIT_PUBLIC_KEY, else the public half of
    $HOSHO_AUDIT_KEY, else none (signatures cannot be checked)."""
    chosen = path or os.environ.get(PUBLIC_KEY_ENV)
    if chosen:
        return load_public_key(chosen)
    private = configured_private_key()
    return private.public_key() if private else None


# -- taking a checkpoint ---------------------------------------------------------------------
def describe_database(db: Database) -> str:
    """Where the checkpoint was taken, for a person reading it (never a password)."""
    if db.path is not None:
        return str(db.path.resolve())
    url = make_url(db.url)
    return f"{url.get_backend_name()}://{url.host or ''}:{url.port or ''}/{url.database}"


def current(session: Session, ctx: AppContext,
            key: Ed25519PrivateKey | None = None) -> Checkpoint:
    """The head as it stands in ``session``, unverified (the dashboard's PDF prints it:
    what matters is that the chain still extends it later)."""
    head = session.get(AuditHead, 1)
    seq, digest = (head.seq, head.hash) if head else (0, GENESIS)
    checkpoint = _checkpoint(session, ctx, seq, digest)
    return sign(checkpoint, key) if key else checkpoint


def _checkpoint(session: Session, ctx: AppContext, seq: int, digest: str) -> Checkpoint:
    table = AuditEvent.__table__
    head_at = origin = None
    if seq:
        head_at = session.execute(select(table.c.at).where(table.c.seq == seq)).scalar()
        origin = session.execute(select(table.c.hash).where(table.c.seq == 1)).scalar()
    return Checkpoint(seq=seq, hash=digest, head_at=head_at, taken_at=ctx.clock.now(),
                      origin=origin, database=describe_database(ctx.db))


class ChainBroken(UserError):
    """The chain does not verify: no checkpoint is taken of it."""

    def __init__(self, report: ChainReport) -> None:
        self.report = report
        super().__init__("監査記録の鎖が壊れているため、チェックポイントを作成しません: "
                         + report.problem_ja,
                         "The audit chain does not verify, so no checkpoint is taken: "
                         + report.problem_en)


def take(ctx: AppContext, actor: Actor, out: str | Path | None,
         key: Ed25519PrivateKey | None = None) -> Checkpoint:
    """Verify the chain, write a checkpoint of the verified head to ``out`` (when given)
    and record that it was taken. An administrator's act (the command line's too).

    The command line does it in the two steps below (``head``, then ``record``) so that
    the key and the file stay where it runs, also at a centre."""
    checkpoint = head(ctx, actor)
    if key:
        checkpoint = sign(checkpoint, key)
    with ctx.db.write() as session:
        _record(session, ctx, actor, checkpoint, Path(out).name if out else None)
        if out:
            write_file(checkpoint, out)  # before the commit: a failed write is reported
    return checkpoint


def head(ctx: AppContext, actor: Actor) -> Checkpoint:
    """The verified head as an unsigned checkpoint (nothing recorded yet): an
    administrator's, refused (ChainBroken) when the chain does not verify."""
    with ctx.db.read() as session:
        require_role(confirmed_actor(session, actor), Role.ADMIN)
    report = verify_chain(ctx)
    if not report.intact:
        raise ChainBroken(report)
    with ctx.db.read() as session:
        last = session.execute(select(AuditEvent.hash).where(
            AuditEvent.seq == report.count)).scalar() if report.count else GENESIS
        return _checkpoint(session, ctx, report.count, last)


def record(ctx: AppContext, actor: Actor, checkpoint: Checkpoint,
           file_name: str | None) -> Checkpoint:
    """Record that ``checkpoint`` (of ``head``, signed or not where the key is) was
    taken, as file ``file_name`` (the command line writes it where it runs). It must
    name the chain as it stands (its hash at its position): a checkpoint of another
    chain is not recorded."""
    with ctx.db.write() as session:
        _record(session, ctx, actor, checkpoint, file_name)
    return checkpoint


def _record(session: Session, ctx: AppContext, actor: Actor, checkpoint: Checkpoint,
            file_name: str | None) -> None:
    actor = confirmed_actor(session, actor)
    require_role(actor, Role.ADMIN)
    stored = session.execute(select(AuditEvent.hash).where(
        AuditEvent.seq == checkpoint.seq)).scalar() if checkpoint.seq else GENESIS
    if stored != checkpoint.hash:
        raise UserError("このチェックポイントは監査記録の鎖と一致しません。",
                        "This checkpoint does not match the audit chain.")
    audit.record(session, actor, checkpoint.taken_at or ctx.clock.now(), "audit.checkpoint",
                 "audit_event", None,
                 after={"seq": checkpoint.seq, "hash": checkpoint.hash, "file": file_name,
                        "key": checkpoint.signature.key if checkpoint.signature else None})


def dumps(checkpoint: Checkpoint) -> str:
    return json.dumps(checkpoint.to_json(), ensure_ascii=False, indent=2) + "\n"


def write_file(checkpoint: Checkpoint, out: str | Path) -> Path:
    target = Path(out)
    with written_into_place(target) as temp:
        temp.write_text(dumps(checkpoint), encoding="utf-8")
    return target


def read_file(path: str | Path) -> Checkpoint:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"チェックポイントのファイルとして読めません: {path}",
                        f"{path} is not a checkpoint file (not JSON).") from exc
    try:
        return from_json(data)
    except CheckpointFormatError as exc:
        raise UserError(f"チェックポイントのファイルとして読めません: {path}（{exc.ja}）",
                        f"{path} is not a checkpoint file: {exc.en}") from exc


_TYPED = re.compile(r"(\d{1,18}):([0-9a-f]{64})")


def load(given: str) -> tuple[Checkpoint, bool]:
    """A checkpoint file, or SEQ:HASH as copied from a printed page (``True``: typed in,
    so it carries no signature to check; the paper is what is trusted)."""
    typed = _TYPED.fullmatch(given.strip().lower())
    if typed and not Path(given).exists():
        return Checkpoint(seq=int(typed[1]), hash=typed[2], head_at=None, taken_at=None,
                          origin=None), True
    if not Path(given).exists():
        raise UserError(f"チェックポイントのファイルがありません: {given}"
                        "（印刷されたものは 番号:ハッシュ の形で指定できます）",
                        f"No checkpoint file at {given} (one copied from paper is given "
                        "as SEQ:HASH).")
    return read_file(given), False


# -- verifying against checkpoints -----------------------------------------------------------
@dataclass(frozen=True)
class Finding:
    """One checkpoint file held against the chain."""

    name: str
    checkpoint: Checkpoint
    problem_ja: str | None = None
    problem_en: str | None = None

    @property
    def holds(self) -> bool:
        return self.problem_en is None

    def as_json(self) -> dict:
        sig = self.checkpoint.signature
        return {"file": self.name, "seq": self.checkpoint.seq, "hash": self.checkpoint.hash,
                "taken_at": self.checkpoint.body()["taken_at"],
                "signed_by": sig.key if sig else None, "holds": self.holds,
                "problem_ja": self.problem_ja, "problem_en": self.problem_en}


@dataclass(frozen=True)
class Given:
    """A checkpoint to hold the chain against, read where its file (and the public key)
    is: ``problem_*``, its signature's problem, if any (a typed SEQ:HASH has none)."""

    name: str
    checkpoint: Checkpoint
    problem_ja: str | None = None
    problem_en: str | None = None


def given_checkpoints(files: Sequence[str | Path],
                      public_key: Ed25519PublicKey | None = None) -> list[Given]:
    """The checkpoint files (or SEQ:HASH copied from paper), read and their signatures
    checked here: on the desk, where they and the key are."""
    given = []
    for name in files:
        checkpoint, typed = load(str(name))
        signed = None if typed else signature_problem(checkpoint, public_key)
        given.append(Given(str(name), checkpoint, *(signed or (None, None))))
    return given


def verify_against(ctx: AppContext, files: Sequence[str | Path],
                   public_key: Ed25519PublicKey | None = None
                   ) -> tuple[ChainReport, list[Finding]]:
    """Verify the chain and hold it against each checkpoint (a file, or SEQ:HASH copied
    from paper): each file must be signed as the key says, and the chain must still
    hold the checkpoint's hash at its position."""
    return verify_given(ctx, given_checkpoints(files, public_key))


def verify_given(ctx: AppContext, given: list[Given]) -> tuple[ChainReport, list[Finding]]:
    """``verify_against`` for checkpoints read (and their signatures checked) on a desk."""
    report = verify_chain(ctx, watch={g.checkpoint.seq for g in given})
    findings = []
    with ctx.db.read() as session:
        for one in given:
            checkpoint = one.checkpoint
            signed = (one.problem_ja, one.problem_en) if one.problem_en else None
            problem = signed or chain_problem(
                checkpoint, head_seq=report.count, broken_seq=report.broken_seq,
                hash_at_seq=report.hashes.get(checkpoint.seq),
                origin=report.hashes.get(1)) or _backdated(session, checkpoint)
            findings.append(Finding(one.name, checkpoint, *(problem or (None, None))))
    return report, findings


def _backdated(session: Session, checkpoint: Checkpoint) -> tuple[str, str] | None:
    """The first event after the checkpoint dated well before it was taken, if any: a
    forgery slipped in after the checkpoint cannot pretend to be from before it."""
    if checkpoint.taken_at is None:  # copied from paper: its time is not known here
        return None
    found = session.execute(
        select(AuditEvent.seq, AuditEvent.at)
        .where(AuditEvent.seq > checkpoint.seq,
               AuditEvent.at < checkpoint.taken_at - CLOCK_TOLERANCE)
        .order_by(AuditEvent.seq).limit(1)).first()
    if found is None:
        return None
    return backdated_problem(checkpoint, found.seq, found.at,
                             f"{to_jst(found.at):%Y-%m-%d %H:%M} JST", taken_at_text(checkpoint))


def taken_at_text(checkpoint: Checkpoint) -> str:
    if checkpoint.taken_at is None:
        return "印刷から copied from paper"
    return f"{to_jst(checkpoint.taken_at):%Y-%m-%d %H:%M} JST"
