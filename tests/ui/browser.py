"""Shared parts of the headless-chromium tests: finding chromium, a driver, and ``zhijiao serve``
in a subprocess on the test's database. Chromium missing is a skip, except in CI (a failure)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "ui"
CHROMIUM = os.environ.get("ZHIJIAO_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ZHIJIAO_CHROMEDRIVER", "/usr/bin/chromedriver")
CI = os.environ.get("CI", "").lower() == "true"
TIMEOUT = 90  # the server subprocess starts slowly on a loaded 2-core CI machine


def missing() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (Path(path).is_file() and os.access(path, os.X_OK)):
            return f"{path} not found (apt-get install chromium chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed"
    return None


def require_chromium() -> None:
    problem = missing()
    if problem:
        if CI:
            pytest.fail(f"the browser tests must run in CI: {problem}")
        pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(base: str, *, alive: Callable[[], bool], why: Callable[[], str], timeout: float = TIMEOUT) -> None:
    """Poll ``/api/v1/health`` until it answers 200; fail with ``why()`` if the server dies or is too slow."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if not alive() or time.monotonic() > deadline:
            pytest.fail(why())
        time.sleep(0.1)


@contextlib.contextmanager
def serve(database_url: str, tmp_path: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """``zhijiao serve`` in a subprocess on this test's database (same data dir and keys)."""
    port = free_port()
    full_env = {**os.environ, "ZHIJIAO_DATABASE_URL": database_url, "ZHIJIAO_JT808_ENABLED": "false",
                "NICEGUI_STORAGE_PATH": str(tmp_path / "nicegui"), "PYTHONPATH": os.pathsep.join(sys.path),
                **(env or {})}
    full_env.pop("PYTEST_CURRENT_TEST", None)
    log_path = tmp_path / "server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "zhijiao.cli", "serve", "--host", "127.0.0.1", "--port",
                             str(port)], env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, alive=lambda: proc.poll() is None,
                     why=lambda: "server did not start:\n" + log_path.read_text(errors="replace"))
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def chromium(tmp_path: Path, extra_args: Sequence[str] = (), window: tuple[int, int] = (1440, 960),
             page_timeout: float = TIMEOUT) -> Iterator[object]:
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager go looking for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={window[0]},{window[1]}", "--lang=zh-CN", "--no-first-run", "--disable-extensions",
                f"--user-data-dir={tmp_path / 'chromium'}", *extra_args):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    d.set_page_load_timeout(page_timeout)
    try:
        yield d
    finally:
        d.quit()


def open_page(driver, url: str) -> None:
    """Load a page and wait for NiceGUI's socket handshake: typing earlier could be lost."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, TIMEOUT).until(lambda d: d.execute_script("return window.did_handshake === true"))


def severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


def wait_for_text(driver, text: str, server_log: Path, timeout: float = TIMEOUT) -> None:
    """Wait for ``text``; on a timeout say what the page showed and what the server logged."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:  # the body goes stale while the page navigates
        WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException, NoSuchElementException)) \
            .until(lambda d: text in d.find_element("tag name", "body").text)
    except TimeoutException:
        body = driver.find_element("tag name", "body").text
        log = server_log.read_text(errors="replace")[-4000:] if server_log.exists() else ""
        pytest.fail(f"{text!r} not shown after {timeout} s at {driver.current_url}\n"
                    f"page:\n{body[:2000]}\nconsole: {severe(driver)}\nserver log:\n{log}")


def wait_for_value(driver, element, value: str, timeout: float = 20) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: element.get_attribute("value") == value)
