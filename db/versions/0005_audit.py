"""audit chain and suspicious-pattern flags

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 06:50:00

Events already written get chained here in the order they were written (by id),
and the table becomes append-only at the database level: triggers refuse any
UPDATE or DELETE of a chained event (rows inserted in bulk and not yet chained
may receive their chain fields once).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may name sqlmodel types)
from alembic import op

import app.storage.types
from app.domain.audit_chain import FIELDS, GENESIS, event_hash

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = app.storage.types.UTCDateTime
CHUNK = 2000

_EVENTS = sa.table(
    "audit_event", sa.column("id", sa.Integer()), sa.column("at", UTC()),
    sa.column("operator_id", sa.Integer()), sa.column("actor_login", sa.String()),
    sa.column("action", sa.String()), sa.column("entity", sa.String()),
    sa.column("entity_id", sa.Integer()), sa.column("case_id", sa.Integer()),
    sa.column("before", sa.Text()), sa.column("after", sa.Text()),
    sa.column("reason", sa.Text()), sa.column("seq", sa.BigInteger()),
    sa.column("prev_hash", sa.String()), sa.column("hash", sa.String()))
_HEAD = sa.table("audit_head", sa.column("id", sa.Integer()),
                 sa.column("seq", sa.BigInteger()), sa.column("hash", sa.String()))

SQLITE_TRIGGERS = (
    """CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       WHEN OLD.seq IS NOT NULL
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END""",
)
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.seq IS NULL THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_event is append-only';
END;
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = """
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
FOR EACH ROW EXECUTE FUNCTION audit_event_append_only()
"""


def upgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("prev_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
        batch.create_index(batch.f("ix_audit_event_seq"), ["seq"], unique=True)
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    seq, last = _chain_existing(op.get_bind())
    op.execute(_HEAD.insert().values(id=1, seq=seq, hash=last))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_TRIGGER)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def _chain_existing(conn) -> tuple[int, str]:
    """Chain the events written before the chain existed, oldest id first."""
    seq, last, after_id = 0, GENESIS, 0
    columns = [_EVENTS.c[name] for name in FIELDS if name != "seq"]
    while True:
        rows = conn.execute(
            sa.select(_EVENTS.c.id, *columns).where(_EVENTS.c.id > after_id)
            .order_by(_EVENTS.c.id).limit(CHUNK)).mappings().all()
        if not rows:
            return seq, last
        updates = []
        for row in rows:
            seq += 1
            fields = dict(row) | {"seq": seq}
            digest = event_hash(fields, last)
            updates.append({"row_id": row["id"], "seq": seq, "prev": last, "digest": digest})
            last = digest
        conn.execute(_EVENTS.update().where(_EVENTS.c.id == sa.bindparam("row_id")).values(
            seq=sa.bindparam("seq"), prev_hash=sa.bindparam("prev"),
            hash=sa.bindparam("digest")), updates)
        after_id = rows[-1]["id"]


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
    op.drop_table("audit_head")
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_index(batch.f("ix_audit_event_seq"))
        batch.drop_column("hash")
        batch.drop_column("prev_hash")
        batch.drop_column("seq")
