"""Provisioning: one space per (name, profile); snapshots know their exposer and path.

Revision ID: 0002
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_spaces_name_profile', ['name', 'profile_id'])
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exposer_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('path', sa.Text(), nullable=True))
        batch_op.create_foreign_key('fk_snapshots_exposer', 'exposers', ['exposer_id'],
                                    ['id'], ondelete='CASCADE')


def downgrade() -> None:
    with op.batch_alter_table('snapshots', schema=None) as batch_op:
        batch_op.drop_constraint('fk_snapshots_exposer', type_='foreignkey')
        batch_op.drop_column('path')
        batch_op.drop_column('exposer_id')
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.drop_constraint('uq_spaces_name_profile', type_='unique')
