"""The CLI's API commands (typer's CliRunner) against the live app, and `pipeline status` on a
real Dagster instance. Failures must be one line on stderr and a non-zero exit, no traceback."""

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import dagster as dg
import pytest

from resources.settings import get_settings
from serving.app import create_app
from tests.integration.serving.conftest import TEST_JWT_SECRET
from tests.integration.serving.live import serving
from tests.integration.serving.seed import LLAMA, QWEN, UNICODE
from tests.support.cli import run
from tests.support.throwaway import free_port

pytestmark = pytest.mark.integration

CLI_KEY = {
    "cli": {"key_sha256": hashlib.sha256(b"cli-key").hexdigest(), "scopes": ["catalog:read"]}
}


@pytest.fixture
def env(monkeypatch, tmp_path: Path) -> Iterator[Callable[..., None]]:
    """The CLI's settings: the test app's JWT secret (so both derive the same local client
    secret), a private home; `env(NAME=value)` sets more. Wide output: no wrapped table cells."""
    get_settings.cache_clear()
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("CATALOG_JWT_SECRET", TEST_JWT_SECRET)
    monkeypatch.setenv("CATALOG_HOME", str(tmp_path / "home"))

    def set_more(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"CATALOG_{name}", value)
        get_settings.cache_clear()

    yield set_more
    get_settings.cache_clear()


@pytest.fixture
def live(seeded, database_url, redis_url, api_settings, env) -> Iterator[Callable[..., str]]:
    with ExitStack() as stack:

        def start(**overrides) -> str:
            settings = api_settings(**overrides)
            return stack.enter_context(serving(create_app(database_url, redis_url, settings)))

        yield start


@pytest.fixture
def url(live) -> str:
    return live()


def test_models_search_and_show(url):
    found = json.loads(run("models", "search", "--task", "text-generation", "--json",
                           "--api-url", url).stdout)  # fmt: skip
    assert [m["id"] for m in found["data"]] == [LLAMA, QWEN, UNICODE]
    table = run("models", "search", "-q", "qwen", "--api-url", url).stdout
    assert QWEN in table and "1 of 1 models" in table and "14,800,000,000" in table
    page = json.loads(run("models", "show", QWEN, "--json", "--api-url", url).stdout)
    assert page["id"] == QWEN and page["benchmarks_summary"]
    shown = run("models", "show", QWEN, "--api-url", url).stdout
    assert "lm-arena-chat" in shown and "gpqa" in shown and "apache-2.0" in shown


def test_errors_are_one_line_and_exit_1(url, live):
    missing = run("models", "show", "nobody/none", "--api-url", url, code=1).stderr
    assert missing == "error: HTTP 404: model 'nobody/none' is not in the catalog\n"
    down = f"http://127.0.0.1:{free_port()}"
    unreachable = run("models", "search", "--api-url", down, code=1).stderr
    assert f"cannot reach the API at {down}" in unreachable and "modelcat serve" in unreachable
    closed = live(open_reads=False, api_keys=CLI_KEY)
    refused = run("models", "search", "--api-url", closed, code=1).stderr
    assert "HTTP 401" in refused and "CATALOG_API_KEY" in refused


def test_the_api_key_setting_is_sent(live, env):
    key = {
        "cli": {"key_sha256": hashlib.sha256(b"cli-key").hexdigest(), "scopes": ["catalog:read"]}
    }
    closed = live(open_reads=False, api_keys=key)
    env(API_KEY="cli-key", API_URL=closed)  # the URL from the settings: no --api-url
    found = json.loads(run("models", "search", "--json").stdout)
    assert found["count"] == 5


def test_recommend_with_a_profile_weights_or_limits(url):
    ranked = json.loads(run("recommend", "--task", "lm-arena-chat", "--gpu", "H100", "--json",
                            "--api-url", url).stdout)  # fmt: skip
    assert ranked["profile"] == "balanced" and ranked["items"][0]["model_id"] == QWEN
    table = run("recommend", "--task", "lm-arena-chat", "--gpu", "H100", "--api-url", url).stdout
    assert QWEN in table and "1x H100" in table
    mine = json.loads(run("recommend", "--task", "lm-arena-chat", "--gpu", "H100", "--weights",
                          "throughput=1,latency=0.5", "--max-p95-ms", "1000", "--json",
                          "--api-url", url).stdout)  # fmt: skip
    assert mine["weights"] == {"throughput_per_gpu": 1.0, "latency_p95_ms": 0.5}
    assert mine["excluded"][0]["constraint"] == "max_latency_p95_ms" and mine["feasible"] >= 1
    limited = json.loads(run("recommend", "--task", "lm-arena-chat", "--gpu", "H100",
                             "--max-p95-ms", "1", "--json", "--api-url", url).stdout)  # fmt: skip
    assert limited["weights"] == {"throughput_per_gpu": 1.0}  # the profile's, from its ranking
    assert limited["items"] == [] and limited["feasible"] == 0


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--profile", "balanced", "--weights", "cost=1"], 2, "--profile or --weights"),
        (["--weights", "quality"], 2, "is not criterion=number"),
        (["--weights", "speed=1"], 1, "unknown criteria ['speed']"),
        (["--profile", "nope"], 1, "HTTP 404"),
    ],
)
def test_recommend_refuses_bad_input(url, args, code, says):
    base = ["recommend", "--task", "lm-arena-chat", "--gpu", "H100", "--api-url", url]
    assert says in run(*base, *args, code=code).stderr


def test_benchmark_request_as_the_local_client_and_its_status(url):
    queued = json.loads(run("benchmarks", "request", QWEN, "--gpu", "h100", "--batch-size", "4",
                            "--json", "--api-url", url).stdout)  # fmt: skip
    assert (queued["status"], queued["gpu"], queued["requested_by"]) == (
        "queued", "H100", "modelcat-local"
    )  # fmt: skip
    again = run("benchmarks", "request", QWEN, "--gpu", "H100", "--batch-size", "4",
                "--api-url", url).stdout  # fmt: skip
    assert queued["id"] in again and "already queued" in again
    status = json.loads(
        run("benchmarks", "status", queued["id"], "--json", "--api-url", url).stdout
    )
    assert status["id"] == queued["id"] and status["status"] == "queued"
    unknown = run("benchmarks", "request", QWEN, "--gpu", "TPU", "--api-url", url, code=1).stderr
    assert "GPU 'TPU' is not known" in unknown


def test_pipeline_status_without_and_with_runs(env, tmp_path):
    empty = json.loads(run("pipeline", "status", "--json").stdout)
    assert [(r["job"], r["status"]) for r in empty] == [
        ("catalog_job", None), ("registry_sync_job", None)
    ]  # fmt: skip
    assert "never" in run("pipeline", "status").stdout

    @dg.op
    def one() -> int:
        return 1

    @dg.job
    def tiny():
        one()

    home = get_settings().dagster_home
    home.mkdir(parents=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert tiny.execute_in_process(instance=instance).success
    rows = {r["job"]: r for r in json.loads(run("pipeline", "status", "--json").stdout)}
    assert rows["tiny"]["status"] == "SUCCESS" and rows["tiny"]["seconds"] is not None
    assert rows["catalog_job"]["status"] is None
    assert "SUCCESS" in run("pipeline", "status").stdout
