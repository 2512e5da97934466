import asyncio

import pytest
from sqlalchemy.exc import OperationalError, ProgrammingError

from serving.db import Database, is_outage, serving_engine
from serving.errors import Unavailable


def test_outages_are_told_apart_from_bugs():
    assert is_outage(OperationalError("SELECT 1", {}, Exception("server closed the connection")))
    assert not is_outage(ProgrammingError("SELEC 1", {}, Exception("syntax error")))


def test_an_unreachable_database_is_unavailable():
    engine = serving_engine("postgresql+psycopg2://postgres@127.0.0.1:1/none")
    database = Database(engine)

    async def scenario():
        assert await database.ping() is False
        with pytest.raises(Unavailable, match="database is unavailable"):
            await database.run(lambda conn: conn.exec_driver_sql("SELECT 1"))

    try:
        asyncio.run(scenario())
    finally:
        engine.dispose()
