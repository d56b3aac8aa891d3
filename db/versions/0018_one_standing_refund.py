"""one standing refund application per member, in the database

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 14:30:00

The spec's first rule: an application of a member who already has one that is not
refused is a duplicate (the one on record stands). The imports and the phone form
decide it, but two desks deciding at once on PostgreSQL (an app file and a web file
for the same member) each saw no other and both stood. This partial unique index
makes the database refuse the second: its import is refused whole, and imported again
its row is a duplicate.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The states that no longer hold the member's one refund (app.services.refunds_import
# NOT_STANDING): a later application may stand.
STANDING = ("member_ref IS NOT NULL AND state NOT IN "
            "('duplicate', 'refused', 'refused_closed', 'refused_no_balance')")


def upgrade() -> None:
    op.create_index("uq_refund_application_standing", "refund_application", ["member_ref"],
                    unique=True, sqlite_where=sa.text(STANDING),
                    postgresql_where=sa.text(STANDING))


def downgrade() -> None:
    op.drop_index("uq_refund_application_standing", table_name="refund_application")
