"""One real browser on the command center: headless Debian chromium against uvicorn.

The app ``zhijiao serve`` runs (``create_app(with_ui=True)``: the API, the shell's ``/login`` and
every page) is served by uvicorn in a thread of this process, so the test raises an alarm through ``monitoring.alarms.raise_alarm`` while the big screen is open and
watches it arrive without a reload; then it acknowledges, verifies and closes it on the alarm
desk, replays a track, and leaves screenshots in ``artifacts/command/``. No JavaScript console
error and no request to any host but this loopback server are allowed.

Skipped when chromium is missing, except in CI (``CI=true``), where that is a failure.
"""

from __future__ import annotations

import contextlib

import os
import random
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from sqlalchemy import select

from tests.ui import browser
from zhijiao.core import clock
from zhijiao.demo.seed import DEMO_PASSWORD
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.models import Alarm, DeviceBinding, FixRecord
from zhijiao.security.actor import Actor
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "command"
TIMEOUT = 20
SYSTEM = Actor.system("tests")
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
ALL_SHOTS = os.environ.get("ZHIJIAO_ALL_SCREENSHOTS") == "1"  # also desk.png and replay.png


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def chromium_available() -> None:
    browser.require_chromium()


@pytest.fixture
def world(db):
    """The demo district (12 offices, 120 subjects, 60 bracelets) with live positions, one walk with a
    stop, 30 days of handled alarms and a few open ones: what a command center looks like."""
    from zhijiao.demo import seed

    seed.seed(subjects=120, history_days=0)  # this world makes its own alarms; the history would add some
    db.info["actor"] = SYSTEM
    rng = random.Random(370305)
    now = clock.now().replace(microsecond=0)
    worn = db.execute(select(DeviceBinding, Subject).join(Subject, Subject.id == DeviceBinding.subject_id)
                      .where(DeviceBinding.end_at.is_(None)).order_by(DeviceBinding.id)).unique().all()
    walker = worn[0][1]
    for k, (binding, subject) in enumerate(worn[1:], start=1):
        age = timedelta(minutes=35 if k % 12 == 0 else rng.uniform(0.5, 4))  # a few are offline
        t = now - age
        db.add(FixRecord(device_id=binding.device_id, subject_id=subject.id, fix_time=t, received_at=t,
                         lat=subject.home_lat + rng.uniform(-0.004, 0.004),
                         lon=subject.home_lon + rng.uniform(-0.005, 0.005), battery_pct=rng.randint(20, 99)))
    # the walker: twelve minutes out, a ten-minute stop, thirteen minutes on
    lat0, lon0 = walker.home_lat, walker.home_lon
    points = [(lat0 + 0.0010 * i, lon0 + 0.0006 * i) for i in range(12)]
    points += [(lat0 + 0.012, lon0 + 0.0072)] * 10
    points += [(lat0 + 0.012 + 0.0010 * i, lon0 + 0.0072 - 0.0008 * i) for i in range(1, 14)]
    for k, (lat, lon) in enumerate(points):
        t = now - timedelta(minutes=len(points) - k)
        db.add(FixRecord(device_id=worn[0][0].device_id, subject_id=walker.id, fix_time=t, received_at=t, lat=lat,
                         lon=lon, battery_pct=80))
    types = ["night_absence", "low_battery", "lost_contact", "left_permitted_area", "power_off", "tamper",
             "compliance", "entered_exclusion_zone"]
    for _ in range(70):  # handled in the last 30 days
        subject = rng.choice(worn)[1]
        kind = rng.choices(types, weights=[30, 25, 12, 10, 8, 5, 5, 3])[0]
        opened = now - timedelta(days=rng.uniform(0.2, 29.5))
        db.add(Alarm(subject_id=subject.id, type=kind, severity=alarm_service.ALARM_TYPES[kind][1], status="closed",
                     episode_start=opened, last_at=opened, opened_at=opened, verdict=rng.choice(["confirmed",
                     "false_alarm"]), acknowledged_at=opened + timedelta(minutes=3), response_seconds=180,
                     closed_at=opened + timedelta(minutes=40), lat=subject.home_lat, lon=subject.home_lon))
    for (binding, subject), kind, minutes in ((worn[5], "night_absence", 6), (worn[9], "low_battery", 3),
                                              (worn[14], "left_permitted_area", 24)):
        opened = now - timedelta(minutes=minutes)
        db.add(Alarm(subject_id=subject.id, type=kind, severity=alarm_service.ALARM_TYPES[kind][1], status="open",
                     episode_start=opened, last_at=opened, opened_at=opened, lat=subject.home_lat,
                     lon=subject.home_lon, escalated_at=now - timedelta(minutes=9) if minutes > 15 else None))
    db.commit()
    return {"operator": "operator", "subject": walker, "devices": len(worn)}


