"""GET /gpus: specs and the median on-demand price of the week before the newest observation."""

import pytest

pytestmark = pytest.mark.integration


def test_gpus_with_recent_median_price(client):
    body = client.get("/gpus").json()
    assert body["count"] == 2
    gpus = {g["name"]: g for g in body["data"]}
    assert gpus["B200"]["price"] is None
    assert gpus["B200"]["memory_bandwidth_gbps"] is None  # not published: null, not an error
    assert gpus["H100"]["aliases"] == ["H100 SXM5 80GB"]
    # 2, 3 and 4 $/h in the window; 100 $/h (30 days before) and the spot price are left out.
    assert gpus["H100"]["price"] == {
        "on_demand_usd_per_gpu_hour_p50": 3.0,
        "observations": 3,
        "window_start": "2025-11-13T12:00:00Z",
        "window_end": "2025-11-20T12:00:00Z",
    }


def test_gpus_on_an_empty_catalog(clean_db, make_client):
    assert make_client().get("/gpus").json() == {"data": [], "count": 0}
