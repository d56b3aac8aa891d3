"""0017 (refund letters): letters of either programme; refused applications get their
refusal code from the state their refusal left, read from the audit trail; and back down."""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from app.storage import migrate
from app.storage.db import Database


def _to(db: Database, revision: str, down: bool = False) -> None:
    engine = migrate._migration_engine(db)
    try:
        with engine.begin() as conn:
            config = migrate._config()
            config.attributes["connection"] = conn
            (command.downgrade if down else command.upgrade)(config, revision)
    finally:
        engine.dispose()


_APP = ("INSERT INTO refund_application (id, application_id, content_hash, route, applied_at,"
        " method, name, state, created_at, updated_at, version) VALUES (:id, :number, 'h', "
        "'web', '2019-11-01T00:00:00+00:00', 'bank_transfer', '山田 太郎', :state, "
        "'2019-11-01T00:00:00+00:00', '2019-11-01T00:00:00+00:00', 1)")
_EVENT = ("INSERT INTO audit_event (at, actor_login, action, entity, entity_id, before) "
          "VALUES ('2019-12-01T00:00:00+00:00', 'op1', :action, 'refund', :id, :before)")


def test_refusal_codes_backfilled_then_down_and_up_again(tmp_path):
    db = Database(str(tmp_path / "m.sqlite3"))
    _to(db, "0016")
    with db.engine.begin() as conn:
        for app_id, state, action, before in (
                (1, "refused", "refund.refuse", '{"state": "late"}'),
                (2, "refused", "refund.settle_overlap", '{"state": "held_overlap"}'),
                (3, "refused", "refund.refuse", '{"state": "unmatched"}'),
                (4, "refused", None, None), (5, "confirmed", None, None)):
            conn.execute(text(_APP), {"id": app_id, "number": f"A{app_id}", "state": state})
            if action:
                conn.execute(text(_EVENT), {"action": action, "id": app_id, "before": before})
    _to(db, "head")
    with db.engine.connect() as conn:
        codes = dict(conn.execute(text("SELECT id, refusal_code FROM refund_application")).all())
    assert codes == {1: "late", 2: "compensated", 3: "member_not_found",
                     4: "identity_not_confirmed", 5: None}
    _to(db, "0016", down=True)
    _to(db, "head")
    assert migrate.current_revision(db) == migrate.head_revision()
    db.dispose()