@pytest.fixture
def server(chromium_available, engine, world, tmp_path: Path) -> Iterator[str]:
    """``create_app(with_ui=True)``, served by uvicorn in a thread of this process (the test publishes
    events the screens must receive, so not in a subprocess like ``browser.serve``)."""
    import uvicorn
    from nicegui.testing.general import nicegui_reset_globals

    from zhijiao.main import create_app
    from zhijiao.security.auth import ip_limiter

    ip_limiter.reset()
    os.environ["NICEGUI_STORAGE_PATH"] = str(tmp_path / "nicegui")
    from nicegui import core
    from nicegui.storage import Storage

    Storage.path = Path(os.environ["NICEGUI_STORAGE_PATH"])
    core.app.storage = Storage()
    modules = dict(sys.modules)
    with nicegui_reset_globals():
        app = create_app(with_ui=True)
        port = browser.free_port()
        uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
        thread = threading.Thread(target=uv.run, name="uvicorn-command", daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{port}"
        browser.wait_healthy(base, alive=thread.is_alive, why=lambda: "uvicorn did not start", timeout=TIMEOUT)
        try:
            yield base
        finally:
            uv.should_exit = True
            thread.join(timeout=15)
    for name, module in modules.items():
        sys.modules.setdefault(name, module)


@pytest.fixture
def driver(chromium_available, tmp_path: Path):
    quiet = ("--disable-background-networking", "--disable-component-update", "--disable-sync")
    with browser.chromium(tmp_path, quiet, window=(1920, 1080), page_timeout=TIMEOUT) as d:
        d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                          {"width": 1920, "height": 1080, "deviceScaleFactor": 1, "mobile": False})
        yield d


class Checks:
    """What every page must satisfy: no console error, no request off this machine."""

    def __init__(self, driver) -> None:
        self.driver = driver
        self.errors: list[str] = []
        self.foreign: set[str] = set()

    def collect(self) -> None:
        self.errors += [e["message"] for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]
        urls = self.driver.execute_script(
            "return performance.getEntries().map(e => e.name).filter(n => /^(https?|wss?):/.test(n))")
        self.foreign |= {u for u in urls if urlparse(u).hostname not in LOOPBACK}


