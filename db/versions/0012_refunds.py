"""balance refund: closing balances, applications, refunds paid once per member, 払出証書

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 12:30:00

A refund application carries its payout rail like a case does (``payout_rail``); a live
払出証書 names its rail, and a foreign key (application_ref, rail) ->
refund_application (id, payout_rail) refuses a live payout on another rail. The refund
is paid once per member: refund_payment.member_ref is unique.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.storage.types import UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _operator(name: str) -> sa.Column:
    return sa.Column(name, sa.Integer(), sa.ForeignKey("operator.id"), nullable=True)


def _member_table() -> None:
    op.create_table(
        "refund_member", _id(),
        sa.Column("member_id", sa.String(64), nullable=False, unique=True),
        sa.Column("balance", sa.BigInteger(), nullable=False),
        sa.Column("fraud_charge_balance", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.String(200)), sa.Column("name_kana", sa.String(200)),
        sa.Column("kana_key", sa.String(200), nullable=False),
        sa.Column("phone", sa.String(40)),
        sa.Column("phone_digits", sa.String(20), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("email_key", sa.String(254), nullable=False),
        sa.Column("postal_code", sa.String(8)), sa.Column("address", sa.Text()),
        sa.Column("birth_date", sa.Date()), sa.Column("closed_on", sa.Date()),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("victim_id", sa.Integer(), sa.ForeignKey("victim.id")),
        sa.Column("import_batch_id", sa.Integer(), sa.ForeignKey("import_batch.id")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("balance >= 0", name="balance_not_negative"),
        sa.CheckConstraint("fraud_charge_balance IS NULL OR "
                           "(fraud_charge_balance >= 0 AND fraud_charge_balance <= balance)",
                           name="fraud_part_within_balance"),
    )
    for column in ("phone_digits", "email_key", "victim_id"):
        op.create_index(f"ix_refund_member_{column}", "refund_member", [column])


def _application_table() -> None:
    op.create_table(
        "refund_application", _id(),
        sa.Column("application_id", sa.String(64), nullable=False, unique=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("member_ref", sa.Integer(), sa.ForeignKey("refund_member.id")),
        sa.Column("member_id", sa.String(64)),
        sa.Column("route", sa.String(10), nullable=False),
        sa.Column("applied_at", UTCDateTime(), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_kana", sa.String(200)), sa.Column("phone", sa.String(40)),
        sa.Column("email", sa.String(254)), sa.Column("birth_date", sa.Date()),
        sa.Column("bank_code", sa.String(4)), sa.Column("branch_code", sa.String(3)),
        sa.Column("account_type", sa.String(10)), sa.Column("account_number", sa.String(7)),
        sa.Column("holder_kana", sa.String(100)),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("state_reason", sa.Text()),
        sa.Column("refundable_amount", sa.BigInteger()),
        sa.Column("identity_how", sa.String(30)),
        _operator("decided_by"),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("payout_rail", sa.String(10)),
        sa.Column("import_batch_id", sa.Integer(), sa.ForeignKey("import_batch.id")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.CheckConstraint("payout_rail IS NULL OR payout_rail IN ('transfer', 'postal')",
                           name="known_rail"),
    )
    op.create_index("ix_refund_application_member_ref", "refund_application", ["member_ref"])
    op.create_index("ix_refund_application_state", "refund_application",
                    ["state", "applied_at"])
    op.create_index("uq_refund_application_id_rail", "refund_application",
                    ["id", "payout_rail"], unique=True)


def _payment_tables() -> None:
    op.create_table(
        "refund_payment", _id(),
        sa.Column("member_ref", sa.Integer(), sa.ForeignKey("refund_member.id"),
                  nullable=False, unique=True),
        sa.Column("application_ref", sa.Integer(), sa.ForeignKey("refund_application.id"),
                  nullable=False, unique=True),
        sa.Column("amount", sa.BigInteger(), sa.CheckConstraint("amount > 0",
                                                                name="amount_positive"),
                  nullable=False),
        sa.Column("rail", sa.String(10), nullable=False),
        sa.Column("reference", sa.String(100)),
        sa.Column("paid_at", UTCDateTime(), nullable=False),
        _operator("operator_id"),
    )
    op.create_index("ix_refund_payment_paid_at", "refund_payment", ["paid_at"])
    op.create_table(
        "postal_order_list", _id(),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("file_sha256", sa.String(64)),
        _operator("created_by"),
        sa.Column("created_at", UTCDateTime(), nullable=False),
    )
    op.create_table(
        "postal_order", _id(),
        sa.Column("list_id", sa.Integer(), sa.ForeignKey("postal_order_list.id"),
                  nullable=False),
        sa.Column("application_ref", sa.Integer(), sa.ForeignKey("refund_application.id"),
                  nullable=False),
        sa.Column("amount", sa.BigInteger(), sa.CheckConstraint("amount > 0",
                                                                name="amount_positive"),
                  nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("rail", sa.String(10)),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("certificate_number", sa.String(30)),
        sa.Column("expires_on", sa.Date()),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.Column("result_at", UTCDateTime(), nullable=True),
        _operator("result_by"),
        sa.CheckConstraint("(live AND rail IS NOT NULL AND rail = 'postal') "
                           "OR (NOT live AND rail IS NULL)", name="rail_when_live"),
        sa.ForeignKeyConstraint(["application_ref", "rail"],
                                ["refund_application.id", "refund_application.payout_rail"],
                                name="fk_postal_order_rail_claim"),
    )
    op.create_index("ix_postal_order_list_id", "postal_order", ["list_id"])
    op.create_index("ix_postal_order_application_ref", "postal_order", ["application_ref"])
    op.create_index("uq_postal_order_live_application", "postal_order", ["application_ref"],
                    unique=True, sqlite_where=sa.text("live"), postgresql_where=sa.text("live"))


def _refund_items_for_both_programmes() -> None:
    """A transfer batch's item is a case's or a refund application's; SQLite rebuilds the
    table, so its partial index is put back by hand, WHERE and all (as in 0009)."""
    op.drop_index("uq_refund_item_live_case", table_name="refund_item",
                  sqlite_where=sa.text("live"), postgresql_where=sa.text("live"))
    with op.batch_alter_table("refund_item", recreate="auto") as batch:
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=True)
        batch.add_column(sa.Column("application_ref", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_refund_item_application_ref_refund_application",
                                 "refund_application", ["application_ref"], ["id"])
        batch.create_foreign_key("fk_refund_item_refund_rail_claim", "refund_application",
                                 ["application_ref", "rail"], ["id", "payout_rail"])
        batch.create_check_constraint("one_programme",
                                      "(case_id IS NULL) <> (application_ref IS NULL)")
    op.create_index("uq_refund_item_live_case", "refund_item", ["case_id"], unique=True,
                    sqlite_where=sa.text("live"), postgresql_where=sa.text("live"))
    op.create_index("ix_refund_item_application_ref", "refund_item", ["application_ref"])
    op.create_index("uq_refund_item_live_application", "refund_item", ["application_ref"],
                    unique=True, sqlite_where=sa.text("live"), postgresql_where=sa.text("live"))


def upgrade() -> None:
    _member_table()
    _application_table()
    _payment_tables()
    _refund_items_for_both_programmes()


def downgrade() -> None:
    op.drop_index("uq_refund_item_live_application", table_name="refund_item",
                  sqlite_where=sa.text("live"), postgresql_where=sa.text("live"))
    op.drop_index("ix_refund_item_application_ref", table_name="refund_item")
    op.drop_index("uq_refund_item_live_case", table_name="refund_item",
                  sqlite_where=sa.text("live"), postgresql_where=sa.text("live"))
    with op.batch_alter_table("refund_item", recreate="auto") as batch:
        batch.drop_constraint("ck_refund_item_one_programme", type_="check")
        batch.drop_constraint("fk_refund_item_refund_rail_claim", type_="foreignkey")
        batch.drop_constraint("fk_refund_item_application_ref_refund_application",
                              type_="foreignkey")
        batch.drop_column("application_ref")
        batch.alter_column("case_id", existing_type=sa.Integer(), nullable=False)
    op.create_index("uq_refund_item_live_case", "refund_item", ["case_id"], unique=True,
                    sqlite_where=sa.text("live"), postgresql_where=sa.text("live"))
    for table in ("postal_order", "postal_order_list", "refund_payment", "refund_application",
                  "refund_member"):
        op.drop_table(table)
