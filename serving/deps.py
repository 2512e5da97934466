"""Dependency aliases: what a route may ask for, all owned by the app's lifespan."""

from typing import Annotated

from fastapi import Depends, Request

from resources.settings import Settings
from serving.cache import CacheReader
from serving.db import Database


def _database(request: Request) -> Database:
    return request.app.state.database


def _cache(request: Request) -> CacheReader:
    return request.app.state.cache


def _settings(request: Request) -> Settings:
    return request.app.state.settings


DatabaseDep = Annotated[Database, Depends(_database)]
CacheDep = Annotated[CacheReader, Depends(_cache)]
SettingsDep = Annotated[Settings, Depends(_settings)]
