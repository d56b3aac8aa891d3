"""refund batches, transfers and payout lists

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may name sqlmodel types)
from alembic import op

import app.storage.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A case is in at most one live batch or list: partial unique indexes on both.
    op.create_table(
        "payout_list",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("card_issuer", sa.String(length=100), nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", app.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["operator.id"], name=op.f("fk_payout_list_created_by_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_list")),
    )
    op.create_table(
        "refund_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=True),
        sa.Column("transfer_date", sa.Date(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("built_by", sa.Integer(), nullable=True),
        sa.Column("built_at", app.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("released_by", sa.Integer(), nullable=True),
        sa.Column("released_at", app.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("exported_at", app.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("sent_by", sa.Integer(), nullable=True),
        sa.Column("sent_at", app.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.Integer(), nullable=True),
        sa.Column("cancelled_at", app.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["built_by"], ["operator.id"], name=op.f("fk_refund_batch_built_by_operator")
        ),
        sa.ForeignKeyConstraint(
            ["cancelled_by"], ["operator.id"], name=op.f("fk_refund_batch_cancelled_by_operator")
        ),
        sa.ForeignKeyConstraint(
            ["released_by"], ["operator.id"], name=op.f("fk_refund_batch_released_by_operator")
        ),
        sa.ForeignKeyConstraint(
            ["sent_by"], ["operator.id"], name=op.f("fk_refund_batch_sent_by_operator")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_batch")),
    )
    op.create_index(op.f("ix_refund_batch_status"), "refund_batch", ["status"], unique=False)
    op.create_table(
        "payout_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("live", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=True),
        sa.Column("result_reason", sa.Text(), nullable=True),
        sa.Column("result_at", app.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_payout_request_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["payout_list.id"], name=op.f("fk_payout_request_list_id_payout_list")
        ),
        sa.ForeignKeyConstraint(
            ["result_by"], ["operator.id"], name=op.f("fk_payout_request_result_by_operator")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payout_request_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_request")),
    )
    op.create_index(op.f("ix_payout_request_case_id"), "payout_request", ["case_id"], unique=False)
    op.create_index(op.f("ix_payout_request_list_id"), "payout_request", ["list_id"], unique=False)
    op.create_index(
        "uq_payout_request_live_case",
        "payout_request",
        ["case_id"],
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )
    op.create_table(
        "refund_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("live", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("bank_code", sa.String(length=4), nullable=False),
        sa.Column("branch_code", sa.String(length=3), nullable=False),
        sa.Column("account_type", sa.String(length=10), nullable=False),
        sa.Column("account_number", sa.String(length=7), nullable=False),
        sa.Column("holder_zengin", sa.String(length=60), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=True),
        sa.Column("result_reason", sa.Text(), nullable=True),
        sa.Column("result_at", app.storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["refund_batch.id"], name=op.f("fk_refund_item_batch_id_refund_batch")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case_file.id"], name=op.f("fk_refund_item_case_id_case_file")
        ),
        sa.ForeignKeyConstraint(
            ["result_by"], ["operator.id"], name=op.f("fk_refund_item_result_by_operator")
        ),
        sa.CheckConstraint("amount > 0", name=op.f("ck_refund_item_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refund_item")),
        sa.UniqueConstraint("batch_id", "seq", name="uq_refund_item_batch_seq"),
    )
    op.create_index(op.f("ix_refund_item_batch_id"), "refund_item", ["batch_id"], unique=False)
    op.create_index(op.f("ix_refund_item_case_id"), "refund_item", ["case_id"], unique=False)
    op.create_index(
        "uq_refund_item_live_case",
        "refund_item",
        ["case_id"],
        unique=True,
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_refund_item_live_case",
        table_name="refund_item",
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )
    op.drop_index(op.f("ix_refund_item_case_id"), table_name="refund_item")
    op.drop_index(op.f("ix_refund_item_batch_id"), table_name="refund_item")
    op.drop_table("refund_item")
    op.drop_index(
        "uq_payout_request_live_case",
        table_name="payout_request",
        sqlite_where=sa.text("live"),
        postgresql_where=sa.text("live"),
    )
    op.drop_index(op.f("ix_payout_request_list_id"), table_name="payout_request")
    op.drop_index(op.f("ix_payout_request_case_id"), table_name="payout_request")
    op.drop_table("payout_request")
    op.drop_index(op.f("ix_refund_batch_status"), table_name="refund_batch")
    op.drop_table("refund_batch")
    op.drop_table("payout_list")
