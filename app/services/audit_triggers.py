"""Are the database's append-only triggers on audit_event still the ones migration 0005
made? Not only their names: a trigger replaced by a no-op under the same name, or a
trigger function whose body was swapped, would keep a name check happy.

The expected definitions are read from the migration itself (through Alembic), so
the check and the schema cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlmodel import Session

from app.core.paths import migrations_dir

MIGRATION = "0005"
PG_NAME = "audit_event_append_only"


@lru_cache(maxsize=1)
def _migration():
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return ScriptDirectory.from_config(config).get_revision(MIGRATION).module


def _squash(sql: str) -> str:
    return " ".join(sql.split())


def problems(session: Session) -> list[tuple[str, str]]:
    """(ja, en) for each trigger or function that is missing, disabled or not as made."""
    if session.get_bind().dialect.name == "sqlite":
        return _sqlite_problems(session)
    return _pg_problems(session)


# -- SQLite: sqlite_master keeps each trigger's CREATE statement as written -------------------
def _sqlite_expected() -> dict[str, str]:
    found = {}
    for statement in _migration().SQLITE_TRIGGERS:
        name = re.match(r"\s*CREATE TRIGGER (\w+)", statement).group(1)
        found[name] = _squash(statement)
    return found


def _sqlite_problems(session: Session) -> list[tuple[str, str]]:
    rows = dict(session.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
        "AND tbl_name = 'audit_event'")).all())
    out = []
    for name, expected in _sqlite_expected().items():
        if name not in rows:
            out.append((f"トリガー {name} がありません。", f"Trigger {name} is missing."))
        elif _squash(rows[name] or "") != expected:
            out.append((f"トリガー {name} の定義が変えられています: {_squash(rows[name])}",
                        f"Trigger {name} was redefined: {_squash(rows[name])}"))
    return out


# -- PostgreSQL: the trigger (table, timing, events, level, function) and the function -------
@dataclass(frozen=True)
class TriggerShape:
    name: str
    timing: str
    events: frozenset[str]
    table: str
    level: str
    when: str | None
    function: str


_TRIGGER = re.compile(
    r"CREATE TRIGGER (?P<name>\w+) (?P<timing>BEFORE|AFTER|INSTEAD OF) (?P<events>.+?) "
    r"ON (?:\w+\.)?(?P<table>\w+) (?:FOR EACH (?P<level>ROW|STATEMENT) )?"
    r"(?:WHEN \((?P<when>.*)\) )?EXECUTE (?:FUNCTION|PROCEDURE) (?:\w+\.)?(?P<function>\w+)"
    r"\(\)$")


def trigger_shape(sql: str) -> TriggerShape | None:
    """What a CREATE TRIGGER statement says, as written in the migration or as
    pg_get_triggerdef renders it (events in another order, names schema-qualified)."""
    found = _TRIGGER.match(_squash(sql).rstrip(";"))
    if found is None:
        return None
    return TriggerShape(found["name"], found["timing"],
                        frozenset(e.strip() for e in found["events"].split(" OR ")),
                        found["table"], found["level"] or "STATEMENT", found["when"],
                        found["function"])


def _function_body(sql: str) -> str:
    return re.search(r"\$\$(.*)\$\$", sql, re.S).group(1).strip()


def _function_header(sql: str) -> str:
    """pg_get_functiondef up to its body, without the schema: language, return type and
    every option (SECURITY DEFINER, SET ..., STRICT) show here."""
    head = sql.split("AS $function$")[0]
    return re.sub(r"FUNCTION \w+\.", "FUNCTION ", _squash(head))


EXPECTED_FUNCTION_HEADER = (f"CREATE OR REPLACE FUNCTION {PG_NAME}() RETURNS trigger "
                            "LANGUAGE plpgsql")


def _pg_problems(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(text(
        "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid), "
        "pg_get_functiondef(t.tgfoid), p.prosrc, p.proname "
        "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid "
        "WHERE t.tgrelid = to_regclass('audit_event') AND t.tgname = :name "
        "AND NOT t.tgisinternal"), {"name": PG_NAME}).all()
    if not rows:
        return [(f"トリガー {PG_NAME} がありません。", f"Trigger {PG_NAME} is missing.")]
    _name, enabled, triggerdef, functiondef, body, function = rows[0]
    out = []
    # 'O' fires in normal sessions, 'A' always; 'D' is disabled, 'R' fires on replicas only.
    if enabled not in ("O", "A"):
        out.append((f"トリガー {PG_NAME} が無効にされています（tgenabled = {enabled}）。",
                    f"Trigger {PG_NAME} is disabled (tgenabled = {enabled})."))
    if trigger_shape(triggerdef) != trigger_shape(_migration().PG_TRIGGER):
        out.append((f"トリガー {PG_NAME} の定義が変えられています: {triggerdef}",
                    f"Trigger {PG_NAME} was redefined: {triggerdef}"))
    expected_body = _function_body(_migration().PG_FUNCTION)
    if (body.strip() != expected_body
            or _function_header(functiondef) != EXPECTED_FUNCTION_HEADER):
        out.append((f"トリガー関数 {function}() の定義が変えられています（書き換え・削除を"
                    "止めません）。",
                    f"Trigger function {function}() was redefined (it may no longer refuse "
                    "changes)."))
    return out
