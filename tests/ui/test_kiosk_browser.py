"""The kiosk end to end in headless chromium with a fake camera.

Chromium plays a Y4M video made here from a real face (scikit-image's astronaut): facing the
camera, then turning the head (the same shears the API tests use), then facing it again. The
kiosk account logs in, types the subject's ID number, the page records a burst while the
"video" turns, uploads it with the server's one-time challenge, and shows the match and the
person's duties. Leaves ``artifacts/ui/kiosk.png``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests import factories
from tests.ui import browser
from tests.ui.browser import ARTIFACTS, TIMEOUT

pytestmark = pytest.mark.browser
skimage_data = pytest.importorskip("skimage.data")

HEAD = Image.fromarray(skimage_data.astronaut()[0:300, 50:350])
EYE_Y = 103
FPS = 10


def _shear(im: Image.Image, s: float) -> Image.Image:
    return im.transform(im.size, Image.Transform.AFFINE, (1, s, -s * EYE_Y, 0, 1, 0),
                        resample=Image.Resampling.BICUBIC)


def _frame(head: Image.Image) -> np.ndarray:
    canvas = Image.new("RGB", (640, 480), (118, 122, 128))
    canvas.paste(head, (170, 90))
    return np.asarray(canvas)


def write_y4m(path: Path) -> None:
    """Facing 4 s (page countdown, then the baseline), turning 1.4 s, facing again 3 s."""
    timeline = [(HEAD, 4.0), (_shear(HEAD, 0.12), 0.4), (_shear(HEAD, 0.25), 0.6), (_shear(HEAD, 0.12), 0.4),
                (HEAD, 3.0)]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W640 H480 F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for head, seconds in timeline:
            rgb = _frame(head).astype(np.float32)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            y = 0.299 * r + 0.587 * g + 0.114 * b  # BT.601 full range (JPEG)
            u = (b - y) * 0.564 + 128
            v = (r - y) * 0.713 + 128
            planes = [y, u.reshape(240, 2, 320, 2).mean(axis=(1, 3)), v.reshape(240, 2, 320, 2).mean(axis=(1, 3))]
            data = b"".join(np.clip(p, 0, 255).astype(np.uint8).tobytes() for p in planes)
            for _ in range(round(seconds * FPS)):
                out.write(b"FRAME\n" + data)


def _jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=95)
    return buf.getvalue()


@pytest.fixture
def world(db):
    from zhijiao.checkins import service as checkins_service
    from zhijiao.settings.models import Setting

    office = factories.office(db, name="闻韶司法所")
    kiosk = factories.staff(db, "kiosk", office, display_name="闻韶司法所自助终端")
    subject = factories.subject(db, office, name="张三丰", status="under_correction", supervision_level="strict")
    db.info["actor"] = factories.SYSTEM
    checkins_service.enrol(db_session=db, subject_id=subject.id, image=_jpeg(HEAD))
    # the video turns the head to the subject's right: make that the server's only challenge
    db.add(Setting(key="rules.kiosk_challenges", value="turn_right", updated_by="tests"))
    db.commit()
    return {"kiosk": kiosk.username, "subject": subject, "id_number": subject.id_number}


@pytest.fixture
def driver(tmp_path: Path):
    browser.require_chromium()
    video = tmp_path / "face.y4m"
    write_y4m(video)
    with browser.chromium(tmp_path, ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
                                     f"--use-file-for-fake-video-capture={video}"]) as d:
        yield d


def test_kiosk_checkin_end_to_end(server: str, driver, world, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    log = tmp_path / "server.log"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        browser.open_page(driver, f"{server}/login?next=/kiosk")
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=username]").send_keys(world["kiosk"])
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=current-password]").send_keys(factories.PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "input[autocomplete=one-time-code]").send_keys(
            factories.otp(world["kiosk"]))
        driver.find_element(By.XPATH, "//button[contains(., '登 录')]").click()
        browser.wait_for_text(driver, "请将身份证放在读卡区", log)
        number = driver.find_element(By.CSS_SELECTOR, "input[maxlength='18']")
        number.send_keys("123")  # a wrong number is refused on the spot
        driver.find_element(By.XPATH, "//button[contains(., '下一步')]").click()
        browser.wait_for_text(driver, "身份证号码格式不正确", log)
        for _ in range(3):  # the on-screen keypad's backspace
            driver.find_element(By.XPATH, "//button[.//i[normalize-space()='backspace']]").click()
        browser.wait_for_value(driver, number, "")
        number.send_keys(world["id_number"])
        driver.find_element(By.XPATH, "//button[contains(., '下一步')]").click()
        browser.wait_for_text(driver, "向右转头", log)
        browser.wait_for_text(driver, "签到成功", log, timeout=TIMEOUT)
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "张三丰" in body and "下次签到请于" in body and "自学课程" in body and "社区矫正法解读" in body
        driver.save_screenshot(str(ARTIFACTS / "kiosk.png"))
        errors = browser.severe(driver)
        driver.find_element(By.XPATH, "//button[contains(., '完成')]").click()
        browser.wait_for_text(driver, "请将身份证放在读卡区", log)
        assert "张三丰" not in driver.find_element(By.TAG_NAME, "body").text  # the next person sees nothing
    except BaseException:
        driver.save_screenshot(str(ARTIFACTS / "kiosk-failure.png"))
        raise
    assert not errors, f"JavaScript console errors: {errors}"

    from sqlalchemy import select

    from zhijiao.checkins.models import CheckIn, KioskChallenge

    db_checkins = _rows(select(CheckIn))
    assert [(c.matched, c.source, c.challenge, c.kiosk_id) for c in db_checkins] == [
        (True, "kiosk", "turn_right", world["kiosk"])]
    assert [c.used_at is not None for c in _rows(select(KioskChallenge))] == [True]


def _rows(stmt):
    from zhijiao.db import session as dbsession

    with dbsession.session_scope(factories.SYSTEM) as db:
        return list(db.execute(stmt).scalars())
