"""letter batches, file hashes and letter codes

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 06:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate may name sqlmodel types)
from alembic import op

import app.storage.types

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'letter_batch',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('operator_id', sa.Integer(), nullable=True),
        sa.Column('created_at', app.storage.types.UTCDateTime(), nullable=False),
        sa.Column('out_path', sa.Text(), nullable=False),
        sa.Column('per_case', sa.Boolean(), nullable=False),
        sa.Column('letters', sa.Integer(), nullable=False),
        sa.Column('pages', sa.Integer(), nullable=False),
        sa.Column('refused', sa.Integer(), nullable=False),
        sa.Column('file_sha256', sa.String(length=64), nullable=True),
        sa.Column('mailed_at', app.storage.types.UTCDateTime(), nullable=True),
        sa.Column('mailed_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['mailed_by'], ['operator.id'],
                                name=op.f('fk_letter_batch_mailed_by_operator')),
        sa.ForeignKeyConstraint(['operator_id'], ['operator.id'],
                                name=op.f('fk_letter_batch_operator_id_operator')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_batch')),
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.add_column(sa.Column('batch_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pages', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('first_page', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_letter_batch_id'), ['batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_letter_batch_id_letter_batch'),
                                    'letter_batch', ['batch_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_letter_batch_id_letter_batch'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_letter_batch_id'))
        batch_op.drop_column('first_page')
        batch_op.drop_column('pages')
        batch_op.drop_column('batch_id')
    op.drop_table('letter_batch')
