"""Citizens' details recorded at the counter, where a centre turns it on; purged after a period.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('citizen_detail',
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=16), nullable=True),
    sa.Column('id_number', sa.String(length=12), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_citizen_detail_centre_id_centre')),
    sa.ForeignKeyConstraint(['recorded_by'], ['officer.id'], name=op.f('fk_citizen_detail_recorded_by_officer')),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], name=op.f('fk_citizen_detail_ticket_id_ticket')),
    sa.PrimaryKeyConstraint('ticket_id', name=op.f('pk_citizen_detail'))
    )
    op.create_index('ix_citizen_detail_centre_id_recorded_at', 'citizen_detail', ['centre_id', 'recorded_at'])


def downgrade() -> None:
    op.drop_index('ix_citizen_detail_centre_id_recorded_at', table_name='citizen_detail')
    op.drop_table('citizen_detail')
