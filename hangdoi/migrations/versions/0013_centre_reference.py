"""What a linked centre's figures are named by at its province: its name, time zone and wait target,
its fields, procedures, counters and officers, as the centre last sent them (one JSON document).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 09:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("centre_link") as batch:
        batch.add_column(sa.Column("reference", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reference_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("centre_link") as batch:
        batch.drop_column("reference_at")
        batch.drop_column("reference")