def _shot(driver, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


def test_operator_sees_an_alarm_live_handles_it_and_replays_a_track(server: str, driver, db, world) -> None:
    from selenium.common.exceptions import (
        ElementClickInterceptedException,
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, TIMEOUT, poll_frequency=0.1,  # panels re-render as the alarm changes
                         ignored_exceptions=(StaleElementReferenceException, NoSuchElementException))
    checks = Checks(driver)
    operator, subject = world["operator"], world["subject"]

    def body_has(text: str):
        return ec.text_to_be_present_in_element((By.TAG_NAME, "body"), text)

    def click(xpath: str) -> None:
        """Click once the element is there; the desk re-renders its panels after each action."""
        def attempt(d) -> bool:
            try:
                d.find_element(By.XPATH, xpath).click()
                return True
            except (StaleElementReferenceException, NoSuchElementException, ElementClickInterceptedException):
                return False
        wait.until(attempt)

    try:
        driver.get(f"{server}/command")
        wait.until(ec.url_contains("/login"))
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "input[autocomplete=username]"))).send_keys(operator)
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(DEMO_PASSWORD)
        driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()
        wait.until(ec.url_to_be(f"{server}/command"))
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".cc-map-root[data-ready='1']")))
        wait.until(body_has("共 3 条"))
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".cc-map-root").get_attribute("data-dots") == str(
            world["devices"]))
        driver.execute_script("window.__sameDocument = true")

        db.info["actor"] = SYSTEM
        alarm = alarm_service.raise_alarm(db_session=db, subject_id=subject.id, type="sos", at=clock.now(),
                                          lat=subject.home_lat + 0.012, lon=subject.home_lon + 0.0072)
        row = wait.until(ec.visibility_of_element_located(
            (By.XPATH, "//div[contains(@class,'cc-alarm ')][.//div[contains(., 'SOS 求助')]]")))
        assert driver.execute_script("return window.__sameDocument === true"), "the page was reloaded"
        assert subjects_service.display_name(subject) in row.text and "待处置" in row.text
        assert "共 4 条" in driver.find_element(By.TAG_NAME, "body").text
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".cc-pulse"))
        wait.until(lambda d: "—" not in d.find_element(By.CSS_SELECTOR, ".cc-tile .cc-num").text)
        time.sleep(0.6)  # let the charts finish their entry animation
        _shot(driver, "command.png")
        checks.collect()

        row.find_element(By.XPATH, ".//button[contains(., '处置')]").click()
        wait.until(ec.url_to_be(f"{server}/command/alarms/{alarm.id}"))
        wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".cc-map-root[data-track]")))
        wait.until(body_has("联系电话"))
        assert subject.phone_masked in driver.find_element(By.TAG_NAME, "body").text
        driver.find_element(By.XPATH, "//button[contains(., '接警')]").click()
        wait.until(ec.presence_of_element_located((By.XPATH, "//span[contains(@class,'cc-chip-acknowledged')]")))
        click("//div[contains(@class,'q-radio')][contains(., '误报')]")
        wait.until(lambda d: d.find_element(By.XPATH, "//div[contains(@class,'q-radio')][contains(., '误报')]")
                   .get_attribute("aria-checked") == "true")
        wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "textarea"))).send_keys("电话联系本人，在家，设备误报")
        click("//button[contains(., '提交核查')]")
        wait.until(ec.presence_of_element_located((By.XPATH, "//span[contains(@class,'cc-chip-verified')]")))
        for _ in range(5):  # a click that lands while the panel re-renders opens nothing: click again
            click("//button[contains(., '关闭告警')]")
            with contextlib.suppress(TimeoutException):
                WebDriverWait(driver, 4).until(
                    ec.element_to_be_clickable((By.XPATH, "//button[contains(., '确认关闭')]"))).click()
                break
        else:
            raise AssertionError("the close dialog never opened")
        wait.until(ec.presence_of_element_located((By.XPATH, "//span[contains(@class,'cc-chip-closed')]")))
        if ALL_SHOTS:
            _shot(driver, "desk.png")
        checks.collect()

        driver.get(f"{server}/command/replay?subject_id={subject.id}")
        wait.until(body_has("个定位点"))
        assert "停留 1 处" in driver.find_element(By.TAG_NAME, "body").text
        driver.find_element(By.XPATH, "//button[.//i[normalize-space()='play_arrow']]").click()
        wait.until(lambda d: int(d.find_element(By.CSS_SELECTOR, ".cc-map-root").get_attribute("data-cursor")
                                 or 0) > 1)
        if ALL_SHOTS:
            _shot(driver, "replay.png")
        checks.collect()
    except Exception:
        _shot(driver, "failure.png")
        print(driver.current_url, driver.find_element(By.TAG_NAME, "body").text[:2000], driver.get_log("browser"))
        raise

    db.expire_all()
    db.info["actor"] = SYSTEM
    stored = db.execute(select(Alarm).where(Alarm.id == alarm.id)).scalar_one()
    assert (stored.status, stored.verdict) == ("closed", "false_alarm")
    assert not checks.errors, f"JavaScript console errors: {checks.errors}"
    assert not checks.foreign, f"requests off this machine: {sorted(checks.foreign)}"
