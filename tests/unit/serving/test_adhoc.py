"""The ad-hoc ranking over an in-memory matrix, and when that matrix is (re)loaded."""

import asyncio

import pandas as pd
import pytest

from serving.errors import NotFound, Unavailable
from serving.recommendations import adhoc, repository
from serving.recommendations.schemas import RankingQuery


def _frame() -> pd.DataFrame:
    rows = [
        ("k1", "chat", "m/a", "H100", 500.0, 20.0, "apache-2.0"),
        ("k2", "chat", "m/b", "B200", 900.0, 10.0, "mit"),
        ("k3", "chat", "m/c", "B200", 300.0, 50.0, "mit"),
        ("k4", "embed", "m/d", "H100", 100.0, 5.0, "mit"),
    ]
    frame = pd.DataFrame(
        rows,
        columns=["result_key", "task", "model_id", "gpu", "throughput_per_gpu",
                 "latency_p95_ms", "license"],
    )  # fmt: skip
    frame["num_gpus"] = 1
    frame["provenance"] = [{"source": "test"}] * len(frame)
    frame["config"] = [{"key": key} for key in frame["result_key"]]
    return frame


def _query(**values) -> RankingQuery:
    return RankingQuery.model_validate(
        {"task": "chat", "weights": {"throughput_per_gpu": 1.0}} | values
    )


def test_build_groups_by_task_and_keeps_the_configs():
    matrix = adhoc.build("v1", _frame())
    assert sorted(matrix.by_task) == ["chat", "embed"]
    assert len(matrix.by_task["chat"]) == 3
    assert matrix.configs["k2"] == {"key": "k2"}
    assert adhoc.build(None, pd.DataFrame()) == adhoc.Matrix(None, {}, {})


def test_answer_ranks_the_task_on_all_its_gpus_with_configs():
    body = adhoc.answer(adhoc.build("v1", _frame()), _query(stability_draws=0))
    assert (body["task"], body["gpus"]) == ("chat", ["B200", "H100"])
    assert [i["result_key"] for i in body["items"]] == ["k2", "k1", "k3"]
    assert [i["config"] for i in body["items"]] == [{"key": "k2"}, {"key": "k1"}, {"key": "k3"}]


def test_answer_filters_gpus_and_applies_limits():
    matrix = adhoc.build("v1", _frame())
    body = adhoc.answer(matrix, _query(gpus=["B200"], constraints={"licenses": ["apache-2.0"]}))
    assert body["gpus"] == ["B200"] and body["candidates"] == 2
    assert body["items"] == [] and body["excluded"][0]["removed"] == 2


def test_answer_names_the_valid_tasks_and_gpus():
    matrix = adhoc.build("v1", _frame())
    with pytest.raises(NotFound, match="valid: chat, embed"):
        adhoc.answer(matrix, _query(task="nope"))
    with pytest.raises(NotFound, match="'A10'.*valid: B200, H100") as caught:
        adhoc.answer(matrix, _query(gpus=["A10", "H100"]))
    assert caught.value.detail["valid"] == {"gpus": ["B200", "H100"]}


@pytest.mark.parametrize(
    "weights",
    [{"speed": 1.0}, {"quality": 0.0}, {}, {"quality": -1.0}, {"quality": float("inf")}],
)
def test_the_query_refuses_bad_weights(weights):
    with pytest.raises(ValueError):
        _query(weights=weights)


class _FakeDatabase:
    """Answers `active_version` from a variable and counts full loads."""

    def __init__(self):
        self.version: str | None = "v1"
        self.loads = 0
        self.down = False

    async def run(self, fn, *args):
        if self.down:
            raise Unavailable("down")
        if fn is repository.active_version:
            return self.version
        assert fn is adhoc.load
        self.loads += 1
        return adhoc.Matrix(self.version, {}, {})


def test_the_store_loads_once_checks_the_version_at_most_every_check_s_and_fails_open():
    now = [0.0]
    store = adhoc.CandidateStore(check_s=2.0, clock=lambda: now[0])
    db = _FakeDatabase()

    async def scenario():
        first, second = await asyncio.gather(store.get(db), store.get(db))
        assert first is second and db.loads == 1  # concurrent first queries share one load
        db.version = "v2"
        now[0] = 1.0
        assert (await store.get(db)).version == "v1"  # not checked yet
        now[0] = 2.5
        assert (await store.get(db)).version == "v2"
        assert db.loads == 2
        now[0] = 5.0
        assert (await store.get(db)).version == "v2" and db.loads == 2  # unchanged: no load
        db.down = True
        now[0] = 8.0
        assert (await store.get(db)).version == "v2"  # the database is down: keep serving

    asyncio.run(scenario())


def test_the_first_load_reports_an_outage():
    db = _FakeDatabase()
    db.down = True
    with pytest.raises(Unavailable):
        asyncio.run(adhoc.CandidateStore().get(db))
