"""The web UI in a real headless Chromium, against the API in a real uvicorn server.

The catalog is the seeded one (tests/integration/serving/seed.py) plus one Llama result on H100
with much more throughput but much worse latency than Qwen's, so that weighing throughput or
latency puts a different model first. Screenshots of each page land in artifacts/screenshots/.
"""

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
import uvicorn
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from resources.cache import RedisResource, data_key
from resources.db.tables import BenchmarkResult
from resources.settings import Settings
from serving.app import create_app
from serving.web import choices as web_choices
from serving.web import router as web
from tests.integration.serving.conftest import TEST_JWT_SECRET
from tests.integration.serving.seed import INDEX, LLAMA, QWEN, seed
from tests.support.throwaway import free_port

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_S = 15  # how long a page may take to show what is waited for (not a speed check)


@pytest.fixture
def browser(test_settings):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError as error:
        missing.append(f"selenium ({error})")
    if missing:
        message = f"the browser test needs {', '.join(missing)}"
        if test_settings.require_services:
            pytest.fail(message + " (CATALOG_REQUIRE_SERVICES=1)", pytrace=False)
        pytest.skip("SKIPPED LOUDLY: " + message)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1440,1000", "--disable-gpu"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def catalog(clean_db: Engine, redis_url: str) -> Engine:
    seed(clean_db)
    row = {
        "result_key": "l", "measured_at": datetime(2025, 6, 5, tzinfo=UTC), "source": "own",
        "task": "lm-arena-chat", "model_id": LLAMA, "gpu": "H100", "num_gpus": 1,
        "config": {}, "output_unit": "token", "throughput_per_gpu": 2000.0, "itl_ms_p95": 80.0,
        "metric_definitions": {}, "extra": {},
    }  # fmt: skip
    with clean_db.begin() as conn:
        conn.execute(insert(BenchmarkResult), [row])
    # A published version holding the index: the choices come from Redis, the rest from PG.
    resource = RedisResource(url=redis_url, keep_versions=5)
    index = {data_key("v1", "index"): orjson.dumps(INDEX)}
    resource.publish_version("v1", index, at=datetime.now(UTC).timestamp())
    resource.client.close()
    return clean_db


@pytest.fixture
def base_url(catalog, database_url: str, redis_url: str) -> Iterator[str]:
    """The app (with the UI's routers, until create_app includes them) in a uvicorn thread."""
    # Open reads and no rate limits, as in the API tests (a page fires several requests).
    settings = Settings(
        database_url=None, redis_url=None, jwt_secret=TEST_JWT_SECRET, open_reads=True,
        rate_limit_per_s=0, rate_limit_anonymous_per_s=0,
    )  # fmt: skip
    app = create_app(database_url, redis_url, settings)
    app.include_router(web_choices.router)
    app.include_router(web.router)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def wait(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT_S).until(lambda d: condition(d), message=what)


# Read in one script: the page may replace the rows between two WebDriver calls.
def listed(driver) -> list[str]:
    script = "return [...document.querySelectorAll('#models td.model a')].map(a => a.textContent)"
    return driver.execute_script(script)


def first_ranked(driver) -> str | None:
    script = "const li = document.querySelector('#ranking-list li'); return li && li.dataset.model"
    return driver.execute_script(script)


def shoot(driver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))


def console_errors(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def test_catalog_model_and_recommend_pages(browser, base_url):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver = browser
    # Catalog: / redirects to /ui/, the seeded models are listed, most downloaded first.
    driver.get(base_url + "/")
    wait(driver, lambda d: len(listed(d)) == 5, "the catalog lists the 5 seeded models")
    assert driver.current_url == base_url + "/ui/"
    assert listed(driver)[:3] == [
        "sentence-transformers/all-MiniLM-L6-v2",
        LLAMA,
        QWEN,
    ]
    shoot(driver, "catalog")

    # Filters: measured only, then a p95 limit; the address follows and a reload restores them.
    driver.find_element(By.NAME, "measured").click()
    wait(driver, lambda d: listed(d) == [LLAMA, QWEN], "measured models only")
    assert "measured=true" in driver.current_url
    driver.find_element(By.NAME, "max_p95_ms").send_keys("22")
    wait(driver, lambda d: listed(d) == [QWEN], "only Qwen has a result at p95 <= 22 ms")
    assert "max_p95_ms=22" in driver.current_url
    driver.refresh()
    wait(driver, lambda d: listed(d) == [QWEN], "the reload restores the filters")
    assert driver.find_element(By.NAME, "max_p95_ms").get_attribute("value") == "22"
    assert driver.find_element(By.NAME, "measured").is_selected()
    shoot(driver, "catalog-filtered")

    # Model page: metadata, a popularity chart with the 3 snapshots, the results per GPU.
    driver.find_element(By.LINK_TEXT, QWEN).click()
    wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, "#model-title"), "the model page")
    assert driver.find_element(By.ID, "model-title").text == QWEN
    wait(
        driver,
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#popularity-chart circle.point")) == 3,
        "the popularity chart's 3 points",
    )
    wait(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#results-table tbody tr"),
        "the benchmark results table",
    )
    driver.find_element(By.XPATH, "//button[@role='tab'][.='lm-arena-chat · H100']").click()
    # Result `a` is priced: the page shows its spot and on-demand cost per 1M outputs.
    table = driver.find_element(By.ID, "results-table").text
    assert "$0.730" in table and "$2.08" in table
    assert driver.find_elements(By.CSS_SELECTOR, "#history-chart svg")
    shoot(driver, "model")

    # Recommend: the precomputed ranking and Pareto front, then the weights re-rank.
    driver.get(base_url + "/ui/recommend")
    wait(driver, lambda d: first_ranked(d) == QWEN, "the precomputed ranking")
    assert driver.find_elements(By.CSS_SELECTOR, "#pareto svg circle.dot-front")
    assert "task=lm-arena-chat" in driver.current_url
    shoot(driver, "recommend")

    def weigh_only(criterion: str) -> None:
        for slider in driver.find_elements(By.CSS_SELECTOR, "#weights input[type=range]"):
            top = slider.get_attribute("data-criterion") == criterion
            slider.send_keys(Keys.END if top else Keys.HOME)

    # The profile weighs throughput only: latency alone re-ranks (Qwen, 20-30 ms, stays
    # first), then throughput alone puts Llama (2000/s) first.
    weigh_only("latency_p95_ms")
    wait(driver, lambda d: "your weights" in d.find_element(By.ID, "ranking-title").text,
         "a custom ranking")  # fmt: skip
    wait(driver, lambda d: first_ranked(d) == QWEN, "latency puts Qwen first")
    weigh_only("throughput_per_gpu")
    wait(driver, lambda d: first_ranked(d) == LLAMA, "throughput puts Llama first")
    shoot(driver, "recommend-custom")
    assert console_errors(driver) == []


def test_unknown_model_shows_a_not_found_state(browser, base_url):
    from selenium.webdriver.common.by import By

    browser.get(base_url + "/ui/models/nobody/nothing")
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".state"), "a state message")
    assert "Model not found" in browser.find_element(By.CSS_SELECTOR, ".state").text
