"""`modelcat models search` reads parameter counts the way people write them."""

import pytest

from modelcat.api_commands import parameter_count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("7B", 7_000_000_000),
        ("7b", 7_000_000_000),
        ("1.5B", 1_500_000_000),
        ("350M", 350_000_000),
        ("22.7m", 22_700_000),
        ("70k", 70_000),
        ("1T", 1_000_000_000_000),
        ("8000000000", 8_000_000_000),
        ("8_000_000_000", 8_000_000_000),
        ("8,000,000,000", 8_000_000_000),
        (" 14.8B ", 14_800_000_000),  # exact: no float rounding (14.8 * 1e9 is 14799999999.99)
        ("0", 0),
    ],
)
def test_counts_with_and_without_a_suffix(text, count):
    assert parameter_count(text) == count


@pytest.mark.parametrize("text", ["", "seven", "-1B", "7 B", "7GB", "1e9", "B", "7.B", "0x10"])
def test_anything_else_is_refused_with_an_example(text):
    with pytest.raises(ValueError, match="is not a parameter count \\(e.g. 7B"):
        parameter_count(text)
