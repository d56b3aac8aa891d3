"""sign-in throttle: failures under an unknown name lock as an operator's do; payout
details remember when an existing destination was changed (not first entered)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.storage.types import UTCDateTime

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signin_throttle",
        sa.Column("login", sa.String(64), primary_key=True),
        sa.Column("failed_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("lock_count", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
    )
    with op.batch_alter_table("payout_detail") as batch:
        batch.add_column(sa.Column("changed_at", UTCDateTime(), nullable=True))
    # Details replaced before this revision: their audit event has a "before".
    op.execute(
        "UPDATE payout_detail SET changed_at = updated_at WHERE EXISTS (SELECT 1 FROM "
        "audit_event a WHERE a.case_id = payout_detail.case_id AND a.action = 'payout.set' "
        "AND a.before IS NOT NULL)")


def downgrade() -> None:
    with op.batch_alter_table("payout_detail") as batch:
        batch.drop_column("changed_at")
    op.drop_table("signin_throttle")
