"""The benchmark plan page in headless Chromium, against the API in a real uvicorn server.

The catalog of test_web_ui plus four plan items: two planned (one per GPU), one deferred over
budget and one unplannable, so that the totals (planned items only) change with the GPU filter.
A request from the page goes through the real Redis queue. The screenshot lands in
artifacts/screenshots/benchmarks.png.
"""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from assets.benchmarks.runs import DEFAULT_CONFIG, config_key
from resources import benchmark_queue as queue
from resources.db.tables import BenchmarkPlanBudget, BenchmarkPlanItem
from resources.settings import Settings
from serving.app import create_app
from serving.security.principal import READ, REQUEST_BENCHMARKS
from tests.e2e.test_web_ui import browser, catalog, console_errors, shoot, wait  # noqa: F401 - fixtures
from tests.integration.serving.conftest import TEST_JWT_SECRET
from tests.integration.serving.live import serving
from tests.integration.serving.seed import LLAMA, MINILM, QWEN

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

API_KEY = "plan-page-key"
PLANNED_AT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)


def _item(rank: int, model_id: str, gpu: str, status: str, reason: str, estimate, note=""):
    hours, spot, on_demand = estimate
    return {"rank": rank, "model_id": model_id, "gpu": gpu, "config": DEFAULT_CONFIG,
            "config_key": config_key(DEFAULT_CONFIG), "revision": "0f9e8d7c6b5a4", "num_gpus": 1,
            "reason": reason, "status": status, "note": note, "downloads": 100 - rank,
            "estimate_basis": "roofline heuristic", "est_gpu_hours": hours, "est_usd_spot": spot,
            "est_usd_on_demand": on_demand, "planned_at": PLANNED_AT}  # fmt: skip


# Binary-exact estimates, so the page's sums and roundings are exact too.
PLAN = [
    _item(1, QWEN, "H100", "planned", "never measured", (1.25, 0.75, 4.5)),
    _item(
        2, LLAMA, "B200", "planned", "new revision 1a2b3c4d5e6f -> 0f9e8d7c6b5a", (0.5, 0.5, 1.5)
    ),  # fmt: skip
    _item(
        3,
        QWEN,
        "B200",
        "over_budget",
        "engine 4.56.0 -> 5.24.0",
        (2.0, 3.0, 9.0),
        "plan budget left: 0.50 GPU-h, $0.50",
    ),  # fmt: skip
    _item(
        4, MINILM, "H100", "unplannable", "never measured", (None, None, None), "unknown model size"
    ),  # fmt: skip
]


# The caps the plan was made against (stored with it): the page shows the totals "of" these.
BUDGET = {"planned_at": PLANNED_AT, "max_gpu_hours": 2.0, "max_usd": 1.5,
          "max_gpu_hours_per_run": 4.0, "max_usd_per_run": 20.0}  # fmt: skip


@pytest.fixture
def plan(catalog: Engine) -> Engine:  # noqa: F811 - the imported fixture
    with catalog.begin() as conn:
        conn.execute(insert(BenchmarkPlanBudget), [BUDGET])
        conn.execute(insert(BenchmarkPlanItem), PLAN)
    return catalog


@pytest.fixture
def server(database_url: str, redis_url: str) -> Callable[..., AbstractContextManager[str]]:
    """Serves the app with an API key that may request runs; overrides change the settings."""
    key = {"key_sha256": hashlib.sha256(API_KEY.encode()).hexdigest(),
           "scopes": [READ, REQUEST_BENCHMARKS]}  # fmt: skip

    def serve(**overrides) -> AbstractContextManager[str]:
        values = {
            "jwt_secret": TEST_JWT_SECRET, "open_reads": True, "rate_limit_per_s": 0,
            "rate_limit_anonymous_per_s": 0, "api_keys": {"plan-page": key}, **overrides,
        }  # fmt: skip
        settings = Settings(database_url=None, redis_url=None, **values)
        return serving(create_app(database_url, redis_url, settings))

    return serve


@pytest.fixture
def base_url(server) -> Iterator[str]:
    with server() as url:
        yield url


@pytest.fixture
def queue_client(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, socket_timeout=2)
    yield client
    client.close()


