"""models lineage and registry filters (#3 API): GIN on base_models, source and gated indexes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30

A model page lists its children: the models whose `base_models` contain its id (fine-tunes,
quantizations, adapters, merges). `base_models @> ARRAY[id]` reads the GIN index instead of
every row's array; the default array operator class serves `@>`, `<@`, `&&` and `=`.

`source` and `gated` filter /models like `license` does, so they lead a (filter, downloads, id)
index as 0003's filters do: without one, a rare source (a private manifest, ~1%) or the gated
models (~5%) scanned the whole downloads index (0.5 s at 100k models, bench/bench_catalog.py).
The gated index is partial: open models, the common case, are served by the downloads index.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_BASE_MODELS = "ix_models_base_models"
_SOURCE = "ix_models_source_downloads_id"
_GATED = "ix_models_gated_downloads_id"


def upgrade() -> None:
    op.create_index(_BASE_MODELS, "models", ["base_models"], postgresql_using="gin")
    op.create_index(_SOURCE, "models", ["source", "downloads", "id"])
    op.create_index(_GATED, "models", ["downloads", "id"], postgresql_where=sa.text("gated"))


def downgrade() -> None:
    for name in (_GATED, _SOURCE, _BASE_MODELS):
        op.drop_index(name, table_name="models")
