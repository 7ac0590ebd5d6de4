"""Headless chromium on /zones, /admin/staff and /admin/settings, on SQLite and PostgreSQL.

- an officer draws an exclusion polygon on the offline map for a subject; fixes inside it, posted
  through ``POST /api/v1/fixes`` as the subject's phone, raise 进入禁区 (seen through the alarm API);
- the system administrator creates an account (the initial password and TOTP secret shown once),
  the new person logs in with them; a setting above its legal ceiling is refused, one within saved.

Screenshots go to ``artifacts/ui/zones/``.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import factories
from tests.ui import browser
from tests.ui.browser import ARTIFACTS, TIMEOUT
from tests.ui.browser import open_page as _open
from tests.ui.browser import severe as _severe
from tests.ui.browser import wait_for_text as _wait_for_text
from tests.ui.conftest import BOTH_BACKENDS, World
from zhijiao.core import clock
from zhijiao.monitoring.models import Device, DeviceBinding, PositioningOrder, Zone
from zhijiao.monitoring.service import device_secret_hash
from zhijiao.org.models import Staff
from zhijiao.security.actor import Actor

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "zones"
PHONE, PHONE_SECRET = "phone-zone-01", "zone-secret-0001"


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    with browser.chromium(tmp_path, window=(1440, 1280)) as d:
        yield d


@pytest.fixture
def phone(db, world: World) -> int:
    """张三丰 under correction, with a phone bound and a positioning order in force (Law Art. 29)."""
    db.info["actor"] = Actor.system("tests")
    from zhijiao.subjects.models import Subject

    subject = db.get(Subject, world.subject_id)
    subject.status = "under_correction"
    device = Device(kind="phone", protocol="http", ident=PHONE, secret_hash=device_secret_hash(PHONE_SECRET))
    db.add(device)
    db.flush()
    now = clock.now()
    db.add(DeviceBinding(device_id=device.id, subject_id=subject.id, start_at=now - timedelta(hours=1),
                         bound_by="tests"))
    today = clock.today_local()
    db.add(PositioningOrder(subject_id=subject.id, trigger="left_without_approval", start_date=today,
                            end_date=today + timedelta(days=30), approved_by_name="测试领导", approved_at=now,
                            reason="未经批准离开临淄区"))
    db.commit()
    return subject.id


def _login(driver, server: str, username: str, password: str, otp: str, server_log: Path, landing: str) -> None:
    from selenium.webdriver.common.by import By

    _open(driver, f"{server}/login")
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(username)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=one-time-code]").send_keys(otp)
    driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()
    _wait_for_text(driver, landing, server_log)


def _field(driver, label: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = (f"//label[contains(@class,'q-field')][.//div[contains(@class,'q-field__label') and "
             f"normalize-space()='{label}']]")
    return WebDriverWait(driver, TIMEOUT).until(lambda d: next(
        (e for e in d.find_elements(By.XPATH, xpath) if e.is_displayed()), None))


def _choose(driver, label: str, option: str) -> None:
    """Open a q-select by its label and click one of its options."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _field(driver, label).click()
    item = WebDriverWait(driver, TIMEOUT).until(lambda d: next(
        (i for i in d.find_elements(By.CSS_SELECTOR, ".q-menu .q-item") if i.text.strip().startswith(option)), None))
    item.click()
    time.sleep(0.3)


def _button(driver, text: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, TIMEOUT).until(lambda d: next(
        (b for b in d.find_elements(By.XPATH, f"//button[substring(normalize-space(.), string-length(normalize-space(.))"
                                              f" - {len(text)} + 1) = '{text}']") if b.is_displayed()), None))


