"""The province's shared procedure catalogue: at a province server the list itself (one row), at a
centre the list as its link last brought it, from which its admin chooses the procedures it serves.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 13:35:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "province_catalogue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_province_catalogue")),
    )
    with op.batch_alter_table("province_peer") as batch:
        batch.add_column(sa.Column("catalogue", sa.Text(), nullable=True))
        batch.add_column(sa.Column("catalogue_fingerprint", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("province_peer") as batch:
        batch.drop_column("catalogue_fingerprint")
        batch.drop_column("catalogue")
    op.drop_table("province_catalogue")
