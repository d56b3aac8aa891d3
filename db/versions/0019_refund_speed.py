"""refund speed: the programme's figures from narrow indexes, not whole-table scans

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-04 15:00:00

At 440,000 members the figures (members, balance total, refundable total) read every
row of refund_member and refund_application; each sum is answered from an index holding
only what it adds up.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_refund_member_balance", "refund_member", ["balance"])
    op.create_index("ix_refund_application_state_amount", "refund_application",
                    ["state", "refundable_amount"])


def downgrade() -> None:
    op.drop_index("ix_refund_application_state_amount", table_name="refund_application")
    op.drop_index("ix_refund_member_balance", table_name="refund_member")