def _api(server: str, path: str, *, token: str | None = None, data: dict | None = None, form: bool = False,
         headers: dict | None = None) -> tuple[int, dict]:
    body = None
    h = dict(headers or {})
    if token:
        h["Authorization"] = f"Bearer {token}"
    if data is not None:
        body = urllib.parse.urlencode(data).encode() if form else json.dumps(data).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
    req = urllib.request.Request(server + path, data=body, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@BOTH_BACKENDS
def test_draw_zone_and_a_fix_inside_raises_alarm(server: str, driver, world: World, phone: int, db,
                                                  tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    server_log = tmp_path / "server.log"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _login(driver, server, world.officer_a, factories.PASSWORD, factories.otp(world.officer_a), server_log,
               "在册概况")
        _open(driver, f"{server}/zones")
        WebDriverWait(driver, TIMEOUT).until(
            lambda d: d.execute_script("return !!document.querySelector('.zm-root[data-ready]')"))
        _field(driver, "名称").find_element(By.TAG_NAME, "input").send_keys("齐园路网吧禁区")
        _choose(driver, "适用对象", "张三丰")
        the_map = driver.find_element(By.CSS_SELECTOR, ".zm-map")
        for dx, dy in ((-50, -40), (50, -40), (60, 40), (-50, 45)):
            ActionChains(driver).move_to_element_with_offset(the_map, dx, dy).click().perform()
            time.sleep(0.25)
        _wait_for_text(driver, "已选 4 个点", server_log)
        _button(driver, "添加时段").click()  # every day, all day: the test must not depend on the hour
        time.sleep(0.3)
        _button(driver, "每天").click()
        start = _field(driver, "开始").find_element(By.TAG_NAME, "input")
        end = _field(driver, "结束").find_element(By.TAG_NAME, "input")
        for el, value in ((start, "0000"), (end, "0000")):
            el.click()
            el.send_keys("\ue009a")  # ctrl+a
            el.send_keys(value)
        driver.save_screenshot(str(SHOTS / "zones-drawing.png"))
        _button(driver, "保存围栏").click()
        _wait_for_text(driver, "已保存围栏", server_log)
        table = driver.find_element(By.CSS_SELECTOR, ".q-table")
        WebDriverWait(driver, TIMEOUT).until(lambda d: "齐园路网吧禁区" in table.text)
        assert "禁止进入" in table.text and "张三丰" in table.text and "每天 全天" in table.text
        driver.save_screenshot(str(SHOTS / "zones.png"))
        errors = _severe(driver)

        db.info["actor"] = Actor.system("tests")
        db.expire_all()
        zone = db.execute(select(Zone).where(Zone.name == "齐园路网吧禁区")).scalar_one()
        assert zone.kind == "exclusion" and zone.subject_id == phone and zone.source == "绘制"
        assert zone.schedule == [{"weekdays": [0, 1, 2, 3, 4, 5, 6], "start": "00:00", "end": "00:00"}]
        ring = zone.geojson["geometry"]["coordinates"][0]
        lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1)
        lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)

        # the subject's phone reports from inside the zone for five minutes
        now = clock.now().replace(microsecond=0)
        for minutes in (5, 4, 3, 2, 1):
            status, body = _api(server, "/api/v1/fixes", headers={"Authorization": f"Device {PHONE_SECRET}"}, data={
                "device": PHONE, "fix_time": (now - timedelta(minutes=minutes)).isoformat(), "lat": lat, "lon": lon,
                "accuracy_m": 8, "source": "gnss", "battery_pct": 80})
            assert status in (200, 202), body
        bureau = world.bureau
        status, token = _api(server, "/api/v1/auth/token", form=True, data={
            "username": bureau, "password": factories.PASSWORD, "otp": factories.otp(bureau)})
        assert status == 200, token
        deadline = time.monotonic() + TIMEOUT
        while True:
            status, alarms = _api(server, f"/api/v1/alarms?subject_id={phone}", token=token["access_token"])
            assert status == 200, alarms
            found = [a for a in alarms["items"] if a["type"] == "entered_exclusion_zone"]
            if found or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert found and found[0]["label"] == "进入禁区", alarms

        # disable it from the list
        _button(driver, "停用").click()
        _wait_for_text(driver, "已停用围栏", server_log)
        db.expire_all()
        assert db.get(Zone, zone.id).active is False
        errors += _severe(driver)
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure-zones.png"))
        raise
    assert not errors, f"JavaScript console errors: {errors}"


