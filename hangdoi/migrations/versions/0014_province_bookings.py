"""Bookings made on the province's booking page for its linked centres, signed by the province.

At a province server: `province_booking` (each booking, `seq` its place in the order its centre
receives them, bumped again when it is cancelled), and each link's `offer` (the slots the centre
last said it has free). At a centre: `province_peer` (the province's public key and the centre's
link id there, as the link last said, and the province's mark of the last booking that came down:
where the next pull starts), and `booking.from_province`.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "province_booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("service_code", sa.String(32), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=False),
        sa.Column("end", sa.String(5), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("id_number", sa.String(12), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["centre_link.id"],
                                name=op.f("fk_province_booking_link_id_centre_link")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_province_booking")),
        sa.UniqueConstraint("public_id", name=op.f("uq_province_booking_public_id")),
        sa.UniqueConstraint("link_id", "seq", name=op.f("uq_province_booking_link_id_seq")),
        sa.UniqueConstraint("link_id", "code", name=op.f("uq_province_booking_link_id_code")),
    )
    op.create_index("ix_province_booking_slot", "province_booking", ["link_id", "local_day", "service_code", "start"])
    op.create_index("ix_province_booking_phone", "province_booking", ["link_id", "phone", "local_day"])
    with op.batch_alter_table("centre_link") as batch:
        batch.add_column(sa.Column("offer", sa.Text(), nullable=True))
        batch.add_column(sa.Column("offer_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "province_peer",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("signing_key", sa.String(64), nullable=False),
        sa.Column("bookings_through", sa.Integer(), nullable=False),
        sa.Column("learned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_province_peer_centre_id_centre")),
        sa.PrimaryKeyConstraint("centre_id", name=op.f("pk_province_peer")),
    )
    with op.batch_alter_table("booking") as batch:
        batch.add_column(sa.Column("from_province", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("booking") as batch:
        batch.drop_column("from_province")
    op.drop_table("province_peer")
    with op.batch_alter_table("centre_link") as batch:
        batch.drop_column("offer_at")
        batch.drop_column("offer")
    op.drop_index("ix_province_booking_phone", "province_booking")
    op.drop_index("ix_province_booking_slot", "province_booking")
    op.drop_table("province_booking")
