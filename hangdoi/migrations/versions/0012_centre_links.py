"""A province server's linked centres, the timeline rows they push and their tickets as those rows leave
them (hangdoi/services/replication).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 06:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "centre_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("area", sa.String(100), nullable=False),
        sa.Column("key_digest", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remote_centre", sa.Integer(), nullable=True),
        sa.Column("acknowledged", sa.Integer(), nullable=False),
        sa.Column("last_push_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre_link")),
        sa.UniqueConstraint("key_digest", name=op.f("uq_centre_link_key_digest")),
    )
    op.create_table(
        "replica_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(16), nullable=False),
        sa.Column("remote_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["centre_link.id"], name=op.f("fk_replica_row_link_id_centre_link")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replica_row")),
        sa.UniqueConstraint("link_id", "stream", "remote_id", name=op.f("uq_replica_row_link_id_stream_remote_id")),
    )
    op.create_index("ix_replica_row_link_id_local_day", "replica_row", ["link_id", "local_day"])
    op.create_table(
        "replica_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("remote_id", sa.Integer(), nullable=False),
        sa.Column("local_day", sa.Date(), nullable=False),
        sa.Column("service", sa.Integer(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["link_id"], ["centre_link.id"], name=op.f("fk_replica_ticket_link_id_centre_link")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_replica_ticket")),
        sa.UniqueConstraint("link_id", "remote_id", name=op.f("uq_replica_ticket_link_id_remote_id")),
    )
    op.create_index("ix_replica_ticket_link_id_local_day_status", "replica_ticket", ["link_id", "local_day", "status"])


    # A centre reads the changes after the province's mark every second or so.
    op.create_index("ix_ticket_event_centre_id_seq", "ticket_event", ["centre_id", "seq"])
    op.create_index("ix_counter_event_centre_id_seq", "counter_event", ["centre_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_counter_event_centre_id_seq", table_name="counter_event")
    op.drop_index("ix_ticket_event_centre_id_seq", table_name="ticket_event")
    op.drop_index("ix_replica_ticket_link_id_local_day_status", table_name="replica_ticket")
    op.drop_table("replica_ticket")
    op.drop_index("ix_replica_row_link_id_local_day", table_name="replica_row")
    op.drop_table("replica_row")
    op.drop_table("centre_link")
