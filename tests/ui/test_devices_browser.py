"""Headless chromium, end to end, on SQLite and PostgreSQL: register a device and bind it to a subject
and unbind it with a reason; propose a positioning order as the office and approve it as the bureau's
head, then see the 使用电子定位装置决定书 and download its PDF; add a camera as the system
administrator and see it on the cameras page and the video wall. Screenshots: ``artifacts/ui/devices/``.
"""

from __future__ import annotations

import base64
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests import factories
from tests.ui import browser
from tests.ui.browser import ARTIFACTS, TIMEOUT
from tests.ui.browser import open_page as _open
from tests.ui.browser import severe as _severe
from tests.ui.browser import wait_for_text


def _wait_for_text(driver, text: str, log: Path) -> None:
    wait_for_text(driver, text, log, timeout=30)
from tests.ui.conftest import _FAST_HASH, BOTH_BACKENDS, World
from zhijiao.core import clock

pytestmark = pytest.mark.browser

SHOTS = ARTIFACTS / "devices"


def _stale() -> tuple[type[Exception], ...]:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    return (StaleElementReferenceException, NoSuchElementException)


STALE = _stale() if browser.missing() is None else ()


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    with browser.chromium(tmp_path) as d:
        yield d


@pytest.fixture
def more(db, world: World) -> dict:
    """The bureau's head, and 王五常 (在矫) with his correction period for the decision document."""
    from zhijiao.subjects.models import Subject

    leader = factories.staff(db, "leader", display_name="孙局长")
    leader.password_hash = _FAST_HASH
    s = db.execute(select(Subject).where(Subject.name == "王五常")).unique().scalar_one()
    today = clock.today_local()
    s.correction_start_date, s.correction_end_date = today - timedelta(days=40), today + timedelta(days=320)
    db.commit()
    return {"leader": leader.username, "subject_id": s.id}


def _by(name: str):
    from selenium.webdriver.common.by import By

    return getattr(By, name)


def _login(driver, base: str, username: str, log: Path, expect: str) -> None:
    _open(driver, f"{base}/login")
    driver.find_element(_by("CSS_SELECTOR"), "input[autocomplete=username]").send_keys(username)
    driver.find_element(_by("CSS_SELECTOR"), "input[autocomplete=current-password]").send_keys(factories.PASSWORD)
    driver.find_element(_by("CSS_SELECTOR"), "input[autocomplete=one-time-code]").send_keys(factories.otp(username))
    driver.find_element(_by("XPATH"), "//button[contains(., '登 录')]").click()
    _wait_for_text(driver, expect, log)


def _logout(driver, base: str) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.find_element(_by("XPATH"), "//button[contains(., '退出登录')]").click()
    WebDriverWait(driver, TIMEOUT).until(lambda d: "/login" in d.current_url)


