"""签到身份 end to end in headless chromium with a fake camera, on SQLite and PostgreSQL.

An office officer opens the subject page, goes to 人脸采集, opens the camera (a video made from
a real face, ``tests/ui/fakecam.py``), waits for the live quality gate to pass and enrols; opens
the subject's phone login and reads the password shown once; the subject then logs in at /m/
with the same fake camera and checks in (face match and head-turn liveness). The upload path,
re-enrolment history, the audited photo view and the phone login's reset and revoke follow.
Screenshots: ``artifacts/ui/faces/*.png``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from tests import factories
from tests.ui import browser, fakecam
from tests.ui.browser import ARTIFACTS, TIMEOUT
from tests.ui.conftest import _FAST_HASH, BOTH_BACKENDS

pytestmark = pytest.mark.browser
pytest.importorskip("skimage.data")

SHOTS = ARTIFACTS / "faces"


@pytest.fixture
def world(db):
    office = factories.office(db, name="闻韶司法所")
    other = factories.office(db, name="雪宫司法所")
    officer = factories.staff(db, "office_officer", office, display_name="王所员")
    stranger = factories.staff(db, "office_officer", other, display_name="李所员")
    subject = factories.subject(db, office, name="张三丰", status="under_correction", responsible_staff_id=officer.id)
    for member in (officer, stranger):
        member.password_hash = _FAST_HASH
    db.commit()
    return {"officer": officer.username, "stranger": stranger.username, "subject_id": subject.id,
            "id_number": subject.id_number}


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    video = fakecam.write_y4m(tmp_path / "face.y4m", fakecam.turn_right_timeline())
    with browser.chromium(tmp_path, fakecam.chromium_args(video)) as d:
        yield d


def _by_testid(driver, name: str, timeout: float = 20):
    """The element with ``data-testid=name``, waiting for it to appear."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(ec.presence_of_element_located(
        (By.CSS_SELECTOR, f"[data-testid='{name}']")))


def _click(driver, name: str) -> None:
    driver.execute_script("arguments[0].click()", _by_testid(driver, name))


def _login(driver, server: str, username: str, next_path: str, log: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.open_page(driver, f"{server}/login?next={next_path}")
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(username)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(factories.PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=one-time-code]").send_keys(factories.otp(username))
    driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()


def _wait_enabled(driver, name: str, timeout: float = TIMEOUT) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: _by_testid(d, name).get_attribute("disabled") is None)


def _shot_card(driver, name: str) -> None:
    """The 签到身份 card in view, once the dialogs have gone."""
    import time

    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(lambda d: not d.find_elements("css selector", ".q-dialog"))
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", _by_testid(driver, "identity-card"))
    time.sleep(0.3)
    driver.save_screenshot(str(SHOTS / name))


def _rows(stmt):
    from zhijiao.db import session as dbsession

    with dbsession.session_scope(factories.SYSTEM) as db:
        return list(db.execute(stmt).scalars())


def _enrol_from_camera(driver, log: Path) -> None:
    """Open the camera, wait for the gate, capture; a frame of the head turn may fail the gate
    between the check and the click, so try again until it is enrolled."""
    from selenium.webdriver.support.ui import WebDriverWait

    _click(driver, "face-camera-start")
    browser.wait_for_text(driver, "可以采集", log)
    driver.save_screenshot(str(SHOTS / "enrol-gate.png"))
    for _ in range(5):
        _wait_enabled(driver, "face-capture")
        _click(driver, "face-capture")
        try:
            WebDriverWait(driver, 10).until(lambda d: "人脸采集成功" in _by_testid(d, "face-result").text)
            return
        except Exception:  # noqa: BLE001 - the button was disabled again: retry
            continue
    pytest.fail("the camera enrolment did not succeed")


