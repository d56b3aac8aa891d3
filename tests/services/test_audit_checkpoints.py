"""Checkpoints kept outside the database catch what the chain alone cannot: the end cut
off with ``audit_head`` moved back, the whole chain rewritten with recomputed hashes,
a chain forked before a checkpoint; signatures tell a forged checkpoint file. And the
append-only triggers are checked by their definitions, not only their names.

Every tampering is done as an attacker holding the database file or URL would: raw
SQL, hashes recomputed with the published algorithm."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.core.errors import UserError
from app.domain.audit_chain import FIELDS, event_hash
from app.domain.roles import SYSTEM_ACTOR
from app.services import audit_log, checkpoints
from app.services.audit_triggers import _migration
from app.storage.models import AuditEvent
from tests.services.test_audit_chain import tampering, write_events


@contextmanager
def covertly(db):
    """Tamper, then put the append-only triggers back as they were, so that nothing
    but the chain itself can give the change away."""
    with tampering(db) as conn:
        yield conn
    if db.is_sqlite:
        with db.engine.begin() as conn:
            for statement in _migration().SQLITE_TRIGGERS:
                conn.exec_driver_sql(statement)


def head_seq(ctx) -> int:
    with ctx.db.engine.connect() as conn:
        return conn.execute(text("SELECT seq FROM audit_head WHERE id = 1")).scalar_one()


def take(ctx, tmp_path, name="cp.json", key=None):
    path = tmp_path / name
    checkpoints.take(ctx, SYSTEM_ACTOR, path, key)
    return path


def against(ctx, *paths, public_key=None):
    return checkpoints.verify_against(ctx, list(paths), public_key)


def cut_end(conn, keep: int) -> None:
    """Delete every event after ``keep`` and move the head back onto it."""
    conn.execute(text("DELETE FROM audit_event WHERE seq > :k"), {"k": keep})
    digest = conn.execute(text("SELECT hash FROM audit_event WHERE seq = :k"),
                          {"k": keep}).scalar_one()
    conn.execute(text("UPDATE audit_head SET seq = :k, hash = :h WHERE id = 1"),
                 {"k": keep, "h": digest})


def rewrite_from(conn, first: int, reason: str) -> None:
    """Change the event at ``first`` and recompute every hash after it, and the head."""
    table = AuditEvent.__table__
    rows = conn.execute(select(table.c.id, table.c.prev_hash, *[table.c[n] for n in FIELDS])
                        .where(table.c.seq >= first).order_by(table.c.seq)).mappings().all()
    previous = rows[0]["prev_hash"]
    for row in rows:
        fields = dict(row)
        if row["seq"] == first:
            fields["reason"] = reason
        digest = event_hash(fields, previous)
        conn.execute(text("UPDATE audit_event SET reason = :r, prev_hash = :p, hash = :h "
                          "WHERE id = :i"),
                     {"r": fields["reason"], "p": previous, "h": digest, "i": row["id"]})
        previous = digest
    conn.execute(text("UPDATE audit_head SET hash = :h WHERE id = 1"), {"h": previous})


def append_forged(conn, action: str = "case.approve", earlier: timedelta = timedelta()) -> None:
    """A correctly chained event, written straight into the table, dated as the last
    one (or ``earlier`` than it)."""
    table = AuditEvent.__table__
    seq, last = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    at = conn.execute(select(table.c.at).where(table.c.seq == seq)).scalar_one() - earlier
    fields = {"seq": seq + 1, "at": at, "operator_id": None, "actor_login": "sv2",
              "action": action, "entity": "case", "entity_id": 1, "case_id": None,
              "before": None, "after": '{"status": "approved"}', "reason": None}
    digest = event_hash(fields, last)
    conn.execute(table.insert().values(**fields, prev_hash=last, hash=digest))
    conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
                 {"s": seq + 1, "h": digest})


def only_problem(findings) -> str:
    [finding] = findings
    assert not finding.holds
    return finding.problem_en


# -- what a checkpoint holds ---------------------------------------------------------------------
def test_a_checkpoint_pins_the_verified_head_and_is_recorded_after_it(ctx, staff, tmp_path):
    write_events(ctx, staff, 5)
    before = head_seq(ctx)
    path = take(ctx, tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["seq"] == before and len(data["hash"]) == 64 and data["origin"]
    assert data["taken_at"].startswith("2019-08-20T01:00") and "signature" not in data
    # The trail says a checkpoint was taken, just after the head the file describes.
    with ctx.db.engine.connect() as conn:
        action, after = conn.execute(text("SELECT action, after FROM audit_event "
                                          "WHERE seq = :s"), {"s": before + 1}).one()
    assert action == "audit.checkpoint"
    assert json.loads(after)["seq"] == before and json.loads(after)["hash"] == data["hash"]
    write_events(ctx, staff, 3)  # the chain grows on: it still extends the checkpoint
    report, findings = against(ctx, path)
    assert report.intact and findings[0].holds


def test_no_checkpoint_is_taken_of_a_broken_chain(ctx, staff, tmp_path):
    write_events(ctx, staff, 4)
    with tampering(ctx.db) as conn:
        conn.execute(text("UPDATE audit_event SET reason = 'x' WHERE seq = 2"))
    with pytest.raises(checkpoints.ChainBroken, match="altered"):
        take(ctx, tmp_path)
    assert not (tmp_path / "cp.json").exists()


# -- the kinds of tampering the chain alone does not show -------------------------------------
def test_end_cut_off_with_the_head_moved_back_is_caught(ctx, staff, tmp_path):
    write_events(ctx, staff, 6)
    path = take(ctx, tmp_path)
    pinned = json.loads(path.read_text())["seq"]
    with covertly(ctx.db) as conn:
        cut_end(conn, pinned - 2)
    assert audit_log.verify_chain(ctx).intact  # the chain alone looks whole
    report, findings = against(ctx, path)
    assert report.intact
    assert f"ends at event {pinned - 2}" in only_problem(findings)
    assert "cut off the end" in only_problem(findings)


def test_a_whole_rewrite_with_recomputed_hashes_is_caught(ctx, staff, tmp_path):
    write_events(ctx, staff, 6)
    path = take(ctx, tmp_path)
    pinned = json.loads(path.read_text())["seq"]
    with covertly(ctx.db) as conn:
        rewrite_from(conn, 1, "rewritten")
    assert audit_log.verify_chain(ctx).intact
    problem = only_problem(against(ctx, path)[1])
    assert f"Event {pinned} has another hash" in problem and "whole chain" in problem


def test_a_chain_forked_before_the_checkpoint_is_caught(ctx, staff, tmp_path):
    write_events(ctx, staff, 6)
    path = take(ctx, tmp_path)
    pinned = json.loads(path.read_text())["seq"]
    write_events(ctx, staff, 2)
    with covertly(ctx.db) as conn:  # a different past from pinned - 3 on, then grown on
        rewrite_from(conn, pinned - 3, "another history")
        append_forged(conn)
    assert audit_log.verify_chain(ctx).intact
    problem = only_problem(against(ctx, path)[1])
    assert f"up to {pinned} were rewritten" in problem


def test_each_checkpoint_given_is_held_against_the_chain(ctx, staff, tmp_path):
    write_events(ctx, staff, 3)
    early = take(ctx, tmp_path, "early.json")
    write_events(ctx, staff, 3)
    late = take(ctx, tmp_path, "late.json")
    early_seq = json.loads(early.read_text())["seq"]
    with covertly(ctx.db) as conn:
        cut_end(conn, early_seq + 1)
    _report, findings = against(ctx, early, late)
    assert [f.holds for f in findings] == [True, False]
    assert findings[1].name.endswith("late.json")


def test_a_forged_event_after_the_newest_checkpoint_is_not_caught_but_pinned_later(
        ctx, staff, tmp_path):
    """The documented limit: the chain has no secret, so a correctly chained forgery
    after the newest checkpoint passes. A checkpoint taken later pins it: removing
    it then (to hide it) is caught."""
    write_events(ctx, staff, 3)
    first = take(ctx, tmp_path, "first.json")
    with covertly(ctx.db) as conn:
        append_forged(conn)
    report, findings = against(ctx, first)
    assert report.intact and findings[0].holds  # not caught: nothing outside knew of it
    later = take(ctx, tmp_path, "later.json")
    forged_at = json.loads(later.read_text())["seq"]
    with covertly(ctx.db) as conn:
        cut_end(conn, forged_at - 1)
    _report, findings = against(ctx, first, later)
    assert [f.holds for f in findings] == [True, False]


def test_a_forged_event_back_dated_before_the_checkpoint_is_caught(ctx, staff, tmp_path):
    """A forgery after the checkpoint cannot claim to be older than the checkpoint: the
    approval 'of last week' slipped in today is found."""
    write_events(ctx, staff, 3)
    path = take(ctx, tmp_path)
    with covertly(ctx.db) as conn:
        append_forged(conn, earlier=timedelta(days=7))
    assert audit_log.verify_chain(ctx).intact
    problem = only_problem(against(ctx, path)[1])
    assert "added later and back-dated" in problem and "2019-08-13 10:00 JST" in problem


# -- signatures ------------------------------------------------------------------------------
@pytest.fixture
def key_pair(tmp_path):
    private, public, _ = checkpoints.generate_key(tmp_path / "audit.key")
    return checkpoints.load_private_key(private), checkpoints.load_public_key(public)


def test_a_signed_checkpoint_verifies_with_its_public_key(ctx, staff, tmp_path, key_pair):
    private, public = key_pair
    write_events(ctx, staff, 2)
    path = take(ctx, tmp_path, key=private)
    data = json.loads(path.read_text())
    assert data["signature"]["algorithm"] == "Ed25519"
    assert data["signature"]["key"].startswith("SHA256:")
    report, findings = against(ctx, path, public_key=public)
    assert report.intact and findings[0].holds


def test_an_edited_signed_checkpoint_does_not_verify(ctx, staff, tmp_path, key_pair):
    """An attacker who rewrote the chain edits the checkpoint to match it."""
    private, public = key_pair
    write_events(ctx, staff, 4)
    path = take(ctx, tmp_path, key=private)
    with covertly(ctx.db) as conn:
        cut_end(conn, 3)
        digest = conn.execute(text("SELECT hash FROM audit_event WHERE seq = 3")).scalar_one()
    data = json.loads(path.read_text())
    data.update(seq=3, hash=digest)
    path.write_text(json.dumps(data))
    assert "signature does not verify" in only_problem(against(ctx, path, public_key=public)[1])
    del data["signature"]  # or drops the signature altogether
    path.write_text(json.dumps(data))
    assert "not signed" in only_problem(against(ctx, path, public_key=public)[1])


def test_a_checkpoint_signed_by_another_key_is_reported(ctx, staff, tmp_path, key_pair):
    _private, public = key_pair
    other = checkpoints.generate_key(tmp_path / "other.key")[0]
    write_events(ctx, staff, 2)
    path = take(ctx, tmp_path, key=checkpoints.load_private_key(other))
    assert "signed by another key" in only_problem(against(ctx, path, public_key=public)[1])


def test_a_signed_checkpoint_without_a_public_key_is_not_taken_at_its_word(
        ctx, staff, tmp_path, key_pair):
    private, _public = key_pair
    write_events(ctx, staff, 2)
    path = take(ctx, tmp_path, key=private)
    assert "no public key was given" in only_problem(against(ctx, path)[1])


def test_keys_are_owner_only_and_never_overwritten(tmp_path):
    private, public, fingerprint = checkpoints.generate_key(tmp_path / "audit.key")
    assert oct(os.stat(private).st_mode & 0o777) == "0o600"
    assert public.name == "audit.key.pub" and fingerprint.startswith("SHA256:")
    with pytest.raises(UserError, match="never overwritten"):
        checkpoints.generate_key(private)
    os.chmod(private, 0o644)
    with pytest.raises(UserError, match="chmod 600"):
        checkpoints.load_private_key(private)


def test_a_file_that_is_not_a_checkpoint_is_refused_by_name(ctx, staff, tmp_path):
    write_events(ctx, staff, 1)
    bad = tmp_path / "notes.json"
    bad.write_text('{"seq": 3}')
    with pytest.raises(UserError, match=r"notes\.json is not a checkpoint file"):
        against(ctx, bad)
    bad.write_text("not json")
    with pytest.raises(UserError, match=r"notes\.json"):
        against(ctx, bad)


# -- the triggers by their definitions -------------------------------------------------------
@contextmanager
def replaced_guard(db, *statements: str):
    """Run ``statements``, then put migration 0005's triggers back (PostgreSQL's test
    database outlives the test)."""
    with db.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)
    try:
        yield
    finally:
        if not db.is_sqlite:
            with db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_event_append_only "
                                     "ON audit_event")
                conn.exec_driver_sql(_migration().PG_FUNCTION)
                conn.exec_driver_sql(_migration().PG_TRIGGER)


PG_NOOP = """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql"""


def test_a_trigger_replaced_by_a_no_op_under_its_name_is_named(ctx, staff):
    write_events(ctx, staff, 3)
    if ctx.db.is_sqlite:
        statements = ("DROP TRIGGER audit_event_no_update",
                      "CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event "
                      "WHEN 0 BEGIN SELECT 1; END")
        named = "Trigger audit_event_no_update was redefined"
    else:
        statements = (PG_NOOP,)
        named = "Trigger function audit_event_append_only() was redefined"
    with replaced_guard(ctx.db, *statements):
        with ctx.db.engine.begin() as conn:  # the no-op is real: an edit goes through
            conn.execute(text("UPDATE audit_event SET reason = reason WHERE seq = 1"))
        report = audit_log.verify_chain(ctx)
    assert not report.intact
    assert named in report.problem_en and "append-only" in report.problem_en
    if not ctx.db.is_sqlite:
        assert audit_log.verify_chain(ctx).intact  # put back as migration 0005 made it


PG_REDEFINED = {
    "after instead of before": "CREATE TRIGGER audit_event_append_only AFTER UPDATE OR DELETE "
                               "ON audit_event FOR EACH ROW EXECUTE FUNCTION "
                               "audit_event_append_only()",
    "update only": "CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
                   "FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()",
    "never when": "CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON "
                  "audit_event FOR EACH ROW WHEN (false) EXECUTE FUNCTION "
                  "audit_event_append_only()",
}


@pytest.mark.parametrize("how", sorted(PG_REDEFINED))
def test_a_postgresql_trigger_redefined_under_its_name_is_named(ctx, staff, how):
    if ctx.db.is_sqlite:
        pytest.skip("PostgreSQL's trigger definitions")
    write_events(ctx, staff, 2)
    with replaced_guard(ctx.db, "DROP TRIGGER audit_event_append_only ON audit_event",
                        PG_REDEFINED[how]):
        report = audit_log.verify_chain(ctx)
    assert not report.intact
    assert "Trigger audit_event_append_only was redefined" in report.problem_en


def test_a_postgresql_trigger_left_to_replicas_only_is_named(ctx, staff):
    if ctx.db.is_sqlite:
        pytest.skip("PostgreSQL's trigger modes")
    write_events(ctx, staff, 2)
    with replaced_guard(ctx.db, "ALTER TABLE audit_event ENABLE REPLICA TRIGGER "
                                "audit_event_append_only"):
        report = audit_log.verify_chain(ctx)
    assert not report.intact and "tgenabled = R" in report.problem_en