def _field(driver, label: str, inner: str = "//*[self::input or self::textarea]"):
    """The input (or textarea) of the visible Quasar field whose label contains ``label``."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = f"//label[.//div[contains(@class,'q-field__label')][contains(., '{label}')]]{inner}"

    def visible(d):  # a field of the open dialog first
        in_dialog = [e for e in d.find_elements(_by("XPATH"), "//div[contains(@class,'q-dialog')]" + xpath)
                     if e.is_displayed()]
        return in_dialog or [e for e in d.find_elements(_by("XPATH"), xpath) if e.is_displayed()]

    try:
        return WebDriverWait(driver, TIMEOUT, ignored_exceptions=STALE).until(visible)[0]
    except TimeoutException:
        pytest.fail(f"no field labelled {label!r}:\n{driver.find_element(_by('TAG_NAME'), 'body').text[:1500]}")


def _type(driver, label: str, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    el = _field(driver, label)
    el.send_keys(Keys.CONTROL, "a")
    el.send_keys(Keys.DELETE)
    el.send_keys(text)


def _choose(driver, label: str, option: str) -> None:
    """Open the Quasar select labelled ``label`` and click the option containing ``option``."""
    from selenium.webdriver.support.ui import WebDriverWait

    _field(driver, label, inner="").click()
    xpath = f"//div[contains(@class,'q-menu')]//div[contains(@class,'q-item')][contains(., '{option}')]"

    def clicked(d) -> bool:
        found = [e for e in d.find_elements(_by("XPATH"), xpath) if e.is_displayed()]
        if not found:
            return False
        found[0].click()
        return True

    WebDriverWait(driver, TIMEOUT, ignored_exceptions=STALE).until(clicked)


def _click(driver, text: str, scope: str = "") -> None:
    """Click the visible button containing ``text``, again if the page re-rendered it meanwhile."""
    from selenium.webdriver.support.ui import WebDriverWait

    xpath = f"{scope}//button[contains(., '{text}')]"

    def clicked(d) -> bool:
        found = [e for e in d.find_elements(_by("XPATH"), xpath) if e.is_displayed() and e.is_enabled()]
        if not found:
            return False
        found[0].click()
        return True

    WebDriverWait(driver, TIMEOUT, ignored_exceptions=STALE).until(clicked)


def _shot(driver, name: str, *, bottom: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    if bottom:  # the subject page's own sections come last
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    driver.save_screenshot(str(SHOTS / name))


@BOTH_BACKENDS
def test_register_bind_and_unbind_a_device(server: str, driver, world: World, tmp_path: Path, backend: str) -> None:
    log = tmp_path / "server.log"
    errors: list[str] = []
    try:
        _login(driver, server, world.officer_a, log, "在册概况")
        _open(driver, f"{server}/devices")
        _wait_for_text(driver, "没有符合条件的定位设备", log)
        _click(driver, "登记设备")
        _choose(driver, "接入协议", "MQTT")
        _type(driver, "设备编号", "mqtt-ui-0001")
        _click(driver, "登记", "//div[contains(@class,'q-dialog')]")
        _wait_for_text(driver, "仅显示这一次", log)
        secret = driver.find_element(_by("XPATH"), "//div[contains(@class,'font-mono')]").text
        assert len(secret) >= 12
        _shot(driver, "device-secret.png")
        _click(driver, "我已记录，关闭")
        _wait_for_text(driver, "mqtt-ui-0001", log)
        assert "未绑定" in driver.find_element(_by("CSS_SELECTOR"), ".q-table").text

        _open(driver, f"{server}/subjects/{world.subject_id}")
        _wait_for_text(driver, "未绑定定位设备", log)
        _click(driver, "绑定设备")
        _choose(driver, "选择未绑定的设备", "mqtt-ui-0001")
        _click(driver, "绑定", "//div[contains(@class,'q-dialog')]//div[contains(@class,'justify-end')]")
        _wait_for_text(driver, "mqtt-ui-0001（电子定位腕带）", log)  # the page reloads after the notice
        _wait_for_text(driver, "解除绑定", log)
        _open(driver, f"{server}/devices")
        _wait_for_text(driver, "张三丰", log)
        _shot(driver, "devices.png")
        driver.find_element(_by("XPATH"), "//button[contains(., '未绑定')]").click()  # the filter
        _wait_for_text(driver, "没有符合条件的定位设备", log)

        _open(driver, f"{server}/subjects/{world.subject_id}")
        _click(driver, "解除绑定")
        _click(driver, "解除绑定", "//div[contains(@class,'q-dialog')]//div[contains(@class,'justify-end')]")
        _wait_for_text(driver, "解除绑定须填写原因", log)  # the service refuses, in Chinese
        _type(driver, "解除原因", "设备故障，更换新腕带")
        _click(driver, "解除绑定", "//div[contains(@class,'q-dialog')]//div[contains(@class,'justify-end')]")
        _wait_for_text(driver, "解除原因：设备故障，更换新腕带", log)
        body = driver.find_element(_by("TAG_NAME"), "body").text
        assert "当前未绑定定位设备" in body and "绑定记录" in body and "（王所员）" in body  # history, by name
        _shot(driver, "subject-devices.png", bottom=True)
        errors += _severe(driver)
    except BaseException:
        _shot(driver, f"failure-devices-{backend}.png")
        raise
    assert not errors, f"JavaScript console errors: {errors}"


def _has_cjk_font(pdf: bytes) -> bool:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    fonts = {str(f.get_object().get("/BaseFont")) for f in reader.pages[0]["/Resources"].get("/Font", {}).values()}
    return any(k in name for name in fonts for k in ("CJK", "-SC", "Han", "Hei", "Song", "Kai", "Fang", "WenQuanYi"))


@BOTH_BACKENDS
def test_propose_then_approve_as_leader(server: str, driver, world: World, more: dict, tmp_path: Path,
                                        backend: str, db) -> None:
    log = tmp_path / "server.log"
    sid = more["subject_id"]
    errors: list[str] = []
    try:
        _login(driver, server, world.officer_a, log, "在册概况")
        _open(driver, f"{server}/subjects/{sid}")
        _wait_for_text(driver, "未使用电子定位", log)
        _click(driver, "提请使用")
        _choose(driver, "适用情形", "无正当理由未经批准离开")
        _type(driver, "事实与理由", "2026年11月擅自离开临淄区前往济南，经查属实")
        _shot(driver, "proposal-form.png")
        _click(driver, "提请审批")
        _wait_for_text(driver, "待审批", log)
        _open(driver, f"{server}/positioning")
        _wait_for_text(driver, "由区司法局负责人审批", log)  # the office sees it, cannot decide
        assert not driver.find_elements(_by("XPATH"), "//button[contains(., '批准')]")
        errors += _severe(driver)
        _logout(driver, server)

        _login(driver, server, more["leader"], log, "在册概况")
        _open(driver, f"{server}/positioning")
        _wait_for_text(driver, "王五常", log)
        _shot(driver, "positioning-pending.png")
        _click(driver, "不予批准")
        _wait_for_text(driver, "不予批准须填写理由", log)
        _click(driver, "批准")
        _wait_for_text(driver, "决定书 临司矫定〔", log)
        _shot(driver, "positioning.png")
        _open(driver, f"{server}/subjects/{sid}")
        _wait_for_text(driver, "决定书 临司矫定〔", log)
        _wait_for_text(driver, "使用电子定位装置决定书", log)  # on the file's timeline too
        link = driver.find_element(_by("XPATH"), "//a[contains(., '决定书 临司矫定')]")
        number = link.text.removeprefix("决定书 ").strip()
        href = link.get_attribute("href")
        _shot(driver, "subject-orders.png", bottom=True)
        # the PDF downloads in the leader's session (a same-origin fetch carries the cookie)
        data = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0]).then(r => r.arrayBuffer().then(b => {"
            "  let s = ''; const a = new Uint8Array(b); for (const x of a) s += String.fromCharCode(x);"
            "  done([r.status, r.headers.get('content-type'), btoa(s)]); }));", href)
        status, ctype, body = data
        pdf = base64.b64decode(body)
        assert status == 200 and ctype == "application/pdf" and pdf.startswith(b"%PDF-")
        errors += _severe(driver)
    except BaseException:
        _shot(driver, f"failure-positioning-{backend}.png")
        raise
    from zhijiao.documents.models import Document

    doc = db.execute(select(Document).where(Document.subject_id == sid)).scalar_one()
    assert doc.kind == "positioning_decision" and doc.number == number and doc.title == "使用电子定位装置决定书"
    # Text assertions need the shipped CJK font (branch s19-fonts); they run once it is there.
    if _has_cjk_font(pdf):
        import pypdf

        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        squashed = "".join(text.split())
        assert "王五常" in squashed and "使用电子定位装置决定书" in squashed and number in squashed
    assert not errors, f"JavaScript console errors: {errors}"


@BOTH_BACKENDS
def test_sysadmin_adds_a_camera_seen_on_the_wall(server: str, driver, world: World, tmp_path: Path,
                                                 backend: str) -> None:
    log = tmp_path / "server.log"
    errors: list[str] = []
    try:
        _login(driver, server, world.sysadmin, log, "个账号")
        _open(driver, f"{server}/cameras")
        _wait_for_text(driver, "尚未配置视频设备", log)
        _click(driver, "登记视频设备")
        _type(driver, "名称", "指挥中心 1 号机")
        _type(driver, "国标编码", "3703050000")
        _type(driver, "安装地点", "临淄区社区矫正中心三楼")
        _type(driver, "视频地址", "https://cam.zhijiao.local/live/1.m3u8")
        _click(driver, "保存", "//div[contains(@class,'q-dialog')]")
        _wait_for_text(driver, "国标编码须为 20 位数字", log)
        _type(driver, "国标编码", "37030500001320000001")
        _click(driver, "保存", "//div[contains(@class,'q-dialog')]")
        _wait_for_text(driver, "37030500001320000001", log)
        table = driver.find_element(_by("CSS_SELECTOR"), ".q-table").text
        assert "临淄区社区矫正中心三楼" in table and "中心监控室" in table and "未知" in table
        _shot(driver, "cameras.png")
        _open(driver, f"{server}/command/video")
        _wait_for_text(driver, "指挥中心 1 号机", log)
        body = driver.find_element(_by("TAG_NAME"), "body").text
        assert "未知" in body and "pending" not in body.lower() and "unknown" not in body.lower()
        _shot(driver, "video-wall.png")
        errors += [e for e in _severe(driver) if "cam.zhijiao.local" not in e]
        _open(driver, f"{server}/cameras")
        _click(driver, "停用")
        _wait_for_text(driver, "已停用", log)
        errors += _severe(driver)
    except BaseException:
        _shot(driver, f"failure-cameras-{backend}.png")
        raise
    assert not errors, f"JavaScript console errors: {errors}"
