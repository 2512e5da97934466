"""The registry filters of /models: source names, and cursors that survive their arrival."""

import datetime as dt
import hashlib

import orjson
import pytest

from serving.models.filters import MAX_SOURCES, BenchFilters, ModelFilters, source_names


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("hf-hub", ("hf-hub",)),
        ("manifest,hf-hub", ("hf-hub", "manifest")),
        (" manifest , hf-hub,hf-hub ", ("hf-hub", "manifest")),
        ("hub:registry.internal:8080", ("hub:registry.internal:8080",)),
    ],
)
def test_source_names_are_sorted_distinct_and_split_on_commas(text, names):
    assert source_names(text) == names


@pytest.mark.parametrize("text", ["", ",", "hf-hub,", "hf-hub, ,manifest"])
def test_an_empty_source_name_is_refused(text):
    with pytest.raises(ValueError, match="must not be empty"):
        source_names(text)


def test_too_many_sources_are_refused_after_removing_repeats():
    assert len(source_names(",".join(f"s{i}" for i in range(MAX_SOURCES)) + ",s0")) == MAX_SOURCES
    with pytest.raises(ValueError, match=f"at most {MAX_SOURCES}"):
        source_names(",".join(f"s{i}" for i in range(MAX_SOURCES + 1)))


def test_cursors_issued_before_the_registry_filters_stay_valid():
    """Without the new filters the digest is the one earlier releases computed."""
    f = ModelFilters(task="text-generation", min_params=1)
    legacy = ["text-generation", None, None, 1, None, None, False]
    assert f.digest() == hashlib.blake2b(orjson.dumps(legacy), digest_size=6).hexdigest()
    bench = ModelFilters(bench=BenchFilters(gpu="H100"))
    legacy = [None] * 6 + [False, ["H100", None, None, "spot", False]]
    assert bench.digest() == hashlib.blake2b(orjson.dumps(legacy), digest_size=6).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"sources": ("hf-hub",)},
        {"gated": True},
        {"gated": False},
        {"updated_since": dt.datetime(2025, 6, 1, tzinfo=dt.UTC)},
    ],
)
def test_each_registry_filter_changes_the_digest(change):
    plain = ModelFilters()
    assert ModelFilters(**change).digest() != plain.digest()
    other = ModelFilters(**change, bench=BenchFilters(measured=True))
    assert other.digest() not in (plain.digest(), ModelFilters(**change).digest())
