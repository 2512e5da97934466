"""models listing indexes: (column, id) per sort, filter + downloads, trigram search on id

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30

Keyset pagination reads one (column, id) index from the cursor on, so each sort column gets
one, and the filters combined with the default sort lead one. The trigram index serves `q`
(ILIKE '%...%'); it needs the pg_trgm extension, which the embedded pgserver does not ship,
so it is created only where the server has the extension.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_NEW = {
    "ix_models_downloads_id": ["downloads", "id"],
    "ix_models_likes_id": ["likes", "id"],
    "ix_models_last_modified_id": ["last_modified", "id"],
    "ix_models_pipeline_tag_downloads_id": ["pipeline_tag", "downloads", "id"],
    "ix_models_author_downloads_id": ["author", "downloads", "id"],
    "ix_models_license_downloads_id": ["license", "downloads", "id"],
    "ix_models_num_parameters": ["num_parameters"],
}
# Each is a prefix of a new index, which serves its queries: kept, they would only cost writes.
_OLD = {
    "ix_models_pipeline_tag_downloads": ["pipeline_tag", "downloads"],
    "ix_models_author": ["author"],
    "ix_models_downloads": ["downloads"],
}
_TRGM = "ix_models_id_trgm"


def _has_trgm() -> bool:
    query = sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
    return op.get_bind().scalar(query) is not None


def upgrade() -> None:
    for name in _OLD:
        op.drop_index(name, table_name="models")
    for name, columns in _NEW.items():
        op.create_index(name, "models", columns)
    if _has_trgm():
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index(
            _TRGM,
            "models",
            ["id"],
            postgresql_using="gin",
            postgresql_ops={"id": "gin_trgm_ops"},
        )


def downgrade() -> None:
    # The extension stays: it is database-wide and something else may have come to use it.
    op.execute(f"DROP INDEX IF EXISTS {_TRGM}")
    for name in _NEW:
        op.drop_index(name, table_name="models")
    for name, columns in _OLD.items():
        op.create_index(name, "models", columns)
