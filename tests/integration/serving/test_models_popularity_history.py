"""GET /models/{id}/popularity serves the whole backfilled Hub history: 721 days.

The history is the real export in shared/data/hf_hub, read by the pipeline's own import path
(`hub_history` -> `snapshot_rows`, what `model_snapshots` backfills); the expected points are
read from the same file with the csv module, independently of that path.
"""

import csv
import gzip

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from assets.registry import hub_history
from assets.registry.parsing import snapshot_rows
from resources.db.tables import ModelSnapshot
from resources.settings import Settings

pytestmark = pytest.mark.integration

EXPORT = "hf_transformersjs_feature_extraction_daily_2024-05_2026-05.csv.gz"
DAYS = 721  # daily snapshots, 2024-05-08 .. 2026-05-07 (shared/data/README.md)


@pytest.fixture(scope="module")
def export_path(test_settings: Settings):
    path = test_settings.data_dir / "hf_hub" / EXPORT
    if not path.exists():
        pytest.skip(f"SKIPPED LOUDLY: the Hub export is not at {path}")
    return path


def _expected(path, model_id: str) -> list[dict]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["id"] == model_id]
    number = lambda text: int(text) if text else None  # noqa: E731
    return [
        {"date": r["snapshot_date"], "downloads": number(r["downloads"]),
         "likes": number(r["likes"]), "trending_rank": number(r["trending"])}
        for r in sorted(rows, key=lambda r: r["snapshot_date"])
    ]  # fmt: skip


@pytest.fixture(scope="module")
def history(export_path):
    """The export's daily series, and the model listed on every one of its days."""
    series = hub_history.daily_history(hub_history.read_export(export_path))
    days = series.groupby("model_id").snapshot_date.nunique()
    return series, days.idxmax(), int(days.max())


@pytest.fixture
def backfilled(clean_db: Engine, history) -> tuple[Engine, str]:
    series, model_id, _ = history
    # The best-covered model and a neighbour, so the read is shown to pick one model's rows.
    neighbour = series.model_id[series.model_id != model_id].iloc[0]
    rows = snapshot_rows(series[series.model_id.isin([model_id, neighbour])], "hf-hub-snapshot")
    with clean_db.begin() as conn:
        conn.execute(insert(ModelSnapshot), rows)
    return clean_db, model_id


def test_the_export_has_a_model_on_every_day(history):
    _, _, days = history
    assert days == DAYS


def test_all_721_days_come_back_in_order(backfilled, make_client, export_path):
    _, model_id = backfilled
    response = make_client().get(f"/models/{model_id}/popularity")
    assert response.status_code == 200, response.text
    points = response.json()["points"]
    assert len(points) == DAYS
    assert (points[0]["date"], points[-1]["date"]) == ("2024-05-08", "2026-05-07")
    assert points == _expected(export_path, model_id)


def test_a_window_of_the_history(backfilled, make_client, export_path):
    _, model_id = backfilled
    window = {"start": "2025-01-01", "end": "2025-12-31"}
    response = make_client().get(f"/models/{model_id}/popularity", params=window)
    points = response.json()["points"]
    # The export skips a few days (721 snapshots over 730 days): the window has what it has.
    inside = [
        p for p in _expected(export_path, model_id) if "2025-01-01" <= p["date"] <= "2025-12-31"
    ]
    assert points == inside
    assert 350 < len(points) <= 365
