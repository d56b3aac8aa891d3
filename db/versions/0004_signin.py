"""sign-in defences: lockout, second factor, password resets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may name sqlmodel types)
from alembic import op

import app.storage.types

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = app.storage.types.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.add_column(sa.Column("password_changed_at", UTC(), nullable=True))
        batch.add_column(sa.Column("failed_count", sa.Integer(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("lock_count", sa.Integer(), server_default="0",
                                   nullable=False))
        batch.add_column(sa.Column("locked_until", UTC(), nullable=True))
        batch.add_column(sa.Column("totp_secret", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("totp_confirmed_at", UTC(), nullable=True))
        batch.add_column(sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTC(), nullable=False),
        sa.Column("used_at", UTC(), nullable=True),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"],
                                name=op.f("fk_recovery_code_operator_id_operator")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
    )
    op.create_index(op.f("ix_recovery_code_operator_id"), "recovery_code", ["operator_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_recovery_code_operator_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    with op.batch_alter_table("operator") as batch:
        for name in ("totp_last_step", "totp_confirmed_at", "totp_secret", "locked_until",
                     "lock_count", "failed_count", "password_changed_at"):
            batch.drop_column(name)
