"""The change an audit entry belongs to (the centre's seq), so a linked centre sends its audit log to
the province with its timeline. Entries written before have none and stay at the centre.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 13:25:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("seq", sa.Integer(), nullable=True))
    op.create_index("ix_audit_log_centre_id_seq", "audit_log", ["centre_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_log_centre_id_seq", "audit_log")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("seq")
