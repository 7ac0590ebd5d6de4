"""One real browser: headless Debian chromium against the app served by uvicorn.

Catches what the simulated user cannot: assets that do not load offline, JavaScript errors,
Vue templates of table slots, fonts. Leaves a screenshot in ``artifacts/ui/subjects.png``.
Skipped when chromium is missing, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import factories
from tests.ui.conftest import World

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "ui"
CHROMIUM = os.environ.get("ZHIJIAO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ZHIJIAO_CHROMEDRIVER", "/usr/bin/chromedriver")
CI = os.environ.get("CI", "").lower() == "true"
TIMEOUT = 90  # the server subprocess starts slowly on a loaded 2-core CI machine


def _missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} not found (apt-get install chromium chromium-driver fonts-noto-cjk)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    fonts = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout \
        if shutil.which("fc-list") else ""
    if not fonts.strip():
        return "no Chinese font: the screenshot would show boxes (apt-get install fonts-noto-cjk)"
    return None


@pytest.fixture
def chromium_available() -> None:
    problem = _missing()
    if problem:
        if CI:
            pytest.fail(f"the browser smoke test must run in CI: {problem}")
        pytest.skip(problem)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(chromium_available, database_url: str, world: World, tmp_path: Path) -> Iterator[str]:
    """``zhijiao serve`` in a subprocess on this test's database (same data dir and keys)."""
    port = _free_port()
    env = {**os.environ, "ZHIJIAO_DATABASE_URL": database_url, "ZHIJIAO_JT808_ENABLED": "false",
           "NICEGUI_STORAGE_PATH": str(tmp_path / "nicegui"), "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("PYTEST_CURRENT_TEST", None)
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "zhijiao.cli", "serve", "--host", "127.0.0.1", "--port",
                             str(port)], env=env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail("server did not start:\n" + (tmp_path / "server.log").read_text(errors="replace"))
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def driver(chromium_available, tmp_path: Path):
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager go looking for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1440,960", "--lang=zh-CN", "--no-first-run", "--disable-extensions",
                f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    d.set_page_load_timeout(TIMEOUT)
    try:
        yield d
    finally:
        d.quit()


def _open(driver, url: str) -> None:
    """Load a page and wait for NiceGUI's socket handshake: typing earlier could be lost."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, TIMEOUT).until(lambda d: d.execute_script("return window.did_handshake === true"))


def _wait_for_text(driver, text: str, server_log: Path) -> None:
    """Wait for ``text``; on a timeout say what the page showed and what the server logged."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:  # the body goes stale while the page navigates
        WebDriverWait(driver, TIMEOUT, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)) \
            .until(lambda d: text in d.find_element("tag name", "body").text)
    except TimeoutException:
        body = driver.find_element("tag name", "body").text
        log = server_log.read_text(errors="replace")[-4000:] if server_log.exists() else ""
        pytest.fail(f"{text!r} not shown after {TIMEOUT} s at {driver.current_url}\n"
                    f"page:\n{body[:2000]}\nconsole: {_severe(driver)}\nserver log:\n{log}")


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


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

