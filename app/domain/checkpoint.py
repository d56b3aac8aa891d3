"""A checkpoint of the audit chain: where its head stood, kept outside the database.

The chain's hashes have no secret, so whoever can write the database can rewrite
the whole chain with recomputed hashes, or cut its end off and move ``audit_head``
back: the chain alone still looks whole. A checkpoint remembers one head (its
sequence number and hash) somewhere the database cannot reach; the chain must
still hold that hash at that position. Signed with an Ed25519 key held outside the
database, a checkpoint file cannot be forged by the same person either.

Pure functions and records only: the files and the database are the services'.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

FORMAT = "hosho-audit-checkpoint/1"
ALGORITHM = "Ed25519"
_HEX64 = re.compile(r"[0-9a-f]{64}")


class CheckpointFormatError(ValueError):
    """Not a checkpoint file this program wrote: (ja, en)."""

    def __init__(self, ja: str, en: str) -> None:
        self.ja, self.en = ja, en
        super().__init__(en)


@dataclass(frozen=True)
class Signature:
    key: str  # the signing key's fingerprint (fingerprint())
    value: str  # base64 of the 64-byte Ed25519 signature


@dataclass(frozen=True)
class Checkpoint:
    seq: int  # the head event's position (0: the chain was empty)
    hash: str  # the head event's hash
    head_at: datetime | None  # when the head event was written
    taken_at: datetime | None  # when it was taken (None: copied from paper)
    origin: str | None  # the first event's hash: which chain this is
    database: str | None = None  # where it was taken, for the reader (not checked)
    signature: Signature | None = None

    def body(self) -> dict:
        """Everything the signature covers."""
        return {"format": FORMAT, "seq": self.seq, "hash": self.hash,
                "head_at": _moment(self.head_at), "taken_at": _moment(self.taken_at),
                "origin": self.origin, "database": self.database}

    def signed_bytes(self) -> bytes:
        return json.dumps(self.body(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    def to_json(self) -> dict:
        data = self.body()
        if self.signature:
            data["signature"] = {"algorithm": ALGORITHM, "key": self.signature.key,
                                 "value": self.signature.value}
        return data


def _moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:  # SQLite hands naive UTC back
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA256:<base64>, as ssh-keygen -l shows a key."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    digest = base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii").rstrip("=")
    return f"SHA256:{digest}"


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> Checkpoint:
    value = base64.b64encode(key.sign(checkpoint.signed_bytes())).decode("ascii")
    return replace(checkpoint, signature=Signature(fingerprint(key.public_key()), value))


def signature_problem(checkpoint: Checkpoint,
                      public_key: Ed25519PublicKey | None) -> tuple[str, str] | None:
    """Why the checkpoint's signature cannot be trusted, or None when it can.

    With a key to check against, every checkpoint must carry a good signature by
    that key (an unsigned one could have been written by anyone). Without one, an
    unsigned checkpoint is taken at its word and a signed one cannot be checked.
    """
    sig = checkpoint.signature
    if public_key is None:
        if sig is None:
            return None
        return ("署名付きですが、確認する公開鍵が指定されていません（--public-key）。",
                "It is signed, but no public key was given to check it (--public-key).")
    if sig is None:
        return ("署名がありません（鍵を使う運用では、署名のないファイルは誰でも作れます）。",
                "It is not signed (with a key in use, anyone could have written an unsigned "
                "one).")
    expected = fingerprint(public_key)
    if sig.key != expected:
        return (f"別の鍵（{sig.key}）で署名されています。確認に使った鍵は {expected} です。",
                f"It was signed by another key ({sig.key}), not by {expected}.")
    try:
        public_key.verify(base64.b64decode(sig.value, validate=True),
                          checkpoint.signed_bytes())
    except (InvalidSignature, binascii.Error, ValueError):
        return ("署名が一致しません（ファイルが書き換えられたか、偽造されています）。",
                "Its signature does not verify (the file was altered or forged).")
    return None


def chain_problem(checkpoint: Checkpoint, *, head_seq: int, broken_seq: int | None,
                  hash_at_seq: str | None, origin: str | None) -> tuple[str, str] | None:
    """Why the chain as verified does not extend the checkpoint, or None when it does.

    ``head_seq`` is the last event verified (the chain's head when it is intact),
    ``broken_seq`` the first event that failed (None when intact), ``hash_at_seq``
    the verified chain's hash at the checkpoint's position and ``origin`` at seq 1.
    """
    seq = checkpoint.seq
    if seq == 0:
        return None  # an empty chain is extended by every chain
    if broken_seq is not None and broken_seq <= seq:
        return (f"鎖が{broken_seq}番で切れているため、{seq}番まで続いていることを確認できません。",
                f"The chain is broken at event {broken_seq}, so it cannot be shown to reach "
                f"event {seq}.")
    if head_seq < seq:
        return (f"鎖は{head_seq}番で終わっていますが、チェックポイントの時点で{seq}番まで"
                "ありました（末尾の記録が削除され、終端が戻されています）。",
                f"The chain ends at event {head_seq}, but it reached event {seq} when the "
                "checkpoint was taken (events were cut off the end and the head moved back).")
    if hash_at_seq != checkpoint.hash:
        if checkpoint.origin and origin != checkpoint.origin:
            return (f"{seq}番の記録のハッシュが違い、最初の記録から違っています（鎖全体が作り直さ"
                    "れたか、別のデータベースのチェックポイントです）。",
                    f"Event {seq} has another hash, and so has the very first event (the "
                    "whole chain was rewritten, or this checkpoint is of another database).")
        return (f"{seq}番の記録のハッシュがチェックポイントと違います（{seq}番以前の記録が"
                "書き換えられ、ハッシュが計算し直されています）。",
                f"Event {seq} has another hash than the checkpoint's (events up to {seq} "
                "were rewritten and their hashes recomputed).")
    return None


# Desks' clocks differ a little from the clock that took the checkpoint: an event
# written just after it may carry a time slightly before it.
CLOCK_TOLERANCE = timedelta(hours=1)


def backdated_problem(checkpoint: Checkpoint, seq: int, at: datetime,
                      shown: str, taken: str) -> tuple[str, str]:
    """Event ``seq`` comes after the checkpoint but claims a time well before it was
    taken: it was added afterwards and back-dated (``shown``/``taken``: the two times
    as the reader reads them)."""
    return (f"{seq}番の記録はチェックポイントより後に追加されたのに、日時が{shown}と、"
            f"チェックポイント作成（{taken}）より前になっています（後から日付をさかのぼって"
            "追加された記録です）。",
            f"Event {seq} comes after the checkpoint, yet it is dated {shown}, before the "
            f"checkpoint was taken ({taken}): it was added later and back-dated.")


def from_json(data: object) -> Checkpoint:
    """Read a checkpoint back; raises CheckpointFormatError naming what is wrong."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointFormatError("監査記録のチェックポイントではありません。",
                                    "Not an audit-trail checkpoint.")
    seq, digest = data.get("seq"), data.get("hash")
    if type(seq) is not int or seq < 0:
        raise CheckpointFormatError("seq が正しくありません。", "Its seq is not valid.")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise CheckpointFormatError("hash が正しくありません。", "Its hash is not valid.")
    origin = data.get("origin")
    if origin is not None and (not isinstance(origin, str) or not _HEX64.fullmatch(origin)):
        raise CheckpointFormatError("origin が正しくありません。", "Its origin is not valid.")
    database = data.get("database")
    return Checkpoint(seq=seq, hash=digest, head_at=_read_moment(data, "head_at", True),
                      taken_at=_read_moment(data, "taken_at", False), origin=origin,
                      database=database if isinstance(database, str) else None,
                      signature=_read_signature(data.get("signature")))


def _read_moment(data: dict, name: str, optional: bool) -> datetime | None:
    value = data.get(name)
    if value is None and optional:
        return None
    try:
        moment = datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError as exc:
        raise CheckpointFormatError(f"{name} が正しくありません。",
                                    f"Its {name} is not valid.") from exc
    return moment.replace(tzinfo=UTC)


def _read_signature(value: object) -> Signature | None:
    if value is None:
        return None
    if (not isinstance(value, dict) or value.get("algorithm") != ALGORITHM
            or not isinstance(value.get("key"), str) or not isinstance(value.get("value"), str)):
        raise CheckpointFormatError("署名の形式が正しくありません（Ed25519 のみ）。",
                                    "Its signature is not in the expected form (Ed25519).")
    return Signature(key=value["key"], value=value["value"])
