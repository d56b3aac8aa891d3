"""centre server: sessions, per-address sign-in failures, room for sealed TOTP secrets

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 12:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.storage.types import UTCDateTime

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Room for a secret sealed under the server's key (a Fernet token).
    with op.batch_alter_table("operator") as batch:
        batch.alter_column("totp_secret", type_=sa.String(255), existing_nullable=True)
    op.create_table(
        "server_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("end_reason", sa.String(40), nullable=True),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"],
                                name="fk_server_session_operator_id_operator"),
        sa.PrimaryKeyConstraint("id", name="pk_server_session"),
        sa.UniqueConstraint("token_hash", name="uq_server_session_token_hash"),
    )
    op.create_index("ix_server_session_operator_id", "server_session", ["operator_id"])
    op.create_table(
        "server_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_address", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_server_failure"),
    )
    op.create_index("ix_server_failure_client_address", "server_failure", ["client_address"])
    op.create_index("ix_server_failure_at", "server_failure", ["at"])


def downgrade() -> None:
    op.drop_table("server_failure")
    op.drop_table("server_session")
    with op.batch_alter_table("operator") as batch:
        batch.alter_column("totp_secret", type_=sa.String(64), existing_nullable=True)
