from datetime import datetime, timedelta, timezone

from pydantic import TypeAdapter

from serving.schemas import UtcDatetime

ADAPTER = TypeAdapter(UtcDatetime)


def test_any_offset_renders_as_the_same_utc_instant():
    paris = datetime(2025, 6, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    assert ADAPTER.dump_json(ADAPTER.validate_python(paris)) == b'"2025-06-01T12:30:00Z"'


def test_naive_values_are_taken_as_utc():
    naive = datetime(2025, 6, 1, 12, 30)
    assert ADAPTER.dump_json(ADAPTER.validate_python(naive)) == b'"2025-06-01T12:30:00Z"'
