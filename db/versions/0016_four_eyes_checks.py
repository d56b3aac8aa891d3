"""four eyes in the database: the approver is not the verifier, the releaser not the builder

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 14:00:00

The services refuse both (app.domain.workflow, app.services.payouts); these CHECKs make
the database refuse them too, for a write that does not come through the services
(a desk on SQLite with a tool of its own, a bug in a later change).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHECKS = {
    "case_file": ("four_eyes_approval",
                  "approved_by IS NULL OR verified_by IS NULL OR approved_by <> verified_by"),
    "refund_batch": ("four_eyes_release",
                     "released_by IS NULL OR built_by IS NULL OR released_by <> built_by"),
}


def upgrade() -> None:
    for table, (name, condition) in CHECKS.items():
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.create_check_constraint(name, condition)


def downgrade() -> None:
    for table, (name, _condition) in CHECKS.items():
        with op.batch_alter_table(table, recreate="auto") as batch:
            batch.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
