"""A snapshot of the asset graph: an accidental change of keys, deps or groups shows up here."""

import importlib
from pathlib import Path

import dagster as dg

from resources.settings import REPO_ROOT

EXPECTED = {
    "registry_models": ("registry", set()),
    "model_snapshots": ("registry", {"registry_models"}),
    "gpu_catalog": ("costs", set()),
    "gpu_prices": ("costs", {"gpu_catalog"}),
    "gpu_instances": ("costs", {"gpu_catalog"}),
    "model_quality": ("benchmarks", set()),
    "published_benchmarks": ("benchmarks", {"gpu_catalog", "registry_models"}),
    "cost_per_token": ("costs", {"gpu_prices", "published_benchmarks"}),
    "recommendations": (
        "recommendations",
        {"published_benchmarks", "cost_per_token", "registry_models", "model_quality"},
    ),
    "serving_cache": ("serving", {"recommendations", "model_snapshots"}),
}


def _graph() -> dict[str, tuple[str, set[str]]]:
    from assets.benchmarks import assets as b
    from assets.costs import assets as c
    from assets.recommendations import assets as r
    from assets.registry import assets as g
    from assets.serving_cache import assets as s

    graph = {}
    for definition in dg.load_assets_from_modules([g, b, c, r, s]):
        for key in definition.keys:
            deps = {d.to_user_string() for d in definition.asset_deps[key]}
            graph[key.to_user_string()] = (definition.group_names_by_key[key], deps)
    return graph


def test_asset_graph_matches_the_snapshot():
    assert _graph() == EXPECTED


def test_every_asset_has_a_description_and_a_check():
    from assets.benchmarks import checks as b
    from assets.costs import checks as c
    from assets.recommendations import checks as r
    from assets.registry import checks as g
    from assets.serving_cache import checks as s

    checked = {
        key.asset_key.to_user_string()
        for check in dg.load_asset_checks_from_modules([g, b, c, r, s])
        for key in check.check_keys
    }
    assert checked == set(EXPECTED)
    from assets.benchmarks import assets as ba
    from assets.costs import assets as ca
    from assets.recommendations import assets as ra
    from assets.registry import assets as ga
    from assets.serving_cache import assets as sa

    for definition in dg.load_assets_from_modules([ga, ba, ca, ra, sa]):
        for key in definition.keys:
            assert definition.descriptions_by_key.get(key), key


def test_generic_top_level_packages_resolve_inside_the_repository():
    for name in ("assets", "resources", "serving", "orchestration", "modelcat"):
        module = importlib.import_module(name)
        assert Path(module.__file__).resolve().is_relative_to(REPO_ROOT), name
