"""The month arithmetic behind partition names and bounds (resources/db/timeseries.py)."""

from datetime import date

import pytest

from resources.db.timeseries import add_months, month_partition_name, month_start


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [
        (date(2025, 1, 1), 0, date(2025, 1, 1)),
        (date(2025, 11, 1), 2, date(2026, 1, 1)),
        (date(2025, 12, 1), 1, date(2026, 1, 1)),
        (date(2025, 1, 1), -1, date(2024, 12, 1)),
        (date(2024, 3, 1), 25, date(2026, 4, 1)),
    ],
)
def test_add_months_crosses_year_boundaries(month, count, expected):
    assert add_months(month, count) == expected


def test_month_start_and_partition_names_sort_in_time_order():
    assert month_start(date(2025, 2, 28)) == date(2025, 2, 1)
    months = [add_months(date(2024, 9, 1), n) for n in range(6)]
    names = [month_partition_name("gpu_prices", m) for m in months]
    assert names == sorted(names)
    assert names[0] == "gpu_prices_p2024_09" and names[-1] == "gpu_prices_p2025_02"
