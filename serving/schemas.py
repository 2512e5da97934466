"""Schema pieces shared by the domains."""

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def _to_utc(value: datetime) -> datetime:
    # psycopg2 returns timestamps in the session's time zone; render every one in UTC so the
    # bytes the pipeline caches and the bytes a fallback renders are identical.
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]
