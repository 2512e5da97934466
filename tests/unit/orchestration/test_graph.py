"""A snapshot of the asset graph: an accidental change of keys, deps or groups shows up here."""

import importlib
from pathlib import Path

import dagster as dg

from orchestration.modules import ASSET_MODULES, CHECK_MODULES
from resources.settings import REPO_ROOT

RESOURCE_KEYS = ("database", "cache", "registry", "datasets", "object_store", "launcher")

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
    "benchmark_plan": ("benchmarks", {"registry_models", "gpu_prices", "gpu_catalog"}),
    "benchmark_runs": ("benchmarks", {"benchmark_plan"}),
    "performance_rollups": (
        "benchmarks",
        {"published_benchmarks", "benchmark_runs", "model_snapshots"},
    ),
    "catalog_export": (
        "exports",
        {"registry_models", "published_benchmarks", "cost_per_token", "recommendations"},
    ),
}


def _graph() -> dict[str, tuple[str, set[str]]]:
    graph = {}
    for definition in dg.load_assets_from_modules(ASSET_MODULES):
        for key in definition.keys:
            deps = {d.to_user_string() for d in definition.asset_deps[key]}
            graph[key.to_user_string()] = (definition.group_names_by_key[key], deps)
    return graph


def test_asset_graph_matches_the_snapshot():
    assert _graph() == EXPECTED


def test_every_asset_has_a_description_and_a_check():
    definitions = dg.load_assets_from_modules(ASSET_MODULES)
    checked = {
        key.asset_key.to_user_string()
        for check in dg.load_asset_checks_from_modules(CHECK_MODULES)
        for key in check.check_keys
    }
    # Checks declared on the asset itself (the harness reports some of them through Pipes).
    checked |= {key.asset_key.to_user_string() for d in definitions for key in d.check_keys}
    assert checked == set(EXPECTED)
    for definition in definitions:
        for key in definition.keys:
            assert definition.descriptions_by_key.get(key), key


def test_benchmark_runs_are_partitioned_by_model_and_gpu_and_kept_out_of_the_catalog_job():
    from orchestration.jobs import benchmark_run_job, catalog_job

    # The jobs' shape only: resources are stand-ins, so this never starts the embedded stores
    # (orchestration.definitions builds the real ones on import).
    resources = {key: dg.ResourceDefinition.none_resource() for key in RESOURCE_KEYS}
    defs = dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        jobs=[catalog_job, benchmark_run_job],
        resources=resources,
    )
    runs = defs.get_assets_def("benchmark_runs")
    assert runs.partitions_def.partition_dimension_names == ["gpu", "model"]
    assert {c.name for c in runs.check_keys} == {
        "harness_requests_succeeded",
        "harness_metrics_consistent",
        "benchmark_run_below_roofline",
        "benchmark_run_no_regression",
    }
    catalog = defs.resolve_job_def("catalog_job")
    assert dg.AssetKey("benchmark_runs") not in catalog.asset_layer.executable_asset_keys
    assert dg.AssetKey("benchmark_plan") in catalog.asset_layer.executable_asset_keys
    assert defs.resolve_job_def("benchmark_run_job").partitions_def == runs.partitions_def


def test_generic_top_level_packages_resolve_inside_the_repository():
    for name in ("assets", "resources", "serving", "orchestration", "modelcat"):
        module = importlib.import_module(name)
        assert Path(module.__file__).resolve().is_relative_to(REPO_ROOT), name
