"""modelcat_harness.timing + metrics: per-request maths and the aggregated columns (DESIGN §5)."""

import pytest
from modelcat_harness.metrics import aggregate, consistency_problems, counts
from modelcat_harness.timing import RequestTiming, e2e_ms, itl_ms, record, tpot_ms, ttft_ms


def _request(index: int, sent: float, chunks: list[float], tokens: int | None = None):
    n = len(chunks) if tokens is None else tokens
    return RequestTiming(index, sent, input_tokens=16, chunk_times=chunks, output_tokens=n)


def test_per_request_metrics_follow_their_definitions() -> None:
    r = _request(0, 10.0, [10.1, 10.12, 10.15, 10.2])
    assert ttft_ms(r) == pytest.approx(100)
    assert e2e_ms(r) == pytest.approx(200)
    assert tpot_ms(r) == pytest.approx((200 - 100) / 3)
    assert itl_ms(r) == pytest.approx([20, 30, 50])


def test_tpot_counts_tokens_not_chunks() -> None:
    """A server that sends two tokens per chunk: TPOT divides by tokens, ITL stays per chunk."""
    r = _request(0, 0.0, [0.1, 0.3, 0.5], tokens=6)
    assert tpot_ms(r) == pytest.approx((500 - 100) / 5)
    assert itl_ms(r) == pytest.approx([200, 200])


def test_a_single_token_has_no_tpot() -> None:
    assert tpot_ms(_request(0, 0.0, [0.05])) is None


def test_aggregate_pools_itl_and_takes_tpot_per_request() -> None:
    fast = _request(0, 0.0, [0.1, 0.2, 0.3])  # gaps 100, 100 -> tpot 100
    slow = _request(1, 0.0, [0.1, 0.4, 0.7])  # gaps 300, 300 -> tpot 300
    failed = RequestTiming(2, 0.0, 16, error="HTTP 500")
    columns = aggregate([fast, slow, failed], duration_s=0.7, num_gpus=2)
    assert columns["output_throughput"] == pytest.approx(6 / 0.7)
    assert columns["throughput_per_gpu"] == pytest.approx(3 / 0.7)
    assert columns["itl_ms_p50"] == pytest.approx(200)  # pooled [100, 100, 300, 300]
    assert columns["tpot_ms_p50"] == pytest.approx(200)  # per request [100, 300]
    assert columns["tokens_per_s_per_user"] == pytest.approx(1000 / 200)  # median TPOT
    assert columns["ttft_ms_p99"] == pytest.approx(100)
    assert columns["e2e_ms_p50"] == pytest.approx(500)
    tally = counts([fast, slow, failed], 0.7)
    assert tally["requests_succeeded"] == 2 and tally["requests_failed"] == 1
    assert tally["output_tokens"] == 6 and tally["first_errors"] == ["HTTP 500"]


def test_per_user_rate_counts_tokens_when_a_chunk_carries_several() -> None:
    """A server streaming 4 tokens per chunk every 200 ms decodes 20 tokens/s per user, not
    the 5 chunks/s that 1000 / median chunk gap would report."""
    requests = [_request(i, 0.0, [0.1, 0.3, 0.5, 0.7], tokens=13) for i in range(2)]
    columns = aggregate(requests, duration_s=0.7, num_gpus=1)
    assert columns["itl_ms_p50"] == pytest.approx(200)  # chunk gaps stay what they are
    assert columns["tokens_per_s_per_user"] == pytest.approx(1000 / (600 / 12))


def test_aggregate_of_only_failures_is_empty_not_zero() -> None:
    columns = aggregate([RequestTiming(0, 0.0, 16, error="boom")], duration_s=1.0, num_gpus=1)
    assert columns["output_throughput"] is None and columns["ttft_ms_p50"] is None


def _consistent_run():
    timings = [_request(i, 0.0, [0.1, 0.2, 0.3, 0.4]) for i in range(3)]
    return timings, aggregate(timings, 0.5, 1)


def test_a_correct_run_is_consistent() -> None:
    timings, columns = _consistent_run()
    assert consistency_problems(timings, columns, 0.5, output_len=4) == []


@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [
        (lambda t, c: c.update(output_throughput=c["output_throughput"] * 1000), "throughput"),
        (lambda t, c: c.update(ttft_ms_p50=1e9), "not ordered"),
        (lambda t, c: setattr(t[0], "output_tokens", 3), "output tokens, asked 4"),
        (lambda t, c: t[1].chunk_times.reverse(), "chunk times"),
        (lambda t, c: setattr(t[2], "output_tokens", 2), "chunks > tokens"),
    ],
)
def test_broken_bookkeeping_is_named(corrupt, problem: str) -> None:
    timings, columns = _consistent_run()
    corrupt(timings, columns)
    problems = consistency_problems(timings, columns, 0.5, output_len=4)
    assert any(problem in p for p in problems), problems


def test_a_window_shorter_than_a_request_is_flagged() -> None:
    timings, _ = _consistent_run()
    columns = aggregate(timings, 0.2, 1)
    assert any("shorter" in p for p in consistency_problems(timings, columns, 0.2, 4))


def test_raw_record_is_relative_to_the_window() -> None:
    rec = record(_request(7, 5.5, [5.6, 5.7]), window_start=5.0)
    assert rec["index"] == 7 and rec["sent_s"] == 0.5 and rec["ok"]
    assert rec["ttft_ms"] == pytest.approx(100) and rec["itl_ms"] == pytest.approx([100])
    failed = record(RequestTiming(1, 5.0, 16, error="timeout"), window_start=5.0)
    assert failed["ok"] is False and failed["error"] == "timeout" and "ttft_ms" not in failed
