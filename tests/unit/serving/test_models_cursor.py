"""The /models cursor: opaque, round-trips exactly, and refuses anything it did not issue."""

import base64
import datetime as dt
from dataclasses import replace

import orjson
import pytest

from serving.models.filters import (
    Cursor,
    CursorError,
    ModelFilters,
    Sort,
    _checksum,  # to forge well-formed bodies the API never issues
    decode_cursor,
    encode_cursor,
)

LISTING = ModelFilters(task="text-generation", min_params=1, sort=Sort.last_modified_desc)
MOMENT = dt.datetime(2025, 3, 4, 5, 6, 7, 891011, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (Sort.downloads_desc, 0),
        (Sort.likes, 2**40),
        (Sort.likes_desc, None),  # the page ended among models without likes
        (Sort.last_modified_desc, MOMENT),
        (Sort.last_modified, MOMENT.astimezone(dt.timezone(dt.timedelta(hours=-5)))),
        (Sort.id, None),
    ],
)
def test_round_trip_keeps_value_and_id_exactly(sort, value):
    f = replace(LISTING, sort=sort)
    token = encode_cursor(f, value, "Ünï/модель 100%_")
    assert decode_cursor(token, f) == Cursor(value, "Ünï/модель 100%_")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_page_size_and_offset_may_change_between_pages():
    token = encode_cursor(LISTING, MOMENT, "a/b")
    assert decode_cursor(token, replace(LISTING, limit=500, offset=0)).id == "a/b"


@pytest.mark.parametrize(
    "change",
    [
        {"task": None},
        {"author": "x"},
        {"license": "mit"},
        {"min_params": 2},
        {"max_params": 9},
        {"q": "llama"},
        {"include_removed": True},
    ],
)
def test_other_filters_are_refused(change):
    token = encode_cursor(LISTING, MOMENT, "a/b")
    with pytest.raises(CursorError, match="other filters"):
        decode_cursor(token, replace(LISTING, **change))


def test_another_sort_is_refused_naming_both():
    token = encode_cursor(LISTING, MOMENT, "a/b")
    with pytest.raises(CursorError, match="'-last_modified', not 'last_modified'"):
        decode_cursor(token, replace(LISTING, sort=Sort.last_modified))


def test_every_single_byte_edit_is_refused():
    token = encode_cursor(LISTING, MOMENT, "a/b")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    for at in range(len(raw)):
        edited = raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1 :]
        with pytest.raises(CursorError):
            decode_cursor(base64.urlsafe_b64encode(edited).decode(), LISTING)


@pytest.mark.parametrize("token", ["", "!!!!", "a", "abc$", "x" * 5000, "eyJhIjoxfQ"])
def test_garbage_is_refused(token):
    with pytest.raises(CursorError):
        decode_cursor(token, LISTING)


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (Sort.downloads, "12"),  # a number as text
        (Sort.downloads, 1.5),
        (Sort.downloads, True),  # JSON true is not a count
        (Sort.last_modified, "yesterday"),
        (Sort.last_modified, "2025-03-04T05:06:07"),  # no time zone
        (Sort.last_modified, 1741064767),
        (Sort.id, "a/b"),  # the id sort has no separate value
    ],
)
def test_a_value_of_the_wrong_type_is_refused(sort, value):
    f = replace(LISTING, sort=sort)
    with pytest.raises(CursorError, match="not one this API issued"):
        decode_cursor(encode_cursor(f, value, "a/b"), f)


def test_a_well_formed_body_with_a_wrong_shape_is_refused():
    f = replace(LISTING, sort=Sort.downloads)
    token = encode_cursor(f, 5, "a/b")
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    body = orjson.loads(raw[12:])
    assert body[0] == "downloads"  # the layout the next lines rely on
    for shape in ([*body, "extra"], body[:3], {"sort": body[0]}, [body[0], body[1], 5, ""]):
        encoded = orjson.dumps(shape)
        forged = base64.urlsafe_b64encode(_checksum(encoded).encode() + encoded).decode()
        with pytest.raises(CursorError):
            decode_cursor(forged, f)
