"""Exposers made for a space; dependent spaces; every space knows its junction.

Revision ID: 0003
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('exposers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('space_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key('fk_exposers_space', 'spaces', ['space_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.add_column(sa.Column('path', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('parent_id', sa.String(length=36), nullable=True))
        batch_op.create_foreign_key('fk_spaces_parent', 'spaces', ['parent_id'], ['id'],
                                    ondelete='SET NULL')
    # Spaces made before this revision were linked at <mount point>/<relativepath>.
    op.execute(
        "UPDATE spaces SET path = (SELECT e.mountpoint || '/' || spaces.relativepath "
        "FROM exposers e JOIN space_exposers se ON se.exposer_id = e.id "
        "WHERE se.space_id = spaces.id AND e.type = 'gpfsnative' AND e.mountpoint IS NOT NULL "
        "LIMIT 1) WHERE relativepath IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table('spaces', schema=None) as batch_op:
        batch_op.drop_constraint('fk_spaces_parent', type_='foreignkey')
        batch_op.drop_column('parent_id')
        batch_op.drop_column('path')
    with op.batch_alter_table('exposers', schema=None) as batch_op:
        batch_op.drop_constraint('fk_exposers_space', type_='foreignkey')
        batch_op.drop_column('space_id')
