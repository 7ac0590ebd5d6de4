"""One real browser: headless Debian chromium against the app served by uvicorn.

Catches what the simulated user cannot: assets that do not load offline, JavaScript errors,
Vue templates of table slots, fonts. Leaves a screenshot in ``artifacts/ui/subjects.png``.
Skipped when chromium is missing, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import factories
from tests.ui import browser
from tests.ui.browser import ARTIFACTS, TIMEOUT
from tests.ui.browser import open_page as _open
from tests.ui.browser import severe as _severe
from tests.ui.browser import wait_for_text as _wait_for_text
from tests.ui.conftest import World

pytestmark = pytest.mark.browser


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    with browser.chromium(tmp_path) as d:
        yield d


def test_login_list_and_file_in_chromium(server: str, driver, world: World, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, TIMEOUT)
    server_log = tmp_path / "server.log"
    errors: list[str] = []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    try:
        _open(driver, f"{server}/login")
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(world.officer_a)
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(factories.PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=one-time-code]").send_keys(
            factories.otp(world.officer_a))
        driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()
        _wait_for_text(driver, "在册概况", server_log)
        assert "王所员" in driver.find_element(By.TAG_NAME, "header").text
        errors += _severe(driver)

        _open(driver, f"{server}/subjects")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".q-table tbody tr")) == len(world.a_names))
        table_text = driver.find_element(By.CSS_SELECTOR, ".q-table").text
        for name in world.a_names:
            assert name in table_text
        assert world.b_names[0] not in table_text
        assert "待接收" in table_text  # the status badge slot rendered
        driver.save_screenshot(str(ARTIFACTS / "subjects.png"))
        errors += _severe(driver)

        row = next(r for r in driver.find_elements(By.CSS_SELECTOR, ".q-table tbody tr") if "张三丰" in r.text)
        row.click()
        wait.until(ec.url_to_be(f"{server}/subjects/{world.subject_id}"))
        wait.until(ec.text_to_be_present_in_element((By.TAG_NAME, "body"), "矫正历程"))
        assert driver.find_elements(By.CSS_SELECTOR, ".q-timeline .q-timeline__entry")
        assert "系统建档" in driver.find_element(By.CSS_SELECTOR, ".q-timeline").text
        driver.save_screenshot(str(ARTIFACTS / "subject.png"))
        errors += _severe(driver)
    except BaseException:
        driver.save_screenshot(str(ARTIFACTS / "failure.png"))
        raise
    assert not errors, f"JavaScript console errors: {errors}"

