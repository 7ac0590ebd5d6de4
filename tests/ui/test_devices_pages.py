"""The positioning and camera screens refuse what the API refuses (simulated user, SQLite)."""

from __future__ import annotations

from nicegui.testing.user import User

from tests.ui.conftest import World, login


async def test_sysadmin_has_cameras_but_no_devices_or_orders(user: User, world: World) -> None:
    await login(user, world.sysadmin)
    await user.open("/devices")
    await user.should_see("您的角色无权执行该操作")
    await user.open("/positioning")
    await user.should_see("您的角色无权执行该操作")
    await user.open("/cameras")
    await user.should_see(marker="camera-add")


async def test_office_officer_reads_cameras_and_proposes_without_deciding(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/cameras")
    await user.should_see(marker="cameras-table")
    await user.should_not_see(marker="camera-add")
    await user.open("/devices")
    await user.should_see(marker="device-register")
    await user.open("/positioning")
    await user.should_see("暂无待审批的电子定位提请")


async def test_auditor_sees_none_of_them(user: User, world: World) -> None:
    await login(user, world.auditor, expect=None)
    for path in ("/devices", "/positioning", "/cameras"):
        await user.open(path)
        await user.should_not_see(marker="devices-table")
        await user.should_not_see(marker="cameras-table")
