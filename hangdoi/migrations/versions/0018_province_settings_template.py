"""The province's settings template: at a province server the template itself (one row), at a
centre the template as its link last brought it, from which its admin takes what it wants. And a
province booking's check-in, as the centre's timeline tells the province: when, and the number; and
numbers for today asked at the province (kind "remote"): the centre's ticket, or why it refused.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 16:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "province_settings_template",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_province_settings_template")),
    )
    with op.batch_alter_table("province_peer") as batch:
        batch.add_column(sa.Column("settings_template", sa.Text(), nullable=True))
        batch.add_column(sa.Column("settings_template_fingerprint", sa.String(64), nullable=True))
    with op.batch_alter_table("province_booking") as batch:
        batch.add_column(sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("ticket_number", sa.String(16), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(8), nullable=False, server_default="slot"))
        batch.add_column(sa.Column("ticket_remote_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("refusal", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("province_booking") as batch:
        batch.drop_column("refusal")
        batch.drop_column("ticket_remote_id")
        batch.drop_column("kind")
        batch.drop_column("ticket_number")
        batch.drop_column("checked_in_at")
    with op.batch_alter_table("province_peer") as batch:
        batch.drop_column("settings_template_fingerprint")
        batch.drop_column("settings_template")
    op.drop_table("province_settings_template")
