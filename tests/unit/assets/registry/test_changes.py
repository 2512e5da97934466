"""The sync's decisions (assets/registry/changes.py) and the retry policy's arithmetic."""

from datetime import UTC, datetime
from email.utils import format_datetime

import httpx2
import pytest

from assets.registry.changes import (
    CONTENT,
    Stored,
    carry_over,
    held_row,
    json_payload,
    mark_pending,
    plan,
    quarantine_key,
    quarantine_row,
    quarantine_spike,
    removals,
    unchanged,
    unlisted_pending,
    with_details,
)
from assets.registry.parsing import parse_model
from resources.registry_http import RetryingTransport, RetryPolicy, install, retry_after_s

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1 = datetime(2026, 2, 1, tzinfo=UTC)
RICH_RECORD = {
    "id": "acme/embedder-v2", "sha": "0123abcd", "lastModified": "2026-04-01T12:00:00.000Z",
    "downloads": 1234, "likes": 5, "tags": ["license:mit", "base_model:finetune:acme/v1"],
    "cardData": {"license": "apache-2.0"}, "safetensors": {"parameters": {"F32": 9}, "total": 9},
    "createdAt": "2025-01-02T03:04:05.000Z",
}  # fmt: skip


def _row(model_id: str, sha: str = "a", moment: datetime = T0, **extra) -> dict:
    return {"id": model_id, "sha": sha, "last_modified": moment, "num_parameters": None,
            "extra": {}, **extra}  # fmt: skip


def test_plan_sorts_new_changed_shadowed_and_pending() -> None:
    stored = {
        "same": Stored("hub", "a", T0, False),
        "revised": Stored("hub", "a", T0, False),
        "touched": Stored("hub", "a", T0, False),
        "gone": Stored("hub", "a", T0, True),
        "bench": Stored("mlenergy-v3", None, None, False),
        "other": Stored("internal", "a", T0, False),
        "pending": Stored("hub", "a", T0, False, details_pending=True),
    }
    rows = [_row("same"), _row("revised", sha="b"), _row("touched", moment=T1), _row("gone"),
            _row("bench"), _row("other"), _row("pending"), _row("fresh")]  # fmt: skip
    result = plan(rows, stored, "hub", {"hub", "internal"})
    assert result.new == ["gone", "bench", "fresh"]
    assert result.changed == ["revised", "touched"]
    assert result.shadowed == ["other"]
    assert result.needs_details == ["gone", "bench", "fresh", "revised", "touched", "pending"]


def test_pending_models_the_listing_left_out_are_retried() -> None:
    stored = {
        "listed": Stored("hub", "a", T0, False, details_pending=True),
        "deferred": Stored("hub", "a", T0, False, details_pending=True),
        "done": Stored("hub", "a", T0, False),
        "gone": Stored("hub", "a", T0, True, details_pending=True),
        "theirs": Stored("internal", "a", T0, False, details_pending=True),
    }
    assert unlisted_pending(stored, "hub", {"listed"}) == ["deferred"]


def test_with_details_completes_the_stored_row_and_keeps_listing_values() -> None:
    listing = {k: v for k, v in RICH_RECORD.items() if k != "safetensors"}
    stored = mark_pending(parse_model(listing, "hub"), "deferred: max_detail_fetches")
    content = tuple(stored[c] for c in CONTENT)
    row = held_row("acme/embedder-v2", Stored("hub", None, None, False, content=content))
    details = {"id": "acme/embedder-v2", "sha": "ffff", "safetensors": RICH_RECORD["safetensors"]}
    done = with_details(row, parse_model(details, "hub"), parse_model({"id": row["id"]}, "hub"))
    assert (done["sha"], done["num_parameters"]) == ("ffff", 9)
    assert (done["downloads"], done["likes"], done["license"]) == (1234, 5, "apache-2.0")
    # The pending mark goes; what the details did not send stays.
    assert done["extra"] == {"createdAt": "2025-01-02T03:04:05.000Z", "base_model_relations":
                             stored["extra"]["base_model_relations"],
                             "parameters_by_dtype": {"F32": 9}}  # fmt: skip
    with pytest.raises(ValueError, match="not read"):
        held_row("m", Stored("hub", "a", T0, False))


def test_carry_over_keeps_detail_values_the_listing_left_out() -> None:
    held = Stored("hub", "a", T0, False, 7_000, {"parameters_by_dtype": {"BF16": 7_000}})
    row = carry_over(_row("m"), held)
    assert row["num_parameters"] == 7_000 and row["extra"] == {
        "parameters_by_dtype": {"BF16": 7_000}
    }
    fresh = carry_over(_row("m", num_parameters=9, extra={"parameters_by_dtype": {"F32": 9}}), held)
    assert fresh["num_parameters"] == 9 and fresh["extra"]["parameters_by_dtype"] == {"F32": 9}
    assert carry_over(_row("m"), Stored("hub", "a", T0, True, 7_000))["num_parameters"] is None


