"""Kiosks: each with its key, its name on tickets, and its printer.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 05:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('kiosk',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('printer', sa.JSON(), nullable=True),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_kiosk_centre_id_centre')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk')),
    sa.UniqueConstraint('centre_id', 'name', name=op.f('uq_kiosk_centre_id_name')),
    sa.UniqueConstraint('key', name=op.f('uq_kiosk_key'))
    )


def downgrade() -> None:
    op.drop_table('kiosk')
