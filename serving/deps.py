"""Dependency aliases: what a route may ask for, all owned by the app's lifespan.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in the thread pool, a
thread hop per dependency per request for what is an attribute lookup.
"""

from typing import Annotated

from fastapi import Depends, Request

from resources.settings import Settings
from serving.cache import CacheReader
from serving.db import Database


async def _database(request: Request) -> Database:
    return request.app.state.database


async def _cache(request: Request) -> CacheReader:
    return request.app.state.cache


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


DatabaseDep = Annotated[Database, Depends(_database)]
CacheDep = Annotated[CacheReader, Depends(_cache)]
SettingsDep = Annotated[Settings, Depends(_settings)]
