"""payout rails: one live payout per case across transfers, card and nanaco requests

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 12:00:00

A case carries the one rail that holds it (``case_file.payout_rail``); every live
transfer (refund_item) and every live card or nanaco request (payout_request) names
its rail, and a foreign key (case_id, rail) -> case_file (id, payout_rail) makes the
database refuse a live payout on a second rail.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LIVE_INDEX = {"refund_item": "uq_refund_item_live_case",
               "payout_request": "uq_payout_request_live_case"}
_RAILS = {"refund_item": "'transfer'", "payout_request": "'card', 'nanaco'"}


def _refuse_double_payouts() -> None:
    """A case live on two rails at once is the very fault this revision closes: name
    the cases and stop, rather than choose which payment to believe."""
    rows = op.get_bind().execute(sa.text(
        "SELECT c.case_number FROM case_file c WHERE c.id IN "
        "(SELECT case_id FROM refund_item WHERE live) AND c.id IN "
        "(SELECT case_id FROM payout_request WHERE live) ORDER BY c.case_number")).all()
    if rows:
        numbers = ", ".join(r[0] for r in rows)
        raise RuntimeError(
            f"振込と依頼リストの両方で支払手続中の案件があります: {numbers}。"
            "どちらかを取り消してから更新してください。 / These cases are live on a transfer "
            f"and a card or nanaco request at once: {numbers}; settle one first.")


def _backfill() -> None:
    op.execute("UPDATE refund_item SET rail = 'transfer' WHERE live")
    op.execute("UPDATE payout_request SET rail = (SELECT CASE payout_list.kind "
               "WHEN 'nanaco' THEN 'nanaco' ELSE 'card' END FROM payout_list "
               "WHERE payout_list.id = payout_request.list_id) WHERE live")
    op.execute("UPDATE case_file SET payout_rail = 'transfer' "
               "WHERE id IN (SELECT case_id FROM refund_item WHERE live)")
    op.execute("UPDATE case_file SET payout_rail = (SELECT rail FROM payout_request "
               "WHERE payout_request.case_id = case_file.id AND payout_request.live) "
               "WHERE id IN (SELECT case_id FROM payout_request WHERE live)")


def _drop_live_index(table: str) -> None:
    op.drop_index(_LIVE_INDEX[table], table_name=table, sqlite_where=sa.text("live"),
                  postgresql_where=sa.text("live"))


def _create_live_index(table: str) -> None:
    op.create_index(_LIVE_INDEX[table], table, ["case_id"], unique=True,
                    sqlite_where=sa.text("live"), postgresql_where=sa.text("live"))


def upgrade() -> None:
    _refuse_double_payouts()
    with op.batch_alter_table("case_file") as batch:
        batch.add_column(sa.Column("payout_rail", sa.String(length=10), nullable=True))
    op.create_index("uq_case_file_id_rail", "case_file", ["id", "payout_rail"], unique=True)
    for table in _RAILS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("rail", sa.String(length=10), nullable=True))
    _backfill()
    for table, rails in _RAILS.items():
        # SQLite rebuilds the table; its partial index is put back by hand, WHERE and all.
        _drop_live_index(table)
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.create_check_constraint(
                "rail_when_live",
                f"(live AND rail IS NOT NULL AND rail IN ({rails})) "
                "OR (NOT live AND rail IS NULL)")
            batch.create_foreign_key(f"fk_{table}_rail_claim", "case_file",
                                     ["case_id", "rail"], ["id", "payout_rail"])
        _create_live_index(table)


def downgrade() -> None:
    for table in _RAILS:
        _drop_live_index(table)
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_rail_claim", type_="foreignkey")
            batch.drop_constraint("ck_%s_rail_when_live" % table, type_="check")
            batch.drop_column("rail")
        _create_live_index(table)
    op.drop_index("uq_case_file_id_rail", table_name="case_file")
    with op.batch_alter_table("case_file") as batch:
        batch.drop_column("payout_rail")
