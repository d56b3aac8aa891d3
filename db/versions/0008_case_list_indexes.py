"""case list indexes: filter in case-number order, sort by claimed amount

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 07:55:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_case_file_list_filter", "case_file",
                    ["channel", "status", "case_number"])
    op.create_index("ix_case_file_claimed_amount", "case_file", ["claimed_amount", "id"])


def downgrade() -> None:
    op.drop_index("ix_case_file_claimed_amount", table_name="case_file")
    op.drop_index("ix_case_file_list_filter", table_name="case_file")
