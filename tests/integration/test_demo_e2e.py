"""`zhijiao demo` from scratch, then the tester's path it prints, in headless chromium (SQLite).

The demo seeds a temporary data dir (a short history), is started a second time (idempotent, the
full banner again) on free ports, and the test follows the banner's ready path with a fake camera
(a video made from a real face, ``tests/ui/fakecam.py``): the office account enrols the demo
subject's face at /subjects/N/face, the subject checks in on the phone page /m/ with the printed ID
number and password, and the kiosk account checks them in at /kiosk. The check-ins are verified
through the API. Screenshots: ``artifacts/ui/demo/e2e-*.png``.

The kiosk's liveness action is drawn by the server from a setting; the video can only turn the
head to the right, so the test sets that setting in the demo's database between the two starts.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.ui import browser, fakecam
from zhijiao.db.session import make_engine
from zhijiao.security.actor import Actor
from zhijiao.settings.models import Setting
from tests.ui.browser import ARTIFACTS, TIMEOUT

pytestmark = pytest.mark.browser
pytest.importorskip("skimage.data")

SHOTS = ARTIFACTS / "demo"
DEMO_PASSWORD = "Zhijiao@2026"
PHONE_PASSWORD = "Phone@2026"


def _env(tmp_path: Path, port: int, jt808: int) -> dict[str, str]:
    env = {**os.environ, "ZHIJIAO_DATA_DIR": str(tmp_path / "data"), "ZHIJIAO_DEMO_MODE": "true",
           "ZHIJIAO_DATABASE_URL": f"sqlite:///{tmp_path / 'data' / 'zhijiao.db'}",
           "ZHIJIAO_PORT": str(port), "ZHIJIAO_JT808_PORT": str(jt808), "ZHIJIAO_JT808_ENABLED": "true",
           "NICEGUI_STORAGE_PATH": str(tmp_path / "nicegui"), "PYTHONPATH": os.pathsep.join(sys.path)}
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


DEMO_ARGS = ["--subjects", "60", "--history-days", "3", "--no-simulator", "--host", "127.0.0.1"]


def _ready_path(banner: str) -> dict[str, str]:
    face = re.search(r"以 (\S+) 登录，打开 (\S+)/subjects/(\d+)/face", banner)
    phone = re.search(r"/m/ ，身份证号 (\d{17}[\dX])，密码 (\S+)", banner)
    kiosk = re.search(r"以 (\S+) 登录，打开 \S+/kiosk", banner)
    assert face and phone and kiosk, banner
    return {"office": face.group(1), "base": face.group(2), "subject_id": face.group(3),
            "id_number": phone.group(1), "phone_password": phone.group(2), "kiosk": kiosk.group(1)}


def _login(driver, base: str, username: str, next_path: str, log: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.open_page(driver, f"{base}/login?next={next_path}")
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(username)
    driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(DEMO_PASSWORD)
    driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()


def _testid(driver, name: str):
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, f"[data-testid='{name}']")


def _click(driver, name: str) -> None:
    driver.execute_script("arguments[0].click()", _testid(driver, name))


def _enrol(driver, log: Path) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    _click(driver, "face-camera-start")
    browser.wait_for_text(driver, "可以采集", log)
    for _ in range(5):
        WebDriverWait(driver, TIMEOUT).until(lambda d: _testid(d, "face-capture").get_attribute("disabled") is None)
        _click(driver, "face-capture")
        try:
            WebDriverWait(driver, 10).until(lambda d: "人脸采集成功" in _testid(d, "face-result").text)
            return
        except Exception:  # noqa: BLE001 - a frame of the head turn failed the gate: again
            continue
    pytest.fail("the camera enrolment did not succeed")


def test_demo_ready_path_enrol_then_check_in_on_phone_and_kiosk(tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.require_chromium()
    SHOTS.mkdir(parents=True, exist_ok=True)
    port, jt808 = browser.free_port(), browser.free_port()
    env = _env(tmp_path, port, jt808)
    cli = [sys.executable, "-m", "zhijiao.cli", "demo", *DEMO_ARGS]

    first = subprocess.run([*cli, "--no-serve"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=240)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "历史数据完成" in first.stdout and "生成用时" in first.stdout
    ready = _ready_path(first.stdout)
    assert ready["base"] == f"http://127.0.0.1:{port}"

    # the kiosk draws its action from this setting; the fake video turns the head to the right
    engine = make_engine(env["ZHIJIAO_DATABASE_URL"])
    with Session(engine, info={"actor": Actor.system("tests")}) as db:
        db.add(Setting(key="rules.kiosk_challenges", value="turn_right", updated_by="tests"))
        db.commit()
    engine.dispose()

    log_path = tmp_path / "demo.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(cli, env=env, cwd=tmp_path, stdout=log_file, stderr=subprocess.STDOUT)
    base = ready["base"]
    try:
        browser.wait_healthy(base, alive=lambda: proc.poll() is None,
                             why=lambda: "demo did not start:\n" + log_path.read_text(errors="replace"))
        second = log_path.read_text(errors="replace")
        assert "沿用已有数据" in second and "历史数据" not in second.split("沿用已有数据")[0].split("=" * 72)[-1]
        assert _ready_path(second) == ready  # the second start prints the whole banner again
        sid = ready["subject_id"]

        # 1. the office account enrols the subject's face from the camera
        video = fakecam.write_y4m(tmp_path / "phone.y4m", fakecam.turn_right_timeline())
        with browser.chromium(tmp_path / "a", fakecam.chromium_args(video)) as driver:
            try:
                _login(driver, base, ready["office"], f"/subjects/{sid}/face", log_path)
                browser.wait_for_text(driver, "摄像头采集", log_path)
                _enrol(driver, log_path)
                driver.save_screenshot(str(SHOTS / "e2e-enrol.png"))
            except BaseException:
                driver.save_screenshot(str(SHOTS / "e2e-failure-enrol.png"))
                raise

        # 2. the subject checks in on the phone page with the printed ID number and password (a fresh
        # browser: chromium plays the fake video from its first frame when the camera first opens)
        with browser.chromium(tmp_path / "m", fakecam.chromium_args(video)) as driver:
            try:
                driver.get(f"{base}/m/")
                driver.find_element(By.NAME, "id_number").send_keys(ready["id_number"])
                driver.find_element(By.NAME, "password").send_keys(ready["phone_password"])
                driver.find_element(By.CSS_SELECTOR, "#login-form button[type=submit]").click()
                browser.wait_for_text(driver, "签到需开启摄像头", log_path)
                driver.execute_script("Math.random = () => 0.4;")  # the page's action: turn right
                driver.find_element(By.ID, "checkin").click()
                browser.wait_for_text(driver, "向右转头", log_path)
                WebDriverWait(driver, TIMEOUT).until(lambda d: d.find_element(By.ID, "message").text)
                message = driver.find_element(By.ID, "message").text
                driver.save_screenshot(str(SHOTS / "e2e-phone.png"))
                assert message == "签到成功", message
            except BaseException:
                driver.save_screenshot(str(SHOTS / "e2e-failure-phone.png"))
                raise

        # 3. the kiosk account checks the subject in at /kiosk
        kiosk_video = fakecam.write_y4m(tmp_path / "kiosk.y4m", [
            (fakecam.head(), 4.0), (fakecam.shear(fakecam.head(), 0.12), 0.4),
            (fakecam.shear(fakecam.head(), 0.25), 0.6), (fakecam.shear(fakecam.head(), 0.12), 0.4),
            (fakecam.head(), 3.0)])
        with browser.chromium(tmp_path / "b", fakecam.chromium_args(kiosk_video)) as driver:
            try:
                _login(driver, base, ready["kiosk"], "/kiosk", log_path)
                browser.wait_for_text(driver, "请将身份证放在读卡区", log_path)
                driver.find_element(By.CSS_SELECTOR, "input[maxlength='18']").send_keys(ready["id_number"])
                driver.find_element(By.XPATH, "//button[contains(., '下一步')]").click()
                browser.wait_for_text(driver, "签到成功", log_path, timeout=TIMEOUT)
                driver.save_screenshot(str(SHOTS / "e2e-kiosk.png"))
            except BaseException:
                driver.save_screenshot(str(SHOTS / "e2e-failure-kiosk.png"))
                raise

        # verified through the API, as the office account
        token = httpx.post(f"{base}/api/v1/auth/token",
                           data={"username": ready["office"], "password": DEMO_PASSWORD}).json()["access_token"]
        rows = httpx.get(f"{base}/api/v1/subjects/{sid}/checkins",
                         headers={"Authorization": f"Bearer {token}"}).json()
        # the seed's historical rows carry other actions; these two are the browser's, with liveness
        live = [(r["source"], r["kiosk_id"]) for r in rows
                if r["matched"] and r["liveness"] and r["challenge"] == "turn_right"]
        assert sorted(live) == [("kiosk", ready["kiosk"]), ("phone", None)], rows[:5]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
