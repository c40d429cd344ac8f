"""Browser sessions of the planner's page, kept on the server.

One row per signed-in browser: the SHA-256 of its session cookie (never the cookie itself), who
it is (``subject``: ``admin`` for the holder of the server's token; a user's id once the server
has user accounts), its CSRF token, and when it was made and last used (the server's idle and
absolute expiry are counted from them).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("subject", sa.String(200), nullable=True, index=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False, index=True),
    )


def downgrade() -> None:
    op.drop_table("sessions")
