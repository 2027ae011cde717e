"""The last state each hardware device reported (keypads, LED signs, bridges), kept for the
dashboard: a manager who opens it after a fault still sees the device down.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 17:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(20), nullable=False),
        sa.Column("port", sa.String(200), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_device_state_centre_id_centre")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_state")),
        sa.UniqueConstraint("centre_id", "device", "port", name=op.f("uq_device_state_centre_id_device_port")),
    )


def downgrade() -> None:
    op.drop_table("device_state")