# Read in one script: the page may replace the rows between two WebDriver calls.
def rows(driver) -> list[tuple[str, str, str]]:
    script = """return [...document.querySelectorAll('#plan tbody tr')]
        .map(tr => [tr.dataset.model, tr.dataset.gpu, tr.dataset.status])"""
    return [tuple(row) for row in driver.execute_script(script)]


def totals(driver) -> tuple[str, ...]:
    ids = ("total-gpu-hours", "total-spot", "total-on-demand")
    return tuple(driver.execute_script(
        "return arguments[0].map(id => document.querySelector(`#${id} .v`)?.textContent)", ids
    ))  # fmt: skip


def state(driver) -> str:
    boxes = driver.execute_script("return [...document.querySelectorAll('.state')]")
    return boxes[0].text if boxes else ""


ALL = [(QWEN, "H100", "planned"), (LLAMA, "B200", "planned"), (QWEN, "B200", "over_budget"),
       (MINILM, "H100", "unplannable")]  # fmt: skip


def test_plan_table_totals_filters_and_sorting(browser, plan, base_url):  # noqa: F811 - fixtures
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(base_url + "/ui/")
    driver.find_element(By.LINK_TEXT, "Benchmarks").click()  # linked from every page's nav
    wait(driver, lambda d: rows(d) == ALL, "the four plan items in rank order")
    assert driver.current_url == base_url + "/ui/benchmarks"
    # Totals count the planned items only: 1.25 + 0.5 GPU-h, $0.75 + $0.50, $4.50 + $1.50,
    # each against the plan's stored budget (2 GPU-h, $1.50).
    assert totals(driver) == ("1.75 of 2", "$1.25 of $1.50", "$6.00")
    assert "at most 4 a run" in driver.find_element(By.ID, "total-gpu-hours").text
    assert "at most $20.00 a run" in driver.find_element(By.ID, "total-spot").text
    # The plan's own time (the browser's time zone decides the day, not the month).
    assert driver.find_element(By.ID, "planned-at").text.startswith("planned Jan")
    assert "4 plan items" in driver.find_element(By.ID, "count").text
    table = driver.find_element(By.ID, "plan")
    headers = table.find_elements(By.CSS_SELECTOR, "thead th[scope=col]")
    assert [h.text for h in headers][:3] == ["# ▲", "MODEL", "GPU"] and len(headers) == 10
    first, second, third, fourth = table.find_elements(By.CSS_SELECTOR, "tbody tr")
    config = first.find_element(By.CSS_SELECTOR, "td.config").text
    assert config == "transformers · bfloat16\n8 concurrent · 512 → 256 tokens"
    assert "never measured" in first.text and "$0.750" in first.text and "$4.50" in first.text
    assert "new revision" in second.text and "1a2b3c4d5e6f → 0f9e8d7c6b5a" in second.text
    assert "new engine" in third.text and "plan budget left" in third.text
    assert "unknown model size" in fourth.text and "—" in fourth.text
    shoot(driver, "benchmarks")

    # The GPU filter from the form: the address follows and the totals follow the filter.
    Select(driver.find_element(By.NAME, "gpu")).select_by_value("B200")
    wait(driver, lambda d: rows(d) == ALL[1:3], "the B200 items")
    assert "gpu=B200" in driver.current_url
    b200 = ("0.5 of 2", "$0.500 of $1.50", "$1.50")  # the budget stays the whole plan's
    wait(driver, lambda d: totals(d) == b200, "the B200 totals")

    # Sorting by a header: ascending, then descending; the address keeps it.
    driver.find_element(By.CSS_SELECTOR, "button[data-sort=est_usd_spot]").click()
    wait(driver, lambda d: "sort=est_usd_spot" in d.current_url, "cheapest first")
    assert rows(driver) == ALL[1:3]
    driver.find_element(By.CSS_SELECTOR, "button[data-sort=est_usd_spot]").click()
    wait(driver, lambda d: rows(d) == [ALL[2], ALL[1]], "dearest first")
    assert "sort=-est_usd_spot" in driver.current_url
    header = driver.find_element(By.XPATH, "//th[button[@data-sort='est_usd_spot']]")
    assert header.get_attribute("aria-sort") == "descending"

    Select(driver.find_element(By.NAME, "status")).select_by_value("over_budget")
    wait(driver, lambda d: rows(d) == [ALL[2]], "the deferred B200 item")
    assert "status=over_budget" in driver.current_url

    # The filters from the address: H100, by GPU-hours descending (no estimate sorts last).
    driver.get(base_url + "/ui/benchmarks?gpu=H100&sort=-est_gpu_hours")
    wait(driver, lambda d: rows(d) == [ALL[0], ALL[3]], "the H100 items")
    assert Select(driver.find_element(By.NAME, "gpu")).first_selected_option.text == "H100"
    assert totals(driver) == ("1.25 of 2", "$0.750 of $1.50", "$4.50")

    # Nothing matches: say so, and offer to clear the filters.
    driver.get(base_url + "/ui/benchmarks?gpu=H100&status=over_budget")
    wait(driver, lambda d: "No plan items match" in state(d), "the no-match state")
    driver.find_element(By.XPATH, "//div[contains(@class,'state')]//button").click()
    wait(driver, lambda d: rows(d) == ALL, "the whole plan again")
    assert driver.current_url == base_url + "/ui/benchmarks"
    assert console_errors(driver) == []


