"""Audit log of every administrative change; counters' hardware settings.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 08:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('centre_id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['centre_id'], ['centre.id'], name=op.f('fk_audit_log_centre_id_centre')),
    sa.ForeignKeyConstraint(['officer_id'], ['officer.id'], name=op.f('fk_audit_log_officer_id_officer')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    op.create_index('ix_audit_log_centre_id_at', 'audit_log', ['centre_id', 'at'])
    with op.batch_alter_table('counter') as batch:
        batch.add_column(sa.Column('hardware', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('counter') as batch:
        batch.drop_column('hardware')
    op.drop_index('ix_audit_log_centre_id_at', table_name='audit_log')
    op.drop_table('audit_log')
