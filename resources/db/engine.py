"""Engine construction, shared by the pipeline and the API (free of Dagster imports)."""

from sqlalchemy import Engine, create_engine


def make_engine(url: str, **kwargs) -> Engine:
    return create_engine(url, pool_pre_ping=True, **kwargs)
