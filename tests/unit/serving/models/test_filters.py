import pytest

from serving.models.filters import Sort, contains_pattern, escape_like


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("qwen", "qwen"),
        ("100%", "100\\%"),
        ("a_b", "a\\_b"),
        ("back\\slash", "back\\\\slash"),
        ("\\%", "\\\\\\%"),  # the escape character is escaped first, then the wildcard
        ("'; drop table models; --", "'; drop table models; --"),  # bound, not spliced
    ],
)
def test_escape_like(text, escaped):
    assert escape_like(text) == escaped


def test_contains_pattern_wraps_the_escaped_text():
    assert contains_pattern("1_0%") == "%1\\_0\\%%"


@pytest.mark.parametrize(
    ("sort", "field", "descending"),
    [("downloads", "downloads", False), ("-downloads", "downloads", True), ("-id", "id", True)],
)
def test_sort_direction_comes_from_the_prefix(sort, field, descending):
    assert (Sort(sort).field, Sort(sort).descending) == (field, descending)


def test_every_field_sorts_both_ways():
    fields = {s.field for s in Sort}
    assert fields == {"downloads", "likes", "last_modified", "id"}
    assert {s.value for s in Sort} == fields | {f"-{f}" for f in fields}
