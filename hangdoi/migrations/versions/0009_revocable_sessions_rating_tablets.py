"""Sign-outs that end sessions on the server, and rating tablets that prove which counter they face.

- `officer.session_version`: a signed-in page's cookie carries the version it was signed in under;
  signing out, a password change, deactivation or a manager's action moves it on, and every cookie
  made before stops working (Flask's session cookie is signed, not stored: without this a copied
  cookie outlived its sign-out).
- `counter.rating_key`: the unguessable key in the address of the tablet facing that counter's
  citizens; only that tablet hears which tickets the counter finished and may rate them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 13:40:00
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("officer") as batch:
        batch.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("counter") as batch:
        batch.add_column(sa.Column("rating_key", sa.String(64), nullable=True))
    conn = op.get_bind()
    for (counter_id,) in conn.execute(sa.text("SELECT id FROM counter")).all():
        conn.execute(sa.text("UPDATE counter SET rating_key = :key WHERE id = :id"),
                     {"key": secrets.token_urlsafe(16), "id": counter_id})
    op.create_index("ux_counter_rating_key", "counter", ["rating_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_counter_rating_key", table_name="counter")
    with op.batch_alter_table("counter") as batch:
        batch.drop_column("rating_key")
    with op.batch_alter_table("officer") as batch:
        batch.drop_column("session_version")