def test_removals_need_a_complete_listing() -> None:
    assert removals(["a", "b", "c"], {"a"}, complete=True) == ["b", "c"]
    assert removals(["a", "b", "c"], {"a"}, complete=False) == []


def test_quarantine_keys_and_payloads() -> None:
    assert quarantine_key({"id": "org/m", "x": 1}) == ("org/m", "org/m")
    key, model_id = quarantine_key({"author": "x"})
    assert key.startswith("sha256:") and model_id is None
    assert key == quarantine_key({"author": "x"})[0]  # the same record, the same row
    assert json_payload(["a", float("nan")]) == {"value": ["a", None]}
    assert json_payload({"at": T0}) == {"at": "2026-01-01 00:00:00+00:00"}
    # NUL, which JSONB cannot hold, is shown as U+FFFD; an id holding one is no key.
    assert json_payload({"a\x00": ["b\x00"]}) == {"a\ufffd": ["b\ufffd"]}
    assert quarantine_key({"id": "org/m\x00"})[1] is None
    row = quarantine_row({"record": {"id": 1}, "reason": "HTTP 404: \x00"}, "hub", T0)
    assert (row["reason"], row["model_id"], row["payload"]) == ("HTTP 404: \ufffd", None, {"id": 1})
    assert mark_pending({"extra": {}}, "bad \x00")["extra"] == {"details_pending": "bad \ufffd"}


@pytest.mark.parametrize(
    ("listed", "quarantined", "previous", "spike"),
    [
        (1000, 9, [], False),  # under the minimum: never a spike
        (1000, 60, [], True),  # 6% > 5%
        (1000, 40, [2, 3, 4], True),  # 4% but 13x the median 3
        (1000, 40, [30, 35, 41], False),  # 4%, as usual
        (0, 10, [], True),  # nothing valid at all
    ],
)
def test_quarantine_spike(listed, quarantined, previous, spike) -> None:
    why = quarantine_spike(listed, quarantined, previous, max_share=0.05, factor=5, minimum=10)
    assert (why is not None) == spike


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = T0.timestamp()
    assert retry_after_s("7") == 7.0
    assert retry_after_s(format_datetime(datetime(2026, 1, 1, 0, 0, 30, tzinfo=UTC)), now) == 30.0
    assert retry_after_s("soon") is None and retry_after_s(None) is None


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    low = RetryPolicy(backoff_base_s=1, backoff_max_s=8, random=lambda: 0.0)
    high = RetryPolicy(backoff_base_s=1, backoff_max_s=8, random=lambda: 1.0)
    assert [low.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1, 2, 4, 4]
    assert [high.backoff(n) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 8, 8]


def test_a_listing_with_the_revisions_counts_needs_no_details() -> None:
    rows = [_row("counted", num_parameters=7), _row("uncounted"), _row("no-sha", sha=None,
            num_parameters=7)]  # fmt: skip
    assert plan(rows, {}, "hub", {"hub"}).needs_details == ["uncounted", "no-sha"]


def _held(row: dict, removed: bool = False) -> Stored:
    content = tuple(row[column] for column in CONTENT)
    return Stored(row["source"], row["sha"], row["last_modified"], removed, content=content)


def test_unchanged_compares_every_written_value() -> None:
    row = parse_model(RICH_RECORD, "hub")
    assert set(row) == {"id", *CONTENT}  # a new column must join CONTENT, or it is never written
    assert unchanged(row, _held(row))
    assert not unchanged({**row, "downloads": row["downloads"] + 1}, _held(row))
    assert not unchanged({**row, "tags": [*row["tags"], "new"]}, _held(row))
    assert not unchanged(row, _held(row, removed=True))  # a model that came back is written
    assert not unchanged(row, None)
    assert not unchanged(row, Stored("hub", row["sha"], row["last_modified"], False))


def test_unchanged_tells_json_true_from_one() -> None:
    # Python's 1 == True, JSONB's does not: the stored `true` must be rewritten as 1.
    row = {**parse_model(RICH_RECORD, "hub"), "extra": {"flag": 1}}
    held = _held({**row, "extra": {"flag": True}})
    assert not unchanged(row, held)
    assert unchanged(row, _held({**row, "extra": {"flag": 1}}))


def test_a_policy_installed_with_the_default_port_applies_without_it() -> None:
    # httpx drops ":443" from https URLs; the policy must still be found for every request.
    answers = iter([503, 200])
    inner = httpx2.MockTransport(lambda request: httpx2.Response(next(answers)))
    install("https://registry.invalid:443", RetryPolicy(max_retries=1, sleep=lambda _: None))
    client = httpx2.Client(transport=RetryingTransport(inner))
    assert client.get("https://registry.invalid/api/models").status_code == 200
