"""refund letters: a letter is a case's or a refund application's; refusal codes

Revision ID: 0017
Revises: 0016 (main's four-eyes checks; written as 0016, re-chained after it)
Create Date: 2026-12-04 14:10:00

letter.case_id becomes nullable and letter.application_ref names a balance-refund
application instead, exactly one of the two (CHECK one_programme, as refund_item since
0012); letter.postal_order_id names the 払出証書 a payment notice is about. Each refund
application gets each kind of letter once (partial unique index), a 払出証書's notice
once per certificate. refund_application.refusal_code says why a refused application
was refused (app.domain.refunds.REFUSAL_REASONS); rows refused before it are given
theirs from the state their refusal left (read from the audit trail).
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_REFUND_ONCE = "application_ref IS NOT NULL AND postal_order_id IS NULL"
_POSTAL_ONCE = "postal_order_id IS NOT NULL"
# The state an application was refused from -> the reason the letter words.
_FROM_STATE = {"awaiting_identity": "identity_not_confirmed", "unmatched": "member_not_found",
               "late": "late", "held_overlap": "compensated"}

_application = sa.table("refund_application", sa.column("id", sa.Integer),
                        sa.column("state", sa.String), sa.column("refusal_code", sa.String))
_audit = sa.table("audit_event", sa.column("id", sa.Integer), sa.column("action", sa.String),
                  sa.column("entity", sa.String), sa.column("entity_id", sa.Integer),
                  sa.column("before", sa.Text))


def _backfill() -> None:
    bind = op.get_bind()
    refused = [row.id for row in bind.execute(
        sa.select(_application.c.id).where(_application.c.state == "refused"))]
    for app_id in refused:
        event = bind.execute(
            sa.select(_audit.c.action, _audit.c.before)
            .where(_audit.c.entity == "refund", _audit.c.entity_id == app_id,
                   _audit.c.action.in_(("refund.refuse", "refund.settle_overlap")))
            .order_by(_audit.c.id.desc()).limit(1)).first()
        code = "identity_not_confirmed"
        if event is not None and event.action == "refund.settle_overlap":
            code = "compensated"
        elif event is not None:
            try:
                state = (json.loads(event.before or "{}") or {}).get("state")
            except ValueError:
                state = None
            code = _FROM_STATE.get(state, code)
        bind.execute(sa.update(_application).where(_application.c.id == app_id)
                     .values(refusal_code=code))


def upgrade() -> None:
    with op.batch_alter_table("refund_application", recreate="auto") as batch:
        batch.add_column(sa.Column("refusal_code", sa.String(30), nullable=True))
    _backfill()
    with op.batch_alter_table("letter", recreate="auto") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("application_ref", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("postal_order_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_letter_application_ref_refund_application",
                                 "refund_application", ["application_ref"], ["id"])
        batch.create_foreign_key("fk_letter_postal_order_id_postal_order", "postal_order",
                                 ["postal_order_id"], ["id"])
        batch.create_check_constraint("one_programme",
                                      "(case_id IS NULL) <> (application_ref IS NULL)")
        batch.create_check_constraint("postal_order_is_a_refunds",
                                      "postal_order_id IS NULL OR application_ref IS NOT NULL")
    op.create_index("uq_letter_refund_once", "letter", ["application_ref", "kind"], unique=True,
                    sqlite_where=sa.text(_REFUND_ONCE), postgresql_where=sa.text(_REFUND_ONCE))
    op.create_index("uq_letter_postal_order_once", "letter", ["postal_order_id", "kind"],
                    unique=True, sqlite_where=sa.text(_POSTAL_ONCE),
                    postgresql_where=sa.text(_POSTAL_ONCE))


def downgrade() -> None:
    """Refund letters cannot stay without a case: they are removed first."""
    op.drop_index("uq_letter_postal_order_once", table_name="letter",
                  sqlite_where=sa.text(_POSTAL_ONCE), postgresql_where=sa.text(_POSTAL_ONCE))
    op.drop_index("uq_letter_refund_once", table_name="letter",
                  sqlite_where=sa.text(_REFUND_ONCE), postgresql_where=sa.text(_REFUND_ONCE))
    op.execute("DELETE FROM letter WHERE case_id IS NULL")
    with op.batch_alter_table("letter", recreate="auto") as batch:
        batch.drop_constraint(op.f("ck_letter_postal_order_is_a_refunds"), type_="check")
        batch.drop_constraint(op.f("ck_letter_one_programme"), type_="check")
        batch.drop_constraint("fk_letter_postal_order_id_postal_order", type_="foreignkey")
        batch.drop_constraint("fk_letter_application_ref_refund_application",
                              type_="foreignkey")
        batch.drop_column("postal_order_id")
        batch.drop_column("application_ref")
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("refund_application", recreate="auto") as batch:
        batch.drop_column("refusal_code")