def test_request_a_run_from_a_plan_row(browser, plan, base_url, queue_client):  # noqa: F811
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(base_url + "/ui/benchmarks")
    wait(driver, lambda d: rows(d) == ALL, "the plan")
    # No key: the page does not try the write; it shows the equivalent CLI command.
    driver.find_element(By.CSS_SELECTOR, "#plan tbody tr button.request").click()
    command = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "code.command"), "a command")
    expected = (
        f"modelcat benchmarks request {QWEN} --gpu H100 --batch-size 8 --max-output-tokens 256"
    )
    assert command[0].text == expected
    assert queue_client.xlen(queue.STREAM) == 0  # nothing was queued

    # With a key that has the scope: the request is queued in Redis with the row's config.
    driver.execute_script("localStorage.setItem('catalog.apiKey', arguments[0])", API_KEY)
    driver.refresh()
    wait(driver, lambda d: rows(d) == ALL, "the plan")
    driver.find_element(By.CSS_SELECTOR, "#plan tbody tr:nth-child(2) button.request").click()
    ids = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, ".request-id"), "the request id")
    status = queue.parse_status(
        queue_client.hgetall(queue.status_key(ids[0].get_attribute("title")))
    )
    assert status is not None
    assert (status["model_id"], status["gpu"], status["status"]) == (LLAMA, "B200", "queued")
    assert status["config"] == {"batch_size": 8, "max_output_tokens": 256}
    assert status["requested_by"] == "plan-page"  # the key's name
    assert queue_client.xlen(queue.STREAM) == 1
    row = driver.find_element(By.CSS_SELECTOR, "#plan tbody tr:nth-child(2)")
    assert (
        "queued" in row.text
        and row.find_element(By.CSS_SELECTOR, "button.request").text == "Requested"
    )
    assert console_errors(driver) == []


def test_empty_and_error_states(browser, catalog, server):  # noqa: F811 - fixtures
    from selenium.webdriver.common.by import By

    driver = browser
    with server() as url:
        driver.get(url + "/ui/benchmarks")
        wait(driver, lambda d: "No plan yet" in state(d), "the no-plan state")
        assert "benchmark_plan" in state(driver)
        assert not driver.find_element(By.ID, "totals").is_displayed()
        # A plan was made and nothing was due: not "no plan yet".
        with catalog.begin() as conn:
            conn.execute(insert(BenchmarkPlanBudget), [BUDGET])
        driver.refresh()
        wait(driver, lambda d: "Nothing to benchmark" in state(d), "the nothing-due state")
        assert "No plan yet" not in state(driver)
    # Closed reads and no key: an error that says a key is needed, with a retry.
    with server(open_reads=False) as url:
        driver.get(url + "/ui/benchmarks")
        wait(driver, lambda d: "needs an API key" in state(d), "the refused state")
        alert = driver.find_element(By.CSS_SELECTOR, ".state[role=alert]")
        assert "API key" in alert.text and alert.find_element(By.TAG_NAME, "button").text == "Retry"