@BOTH_BACKENDS
def test_create_account_then_log_in_and_settings_ceiling(server: str, driver, world: World, db,
                                                         tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    server_log = tmp_path / "server.log"
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        _login(driver, server, world.sysadmin, factories.PASSWORD, factories.otp(world.sysadmin), server_log,
               "账号管理")
        _open(driver, f"{server}/admin/staff")
        _wait_for_text(driver, "共 5 个账号", server_log)
        assert "命令行" not in driver.find_element(By.TAG_NAME, "body").text
        assert "重置动态口令" not in driver.find_element(By.TAG_NAME, "body").text  # the security admin's duty
        _button(driver, "新建账号").click()
        _field(driver, "姓名").find_element(By.TAG_NAME, "input").send_keys("孙新人")
        _field(driver, "用户名（登录名，字母、数字或 _ . -）").find_element(By.TAG_NAME, "input").send_keys("sunxr")
        _choose(driver, "所属单位", "闻韶司法所")
        _button(driver, "创建").click()
        _wait_for_text(driver, "只显示这一次", server_log)
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        labels = WebDriverWait(driver, TIMEOUT, ignored_exceptions=(StaleElementReferenceException,)).until(
            lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, ".q-dialog .zj-kv .v")] or None)
        username, code = labels[0], labels[1]
        assert username == "sunxr" and len(code) == 19  # an activation code, never a password (issue 20)
        assert "密码" not in labels and "动态口令密钥" not in driver.find_element(By.CSS_SELECTOR, ".q-dialog").text
        driver.save_screenshot(str(SHOTS / "staff-created.png"))
        _button(driver, "我已记录，关闭").click()
        _wait_for_text(driver, "共 6 个账号", server_log)
        WebDriverWait(driver, TIMEOUT).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".q-dialog"))
        driver.save_screenshot(str(SHOTS / "staff.png"))
        db.info["actor"] = Actor.system("tests")
        created = db.execute(select(Staff).where(Staff.username == "sunxr")).scalar_one()
        assert created.role is None and created.office_id == world.office_a.id  # the role: the secadmin's

        # 参数设置: above the legal ceiling refused, within it saved
        _open(driver, f"{server}/admin/settings")
        _wait_for_text(driver, "实施办法第二十七条", server_log)
        row = driver.find_element(By.XPATH, "//div[contains(@class,'q-card')]//div[contains(@class,'row')]"
                                            "[.//div[normalize-space()='司法所可批准的外出天数上限']]")
        row.find_element(By.XPATH, ".//button[contains(., '修改')]").click()
        value = _field(driver, "新值（天）").find_element(By.TAG_NAME, "input")
        value.send_keys("\ue009a")
        value.send_keys("10")
        _button(driver, "保存").click()
        _wait_for_text(driver, "不得超过 7天", server_log)
        driver.save_screenshot(str(SHOTS / "settings-refused.png"))
        value.send_keys("\ue009a")
        value.send_keys("5")
        _button(driver, "保存").click()
        _wait_for_text(driver, "已保存", server_log)
        WebDriverWait(driver, TIMEOUT).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".q-dialog"))
        from zhijiao.settings.models import Setting

        db.expire_all()
        assert db.get(Setting, "rules.leave_office_max_days").value == 5
        driver.save_screenshot(str(SHOTS / "settings.png"))
        errors = _severe(driver)
        # activation, the grant and the new person's login: tests/ui/test_activation_browser.py
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure-admin.png"))
        raise
    assert not errors, f"JavaScript console errors: {errors}"
