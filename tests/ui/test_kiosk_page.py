"""The kiosk page belongs to kiosk accounts; a kiosk account lands on it and reads no file."""

from __future__ import annotations

from nicegui.testing import User

from tests import factories
from tests.ui.conftest import World, login, wait_for_path


async def test_kiosk_account_lands_on_the_kiosk_and_sees_no_case_file(user: User, world: World, db) -> None:
    kiosk = factories.staff(db, "kiosk", world.office_a)
    await login(user, kiosk.username, expect=None)
    await wait_for_path(user, "/")  # the home page sends a kiosk account on to /kiosk
    await user.should_see("请将身份证放在读卡区", retries=20)
    user.find(marker="kiosk-id-number").type("370305198506150000")
    user.find(marker="kiosk-next").click()
    await user.should_see("身份证号码校验码不正确")  # refused on the spot, no challenge spent
    await user.open("/subjects")
    await user.should_not_see("张三丰")


async def test_staff_are_refused_the_kiosk(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/kiosk")
    await user.should_see(marker="kiosk-refused")
    await user.should_not_see("请将身份证放在读卡区")
