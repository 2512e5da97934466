"""Benchmark planning: what is due, in which order, within which budget."""

import math

import pytest

from assets.benchmarks.plan import (
    Budget,
    Candidate,
    GpuOffer,
    LastRun,
    Outcomes,
    due_reason,
    estimate_gpu_hours,
    gpus_needed,
    plan,
    work_key,
)
from assets.benchmarks.runs import DEFAULT_CONFIG, config_key

H100 = GpuOffer("H100-SXM-80GB", 80, 3350, 2.0, 4.0)
L4 = GpuOffer("L4", 24, 300, 0.4, 0.8)
KEY = config_key(DEFAULT_CONFIG)
UNLIMITED = Budget(max_gpu_hours=math.inf, max_usd=math.inf)


def _model(name: str, downloads: int, params: float = 8e9, sha: str = "a" * 40) -> Candidate:
    return Candidate(name, sha, downloads, int(params))


def test_nothing_is_due_when_the_latest_result_is_current():
    last = {("m/a", H100.gpu, KEY): LastRun("a" * 40, "5.0", 500.0)}
    assert plan([_model("m/a", 10)], [H100], [DEFAULT_CONFIG], last, "5.0", UNLIMITED) == []


def test_a_new_revision_or_engine_triggers_a_rerun():
    candidate = _model("m/a", 10, sha="b" * 40)
    assert due_reason(candidate, None, "5.0") == "never measured"
    assert due_reason(candidate, LastRun("a" * 40, "5.0", 1.0), "5.0").startswith("new revision")
    assert due_reason(candidate, LastRun("b" * 40, "4.9", 1.0), "5.0") == "engine 4.9 -> 5.0"
    assert due_reason(candidate, LastRun("b" * 40, "4.9", 1.0), None) is None
    last = {("m/a", H100.gpu, KEY): LastRun("a" * 40, "5.0", 500.0)}
    [item] = plan([candidate], [H100], [DEFAULT_CONFIG], last, "5.0", UNLIMITED)
    assert item.status == "planned" and item.revision == "b" * 40
    assert item.reason.startswith("new revision aaaaaaaaaaaa -> bbbbbbbbbbbb")


def test_popular_models_come_first_and_duplicates_are_planned_once():
    models = [_model("m/rare", 5), _model("m/hot", 900), _model("m/hot", 1), _model("m/mid", 50)]
    items = plan(models, [H100, H100], [DEFAULT_CONFIG, dict(DEFAULT_CONFIG)], {}, None, UNLIMITED)
    assert [i.model_id for i in items] == ["m/hot", "m/mid", "m/rare"]
    assert [i.rank for i in items] == [1, 2, 3]
    assert items[0].downloads == 900  # the first record of a duplicated model wins


def test_the_budget_is_respected_and_cheaper_items_still_fit():
    big, small = _model("m/big", 100, params=70e9), _model("m/small", 10, params=1e9)
    [big_alone] = plan([big], [H100], [DEFAULT_CONFIG], {}, None, UNLIMITED)
    [small_alone] = plan([small], [H100], [DEFAULT_CONFIG], {}, None, UNLIMITED)
    budget = Budget(max_gpu_hours=big_alone.est_gpu_hours - 1e-6, max_usd=math.inf)
    items = plan([big, small], [H100], [DEFAULT_CONFIG], {}, None, budget)
    assert [(i.model_id, i.status) for i in items] == [
        ("m/big", "over_budget"),
        ("m/small", "planned"),
    ]
    planned = [i for i in items if i.status == "planned"]
    assert sum(i.est_gpu_hours for i in planned) <= budget.max_gpu_hours
    dollars = Budget(max_gpu_hours=math.inf, max_usd=small_alone.est_usd_spot * 1.5)
    items = plan([small, _model("m/small2", 5, params=1e9)], [H100], [DEFAULT_CONFIG], {}, None,
                 dollars)  # fmt: skip
    assert [i.status for i in items] == ["planned", "over_budget"]
    capped = Budget(math.inf, math.inf, max_usd_per_run=small_alone.est_usd_spot / 2)
    [item] = plan([small], [H100], [DEFAULT_CONFIG], {}, None, capped)
    assert (item.status, item.note) == ("over_budget", "over the per-run cap")


