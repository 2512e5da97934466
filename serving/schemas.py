"""Schema pieces shared by the domains."""

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator


def _to_utc(value: datetime) -> datetime:
    # psycopg2 returns timestamps in the session's time zone; render every one in UTC so the
    # bytes the pipeline caches and the bytes a fallback renders are identical.
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_to_utc)]


def _encodable(value: str) -> str:
    # JSON's `\ud800` escape decodes to a lone surrogate, which no store or encoder accepts.
    try:
        value.encode()
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (it holds a lone surrogate)") from None
    return value


# A string from a JSON body: well-formed Unicode (query strings cannot carry lone surrogates).
Text = Annotated[str, AfterValidator(_encodable)]

# PostgreSQL text cannot hold NUL: string parameters refuse it (422) instead of failing in the
# driver (500). As a `pattern`, so the OpenAPI document says so too.
NO_NUL = r"^[^\x00]*$"

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}([T ].*)?", re.DOTALL)


def _iso_date(value: Any) -> Any:
    # Pydantic would also read `0` or `1.5e9` as Unix time: a typo must not become 1970-01-01.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date as YYYY-MM-DD")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, str) and not _ISO_DATETIME.fullmatch(value):
        raise ValueError("must be an ISO 8601 date-time, e.g. 2025-06-01T12:00:00Z")
    return value


# Query parameters: ISO 8601 text only (their OpenAPI format is `date` / `date-time`).
IsoDate = Annotated[date, BeforeValidator(_iso_date)]
IsoDatetime = Annotated[datetime, BeforeValidator(_iso_datetime)]


def _instant_utc(value: datetime) -> datetime:
    # One instant, one cache key and one cursor digest: 02:00+02:00 and 00:00Z are the same.
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except OverflowError as error:  # e.g. 0001-01-01T00:00+14:00 is before year 1 in UTC
        raise ValueError("is out of range") from error


# An ISO 8601 instant from a query parameter, in UTC (no offset given: UTC).
Instant = Annotated[IsoDatetime, AfterValidator(_instant_utc)]
