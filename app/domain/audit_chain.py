"""The audit chain: each event's hash covers its own fields and the previous hash.

Pure functions only (no SQL): the service, the migration that chains old events
and `hosho audit verify` all compute the same value from the same fields. The
serialisation is frozen: changing it would make every existing chain look broken.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from functools import lru_cache
from json.encoder import encode_basestring as _json_string  # ensure_ascii=False's

GENESIS = "0" * 64

# The fields covered by the hash, in this order.
FIELDS = ("seq", "at", "operator_id", "actor_login", "action", "entity", "entity_id",
          "case_id", "before", "after", "reason")


def _moment(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands naive UTC back to raw SQL readers
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict) -> bytes:
    """One line of JSON, keys in a fixed order, times as UTC with microseconds.

    Written out directly (imports chain hundreds of thousands of events);
    ``canonical_reference`` is the json.dumps form it must equal, byte for byte.
    """
    parts = [f'["{name}",{_json_value(fields.get(name))}]' for name in FIELDS]
    return ("[" + ",".join(parts) + "]").encode("utf-8")


def _json_value(value: object) -> str:
    if value is None:
        return "null"
    if type(value) is str:
        return _json_string(value)
    if type(value) is int:
        return int.__repr__(value)
    if isinstance(value, datetime):
        return _moment_json(value)
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@lru_cache(maxsize=256)
def _moment_json(value: datetime) -> str:
    """A bulk writer stamps thousands of events with one time: formatted once."""
    return '"' + _moment(value) + '"'


def canonical_reference(fields: dict) -> bytes:
    """The frozen serialisation as first written: what ``canonical`` must produce."""
    values = []
    for name in FIELDS:
        value = fields.get(name)
        if isinstance(value, datetime):
            value = _moment(value)
        values.append([name, value])
    return json.dumps(values, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def event_hash(fields: dict, prev_hash: str) -> str:
    digest = hashlib.sha256()
    digest.update(prev_hash.encode("ascii"))
    digest.update(b"\n")
    digest.update(canonical(fields))
    return digest.hexdigest()
