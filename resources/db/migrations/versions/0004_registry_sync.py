"""registry sync state and quarantine (#3)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

`registry_sync_state`: one row per registry source (last sync, watermark, recent run counts).
`registry_quarantine`: records a sync could not ingest, with the reason and the raw payload.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_AT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "registry_sync_state",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("last_attempt_at", _AT, nullable=False),
        sa.Column("last_success_at", _AT, nullable=True),
        sa.Column("last_complete_at", _AT, nullable=True),
        sa.Column("watermark", _AT, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("counts", postgresql.JSONB(), nullable=False),
        sa.Column("recent", postgresql.JSONB(), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_registry_sync_state")),
    )
    op.create_table(
        "registry_quarantine",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=512), nullable=False),
        sa.Column("model_id", sa.String(length=512), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("first_seen", _AT, nullable=False),
        sa.Column("last_seen", _AT, nullable=False),
        sa.Column("times_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("source", "record_key", name=op.f("pk_registry_quarantine")),
    )
    op.create_index("ix_registry_quarantine_last_seen", "registry_quarantine", ["last_seen"])


def downgrade() -> None:
    op.drop_index("ix_registry_quarantine_last_seen", table_name="registry_quarantine")
    op.drop_table("registry_quarantine")
    op.drop_table("registry_sync_state")
