"""Lobby displays: each screen with its own key and counter filter.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 03:15:36.532912
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('display',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('counters', sa.JSON(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_display_centre_id_centre')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_display')),
    sa.UniqueConstraint('key', name=op.f('uq_display_key'))
    )


def downgrade() -> None:
    op.drop_table('display')
