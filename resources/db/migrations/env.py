"""Alembic environment: runs against the connection handed over by `resources.db.migrate`."""

from alembic import context
from sqlalchemy import create_engine

from resources.db.tables import Base

config = context.config
target_metadata = Base.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    with create_engine(config.get_main_option("sqlalchemy.url")).connect() as conn:
        _migrate(conn)
        conn.commit()


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
