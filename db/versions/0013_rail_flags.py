"""rail flags: live is a boolean, and a done transfer or request stays live

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 13:15:00

Found by attacking the rails (tests/services/test_attack_rails.py): SQLite stores any
value in a BOOLEAN column, and live = 'yes' was false to the rail CHECK and to the
partial unique indexes, so a forged transfer escaped the rail's foreign key; and a done
transfer made not live freed its case's rail for a second payout.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LIVE_IS_BOOLEAN = "live IN (true, false)"
DONE_STAYS_LIVE = "result IS NULL OR (result = 'done') = live"
# table -> (its partial indexes on live rows: name, column), the checks it takes
TABLES = {
    "refund_item": ((("uq_refund_item_live_case", "case_id"),
                     ("uq_refund_item_live_application", "application_ref")),
                    {"live_is_boolean": LIVE_IS_BOOLEAN, "done_stays_live": DONE_STAYS_LIVE}),
    "payout_request": ((("uq_payout_request_live_case", "case_id"),),
                       {"live_is_boolean": LIVE_IS_BOOLEAN, "done_stays_live": DONE_STAYS_LIVE}),
    "postal_order": ((("uq_postal_order_live_application", "application_ref"),),
                     {"live_is_boolean": LIVE_IS_BOOLEAN}),
}
_LIVE = {"sqlite_where": sa.text("live"), "postgresql_where": sa.text("live")}


def _rebuilt(table: str, change) -> None:
    """SQLite rebuilds the table: its partial indexes are put back by hand, WHERE and all."""
    indexes, _checks = TABLES[table]
    for name, _column in indexes:
        op.drop_index(name, table_name=table, **_LIVE)
    with op.batch_alter_table(table, recreate="auto") as batch:
        change(batch)
    for name, column in indexes:
        op.create_index(name, table, [column], unique=True, **_LIVE)


def upgrade() -> None:
    for table, (_indexes, checks) in TABLES.items():
        def add(batch, checks=checks):
            for name, condition in checks.items():
                batch.create_check_constraint(name, condition)
        _rebuilt(table, add)


def downgrade() -> None:
    for table, (_indexes, checks) in TABLES.items():
        def drop(batch, table=table, checks=checks):
            for name in checks:
                batch.drop_constraint(f"ck_{table}_{name}", type_="check")
        _rebuilt(table, drop)
