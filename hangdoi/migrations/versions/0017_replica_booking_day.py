"""At a province server: each linked centre's bookings of a local day, counted by kind, state and
lateness, as the centre last sent them (bookings change state, so they go up as counts, not as a log).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 13:40:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "replica_booking_day",
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["centre_link.id"], name=op.f("fk_replica_booking_day_link_id_centre_link")),
        sa.PrimaryKeyConstraint("link_id", "local_day", name=op.f("pk_replica_booking_day")),
    )


def downgrade() -> None:
    op.drop_table("replica_booking_day")
