"""outreach holds, call-backs and dashboard settings

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may name sqlmodel types)
from alembic import op

import app.storage.types

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_queue",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("held_until", app.storage.types.UTCDateTime(), nullable=True),
        sa.Column("failed_attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("call_back_at", app.storage.types.UTCDateTime(), nullable=True),
        sa.Column("letter_due", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("closed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("updated_at", app.storage.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case_file.id"],
                                name=op.f("fk_case_queue_case_id_case_file")),
        sa.ForeignKeyConstraint(["holder_id"], ["operator.id"],
                                name=op.f("fk_case_queue_holder_id_operator")),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_queue")),
    )
    op.create_index("ix_case_queue_letter", "case_queue", ["letter_due", "case_id"])
    op.create_index(op.f("ix_case_queue_call_back_at"), "case_queue", ["call_back_at"])
    op.create_index(op.f("ix_case_queue_holder_id"), "case_queue", ["holder_id"])
    op.create_index("ix_case_file_figures", "case_file",
                    ["channel", "status", "claimed_amount", "verified_amount", "approved_amount",
                     "paid_amount"])
    op.create_index("ix_case_file_status_updated", "case_file", ["status", "updated_at"])
    op.create_index("ix_case_file_status_approved", "case_file", ["status", "approved_at"])


def downgrade() -> None:
    op.drop_index("ix_case_file_status_approved", table_name="case_file")
    op.drop_index("ix_case_file_status_updated", table_name="case_file")
    op.drop_index("ix_case_file_figures", table_name="case_file")
    op.drop_index(op.f("ix_case_queue_holder_id"), table_name="case_queue")
    op.drop_index(op.f("ix_case_queue_call_back_at"), table_name="case_queue")
    op.drop_index("ix_case_queue_letter", table_name="case_queue")
    op.drop_table("case_queue")