@BOTH_BACKENDS
def test_enrol_from_camera_then_check_in_on_the_phone(server: str, driver, world, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from sqlalchemy import select

    from zhijiao.checkins.models import CheckIn, FaceEnrolment

    log = tmp_path / "server.log"
    SHOTS.mkdir(parents=True, exist_ok=True)
    sid = world["subject_id"]
    try:
        _login(driver, server, world["officer"], f"/subjects/{sid}", log)
        browser.wait_for_text(driver, "签到身份", log)
        assert "未采集" in _by_testid(driver, "face-state").text and "未开通" in _by_testid(driver, "phone-state").text
        _click(driver, "open-face")
        browser.wait_for_text(driver, "摄像头采集", log)
        assert driver.current_url.endswith(f"/subjects/{sid}/face")
        assert _by_testid(driver, "face-capture").get_attribute("disabled") is not None  # no gate passed yet
        _enrol_from_camera(driver, log)
        browser.wait_for_text(driver, "已采集 1 次", log)
        driver.save_screenshot(str(SHOTS / "enrol-camera.png"))

        # the phone login, on the subject page
        driver.find_element(By.XPATH, "//button[contains(., '返回档案')]").click()
        browser.wait_for_text(driver, "签到身份", log)
        assert "已采集" in _by_testid(driver, "face-state").text
        _click(driver, "phone-create")
        browser.wait_for_text(driver, "将生成一个随机初始密码", log)
        _click(driver, "phone-confirm")
        browser.wait_for_text(driver, "此密码只显示这一次", log)
        password = _by_testid(driver, "phone-password").text.strip()
        assert len(password) == 10
        driver.save_screenshot(str(SHOTS / "phone-password.png"))
        _click(driver, "phone-password-close")
        browser.wait_for_text(driver, "已开通", log)
        _shot_card(driver, "identity-card.png")
        errors = browser.severe(driver)

        # the subject checks in on the phone page with the same fake camera
        driver.get(f"{server}/m/")
        driver.find_element(By.NAME, "id_number").send_keys(world["id_number"])
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
        browser.wait_for_text(driver, "签到需开启摄像头", log)
        # the page picks the action at random; the video turns to the subject's right
        driver.execute_script("Math.random = () => 0.4;")
        driver.find_element(By.ID, "checkin").click()
        browser.wait_for_text(driver, "向右转头", log)
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(driver, TIMEOUT).until(lambda d: d.find_element(By.ID, "message").text)
        message = driver.find_element(By.ID, "message").text
        driver.save_screenshot(str(SHOTS / "phone-checkin.png"))
        assert message == "签到成功", message
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure.png"))
        raise
    assert not errors, f"JavaScript console errors: {errors}"
    enrolments = _rows(select(FaceEnrolment))
    assert [(e.active, (e.quality or {}).get("source")) for e in enrolments] == [(True, "camera")]
    checkins = _rows(select(CheckIn))
    assert [(c.subject_id, c.source, c.matched, c.liveness, c.challenge) for c in checkins] == [
        (sid, "phone", True, True, "turn_right")]


def _png(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(fakecam.frame(fakecam.head())).save(path, "PNG")
    return path


@BOTH_BACKENDS
def test_upload_history_and_phone_login_reset_revoke(server: str, driver, world, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from sqlalchemy import select

    from zhijiao.checkins.models import FaceEnrolment
    from zhijiao.security.models import AuditEvent, AuthSession, SubjectCredential

    log = tmp_path / "server.log"
    SHOTS.mkdir(parents=True, exist_ok=True)
    sid = world["subject_id"]
    gif = tmp_path / "photo.gif"
    Image.new("RGB", (200, 200), (120, 120, 120)).save(gif, "GIF")
    blank = tmp_path / "blank.jpg"
    blank.write_bytes(fakecam.jpeg(Image.new("RGB", (640, 480), (118, 122, 128))))
    big = tmp_path / "big.png"
    noise = Image.frombytes("RGB", (1400, 1400), os.urandom(1400 * 1400 * 3))
    noise.save(big, "PNG", compress_level=0)
    assert big.stat().st_size > 5 * 1024 * 1024
    try:
        _login(driver, server, world["officer"], f"/subjects/{sid}/face", log)
        browser.wait_for_text(driver, "上传照片", log)

        def upload(path: Path) -> None:
            field = driver.find_element(By.CSS_SELECTOR, "[data-testid='face-upload'] input[type=file]")
            field.send_keys(str(path))

        upload(gif)  # refused by the browser (accept), as the server would
        browser.wait_for_text(driver, "未采集：照片只能是 JPEG 或 PNG 格式", log)
        upload(blank)
        browser.wait_for_text(driver, "未采集：未检测到人脸", log)
        upload(big)
        browser.wait_for_text(driver, "未采集：照片只能是 JPEG 或 PNG 格式，且不能超过 5 MB", log)
        driver.save_screenshot(str(SHOTS / "upload-refused.png"))
        upload(_png(tmp_path))
        browser.wait_for_text(driver, "人脸采集成功（上传照片）", log)
        upload(_png(tmp_path))  # re-enrolment keeps the first one
        browser.wait_for_text(driver, "已采集 2 次", log)
        first = min(e.id for e in _rows(select(FaceEnrolment)))
        _click(driver, f"face-photo-{first}")
        browser.wait_for_text(driver, "本次查看已记入审计日志", log)
        driver.save_screenshot(str(SHOTS / "enrol-upload-history.png"))
        errors = browser.severe(driver)

        # phone login: create, the subject logs in, reset ends that login, revoke removes it
        browser.open_page(driver, f"{server}/subjects/{sid}")
        _click(driver, "phone-create")
        _click(driver, "phone-confirm")
        browser.wait_for_text(driver, "此密码只显示这一次", log)
        first_password = _by_testid(driver, "phone-password").text.strip()
        _click(driver, "phone-password-close")
        import httpx

        r = httpx.post(f"{server}/api/v1/m/login", json={"id_number": world["id_number"], "password": first_password})
        assert r.status_code == 200, r.text
        phone = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert httpx.get(f"{server}/api/v1/m/rollcalls/pending", headers=phone).status_code == 200
        browser.wait_for_text(driver, "已开通", log)
        browser.open_page(driver, f"{server}/subjects/{sid}")
        browser.wait_for_text(driver, "当前登录 1 处", log)
        _click(driver, "phone-reset")
        browser.wait_for_text(driver, "立即失效", log)
        _click(driver, "phone-confirm")
        browser.wait_for_text(driver, "此密码只显示这一次", log)
        second_password = _by_testid(driver, "phone-password").text.strip()
        assert second_password != first_password
        _click(driver, "phone-password-close")
        assert httpx.get(f"{server}/api/v1/m/rollcalls/pending", headers=phone).status_code == 401
        assert httpx.post(f"{server}/api/v1/m/login", json={"id_number": world["id_number"],
                                                            "password": first_password}).status_code == 401
        r = httpx.post(f"{server}/api/v1/m/login", json={"id_number": world["id_number"], "password": second_password})
        assert r.status_code == 200
        phone = {"Authorization": f"Bearer {r.json()['access_token']}"}
        _click(driver, "phone-revoke")
        _click(driver, "phone-confirm")
        browser.wait_for_text(driver, "已停用手机登录，结束登录 1 处", log)
        browser.wait_for_text(driver, "未开通", log)
        assert httpx.get(f"{server}/api/v1/m/rollcalls/pending", headers=phone).status_code == 401
        assert httpx.post(f"{server}/api/v1/m/login", json={"id_number": world["id_number"],
                                                            "password": second_password}).status_code == 401
        _shot_card(driver, "identity-revoked.png")
        errors += browser.severe(driver)
    except BaseException:
        driver.save_screenshot(str(SHOTS / "failure-upload.png"))
        raise
    assert not [e for e in errors if "413" not in e], f"JavaScript console errors: {errors}"
    enrolments = sorted(_rows(select(FaceEnrolment)), key=lambda e: e.id)
    assert [(e.active, (e.quality or {}).get("source")) for e in enrolments] == [(False, "upload"), (True, "upload")]
    assert _rows(select(SubjectCredential)) == []
    assert all(s.revoked_at is not None for s in _rows(select(AuthSession).where(AuthSession.subject_id == sid)))
    actions = [(a.object_type, a.action) for a in _rows(select(AuditEvent))]
    assert ("face_enrolments", "view_biometric") in actions
    for action in ("login_created", "password_reset", "sessions_ended", "login_revoked"):
        assert ("subject_login", action) in actions, action


def test_another_office_is_refused(server: str, driver, world, tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    sid = world["subject_id"]
    _login(driver, server, world["stranger"], f"/subjects/{sid}/face", log)
    browser.wait_for_text(driver, "不在您的管辖范围内", log)
    assert "摄像头采集" not in driver.find_element("tag name", "body").text
    driver.save_screenshot(str(SHOTS / "refused.png"))
