"""Visits that begin on a phone: bookings (slots and remote numbers), the counts that bound them,
and on `ticket` where it came from and, for an appointment, when it is due.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

DUE_WAITING_SQL = "status = 'waiting' AND due_at IS NOT NULL AND target_counter_id IS NULL"
REMOTE_SQL = "status = 'remote'"


def upgrade() -> None:
    op.add_column("ticket", sa.Column("origin", sa.String(8), nullable=True))
    op.add_column("ticket", sa.Column("due_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_ticket_due_queue", "ticket", ["centre_id", "local_day", "service_id", "queued_at"],
                    sqlite_where=sa.text(DUE_WAITING_SQL), postgresql_where=sa.text(DUE_WAITING_SQL))
    op.create_index("ix_ticket_remote", "ticket", ["centre_id", "local_day", "service_id", "queued_at"],
                    sqlite_where=sa.text(REMOTE_SQL), postgresql_where=sa.text(REMOTE_SQL))
    # Details read from a chip ID card at the kiosk were recorded by no officer.
    with op.batch_alter_table("citizen_detail") as batch:
        batch.alter_column("recorded_by", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "booking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("start", sa.String(5), nullable=True),
        sa.Column("end", sa.String(5), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("phone", sa.String(16), nullable=False),
        sa.Column("full_name", sa.String(100), nullable=False),
        sa.Column("id_number", sa.String(12), nullable=True),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("checked_in_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("turn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("travel_minutes", sa.Integer(), nullable=True),
        sa.Column("notices", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_booking_centre_id_centre")),
        sa.ForeignKeyConstraint(["service_id"], ["service.id"], name=op.f("fk_booking_service_id_service")),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"], name=op.f("fk_booking_ticket_id_ticket")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_booking")),
        sa.UniqueConstraint("centre_id", "code", name=op.f("uq_booking_centre_id_code")),
        sa.UniqueConstraint("public_id", name=op.f("uq_booking_public_id")),
        sa.UniqueConstraint("ticket_id", name=op.f("uq_booking_ticket_id")),
    )
    op.create_index("ix_booking_slot", "booking", ["service_id", "local_day", "start"])
    op.create_index("ix_booking_centre_id_local_day_status", "booking", ["centre_id", "local_day", "status"])
    op.create_table(
        "booking_count",
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("what", sa.String(80), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_booking_count_centre_id_centre")),
        sa.PrimaryKeyConstraint("centre_id", "local_day", "what", name=op.f("pk_booking_count")),
    )


def downgrade() -> None:
    op.execute("DELETE FROM citizen_detail WHERE recorded_by IS NULL")
    with op.batch_alter_table("citizen_detail") as batch:
        batch.alter_column("recorded_by", existing_type=sa.Integer(), nullable=False)
    op.drop_table("booking_count")
    op.drop_index("ix_booking_centre_id_local_day_status", table_name="booking")
    op.drop_index("ix_booking_slot", table_name="booking")
    op.drop_table("booking")
    op.drop_index("ix_ticket_remote", table_name="ticket")
    op.drop_index("ix_ticket_due_queue", table_name="ticket")
    # SQLite drops a column in place (3.35+): a batch copy of `ticket` would lose its triggers (0007).
    op.execute("ALTER TABLE ticket DROP COLUMN due_at")
    op.execute("ALTER TABLE ticket DROP COLUMN origin")
