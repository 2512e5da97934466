"""The catalog page's registry filters (source, access, updated since, removed) and the model
page's lineage, in headless Chromium against the seeded catalog of test_web_ui plus a gated
manifest quantization of Qwen."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, update
from sqlalchemy.engine import Engine

from resources.db.tables import MlModel
from tests.e2e.test_web_ui import base_url, browser, catalog, console_errors, listed, wait  # noqa: F401 - fixtures
from tests.integration.serving.seed import LLAMA, QWEN, REMOVED

pytestmark = [pytest.mark.e2e, pytest.mark.integration]

AWQ = "acme/qwen3-14b-awq"


@pytest.fixture
def family(catalog: Engine) -> Engine:  # noqa: F811 - the imported fixture
    with catalog.begin() as conn:
        conn.execute(
            insert(MlModel),
            [{"id": AWQ, "source": "manifest", "author": "acme", "gated": True, "private": True,
              "tags": [f"base_model:quantized:{QWEN}"], "base_models": [QWEN], "extra": {},
              "downloads": 40, "last_modified": datetime(2025, 7, 1, tzinfo=UTC)}],
        )  # fmt: skip
        conn.execute(update(MlModel).where(MlModel.id == QWEN).values(base_models=["Qwen/Base"]))
    return catalog


def test_registry_filters_and_lineage(browser, family, base_url):  # noqa: F811 - fixtures
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver = browser
    driver.get(base_url + "/ui/")
    wait(driver, lambda d: len(listed(d)) == 6, "the 5 seeded models and the quantization")
    Select(driver.find_element(By.NAME, "gated")).select_by_value("true")
    wait(driver, lambda d: listed(d) == [AWQ], "gated models only")
    assert "gated=true" in driver.current_url
    Select(driver.find_element(By.NAME, "gated")).select_by_value("")
    driver.find_element(By.NAME, "source").send_keys("hf")
    wait(driver, lambda d: AWQ not in listed(d) and len(listed(d)) == 5, "the hub's models")
    driver.find_element(By.NAME, "include_removed").click()
    wait(driver, lambda d: REMOVED in listed(d), "removed models shown when asked")
    assert "include_removed=true" in driver.current_url and "source=hf" in driver.current_url
    driver.get(base_url + "/ui/?updated_since=2025-05-15")
    wait(driver, lambda d: listed(d) == [QWEN, AWQ], "updated since mid-May")
    assert driver.find_element(By.NAME, "updated_since").get_attribute("value") == "2025-05-15"
    assert LLAMA not in listed(driver)  # updated 2025-05-02

    driver.get(base_url + f"/ui/models/{QWEN}")
    wait(driver, lambda d: d.find_elements(By.ID, "children"), "the derived models")
    assert driver.find_element(By.ID, "children").text == f"{AWQ} (quantized)"
    base = driver.find_element(By.ID, "base-models")
    assert base.text == "Qwen/Base" and not base.find_elements(By.TAG_NAME, "a")  # not listed
    driver.find_element(By.LINK_TEXT, AWQ).click()
    wait(driver, lambda d: d.find_elements(By.ID, "base-models"), "the quantization's page")
    assert driver.find_element(By.ID, "base-models").text == f"{QWEN} (quantized)"
    assert console_errors(driver) == []
