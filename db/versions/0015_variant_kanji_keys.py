"""re-key victims' name search keys: variant kanji fold (髙橋 → 高橋, 渡邊 → 渡辺)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.domain.text import search_key

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 2000
_victim = sa.table("victim", sa.column("id", sa.Integer), sa.column("name", sa.Text),
                   sa.column("name_key", sa.Text))


def upgrade() -> None:
    """Only the rows whose key changes are written, a batch at a time."""
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(_victim.c.id, _victim.c.name, _victim.c.name_key)
                            .where(_victim.c.id > last).order_by(_victim.c.id)
                            .limit(_BATCH)).all()
        if not rows:
            return
        changed = [{"vid": row.id, "key": search_key(row.name)} for row in rows
                   if search_key(row.name) != row.name_key]
        if changed:
            bind.execute(sa.update(_victim).where(_victim.c.id == sa.bindparam("vid"))
                         .values(name_key=sa.bindparam("key")), changed)
        last = rows[-1].id


def downgrade() -> None:
    """The folded keys still find every name they found before: nothing to undo."""
