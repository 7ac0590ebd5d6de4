"""签到身份 screens with the simulated user: who sees which actions (the browser tests in
``test_face_enrolment_browser.py`` do the camera, the upload and the phone login end to end)."""

from __future__ import annotations

from nicegui.testing import User

from tests import factories
from tests.ui.conftest import _FAST_HASH, World, login


async def test_officer_sees_camera_upload_and_phone_actions(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open(f"/subjects/{world.subject_id}")
    await user.should_see("签到身份")
    await user.should_see(marker="phone-create")
    await user.should_see("未采集 — 对象无法在自助终端或手机上签到")
    user.find(marker="open-face").click()
    await user.should_see("摄像头采集")
    await user.should_see(marker="face-camera-start")
    await user.should_see(marker="face-upload")
    await user.should_see("尚未采集人脸")
    (capture,) = user.find(marker="face-capture").elements
    assert not capture.enabled  # only after the quality gate passed


async def test_read_only_role_sees_state_without_actions(user: User, world: World, db) -> None:
    operator = factories.staff(db, "operator")
    operator.password_hash = _FAST_HASH
    db.commit()
    await login(user, operator.username)
    await user.open(f"/subjects/{world.subject_id}")
    await user.should_see("签到身份")
    await user.should_not_see(marker="phone-create")
    await user.open(f"/subjects/{world.subject_id}/face")
    await user.should_see("您的角色无权采集人脸，只能查看采集记录。")
    await user.should_not_see(marker="face-camera-start")
    await user.should_not_see(marker="face-upload")


async def test_another_office_sees_nothing(user: User, world: World) -> None:
    await login(user, world.officer_b)
    await user.open(f"/subjects/{world.subject_id}/face")
    await user.should_see("社区矫正对象不存在或不在您的管辖范围内")
    await user.should_not_see(marker="face-camera-start")


async def test_ended_file_cannot_be_enrolled(user: User, world: World, db) -> None:
    ended = factories.subject(db, world.office_a, name="周七星", status="released")
    await login(user, world.officer_a)
    await user.open(f"/subjects/{ended.id}")
    await user.should_see("签到身份")
    await user.should_not_see(marker="phone-create")
    await user.open(f"/subjects/{ended.id}/face")
    await user.should_see("矫正已结束，不能再采集人脸。")
    await user.should_not_see(marker="face-camera-start")