def test_spot_is_the_estimate_and_on_demand_the_fallback():
    [item] = plan([_model("m/a", 1)], [H100], [DEFAULT_CONFIG], {}, None, UNLIMITED)
    assert item.est_usd_spot == pytest.approx(item.est_gpu_hours * 2.0)
    assert item.est_usd_on_demand == pytest.approx(item.est_gpu_hours * 4.0)


def test_gpu_count_follows_memory_and_huge_models_are_unplannable():
    assert gpus_needed(8_000_000_000, "bfloat16", 80) == 1
    assert gpus_needed(70_000_000_000, "bfloat16", 80) == 4  # 140 GB x 1.3 headroom
    assert gpus_needed(8_000_000_000, "bfloat16", 24) == 1
    items = plan([_model("m/huge", 1, params=400e9)], [L4], [DEFAULT_CONFIG], {}, None, UNLIMITED)
    assert items[0].status == "unplannable" and "more than 8" in items[0].note


def test_unknown_size_or_price_is_unplannable_not_guessed():
    unpriced = GpuOffer("B200-180GB", 180, 8000, None, None)
    items = plan([_model("m/a", 1), Candidate("m/nosize", None, 0, None)], [unpriced],
                 [DEFAULT_CONFIG], {}, None, UNLIMITED)  # fmt: skip
    assert [(i.model_id, i.status, i.note) for i in items] == [
        ("m/a", "unplannable", "no price for B200-180GB"),
        ("m/nosize", "unplannable", "unknown model size"),
    ]


def test_a_past_run_beats_the_heuristic():
    slow, fast = (
        estimate_gpu_hours(8e9, DEFAULT_CONFIG, H100, 1, 10.0),
        estimate_gpu_hours(8e9, DEFAULT_CONFIG, H100, 1, None),
    )
    assert slow[1] == "past run" and fast[1] == "roofline heuristic"
    assert slow[0] > fast[0]  # 10 tokens/s measured is far below the roofline guess
    assert estimate_gpu_hours(8e9, DEFAULT_CONFIG, GpuOffer("X", 80, None, 1, 1), 1, None) == (
        None,
        "no bandwidth and no past run",
    )


def _judged(outcomes: Outcomes, last: LastRun | None = None, engine: str | None = None):
    candidate = _model("m/a", 10)
    key = work_key("m/a", H100.gpu, KEY, candidate.sha, engine)
    last_runs = {("m/a", H100.gpu, KEY): last} if last else {}
    budget = Budget(max_gpu_hours=math.inf, max_usd=1e-9)  # nothing fits if it is charged
    [item] = plan([candidate], [H100], [DEFAULT_CONFIG], last_runs, engine, UNLIMITED,
                  {key: outcomes}, max_failures=2)  # fmt: skip
    [charged] = plan([candidate, _model("m/b", 1)], [H100], [DEFAULT_CONFIG], last_runs, engine,
                     budget, {key: outcomes}, max_failures=2)[:1]  # fmt: skip
    return item, charged


def test_work_that_keeps_failing_is_given_up_and_costs_nothing():
    item, _ = _judged(Outcomes(failed=1, last_run_id="r1"))
    assert item.status == "planned" and item.note == "retry after 1 failure(s) (last run r1)"
    item, charged = _judged(Outcomes(failed=2, last_run_id="r2"))
    assert item.status == "given_up" and item.note.startswith("failed 2 times (last run r2)")
    assert charged.status == "given_up"  # not over_budget: it was never charged


def test_work_still_due_after_a_successful_run_is_given_up_not_rerun_forever():
    """The image runs engine 5.1 while 5.0 is configured: every result looks stale."""
    item, _ = _judged(Outcomes(succeeded=1), LastRun("a" * 40, "5.1", 500.0), engine="5.0")
    assert item.status == "given_up" and "engine 5.1" in item.note


def test_a_new_revision_or_engine_is_new_work_with_a_fresh_count():
    key = work_key("m/a", H100.gpu, KEY, "a" * 40, "5.0")
    assert key == work_key("m/a", H100.gpu, KEY, "a" * 40, "5.0")
    assert key != work_key("m/a", H100.gpu, KEY, "b" * 40, "5.0")
    assert key != work_key("m/a", H100.gpu, KEY, "a" * 40, "5.1")
    assert key != work_key("m/a", L4.gpu, KEY, "a" * 40, "5.0")
