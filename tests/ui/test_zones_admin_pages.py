"""/zones, /admin/staff and /admin/settings in the simulated browser: who sees what (三员)."""

from __future__ import annotations

from nicegui.testing import User

from tests import factories
from tests.ui.conftest import World, login, table_rows, wait_for_path


async def test_buttons_follow_the_duty(user: User, world: World, db) -> None:
    secadmin = factories.staff(db, "secadmin").username
    await login(user, world.sysadmin)
    await user.should_see(marker="staff-table", retries=20)
    await user.should_see(marker="staff-create")
    rows = {r["username"]: r for r in table_rows(user, "staff-table")}
    assert rows[world.officer_a]["can_disable"] and rows[world.officer_a]["can_reset_password"]
    assert not rows[world.officer_a]["can_grant"] and not rows[world.officer_a]["can_reset_totp"]
    assert not rows[world.sysadmin]["can_disable"]  # never one's own account
    await user.should_not_see("命令行")
    user.find("退出登录").click()
    await wait_for_path(user, "/login")
    await login(user, secadmin, expect=None)
    await user.open("/admin/staff")
    await user.should_see(marker="staff-table", retries=20)
    await user.should_not_see(marker="staff-create")
    rows = {r["username"]: r for r in table_rows(user, "staff-table")}
    assert rows[world.officer_a]["can_grant"] and rows[world.officer_a]["can_reset_totp"]
    assert not rows[world.officer_a]["can_disable"] and not rows[world.officer_a]["can_reset_password"]
    await user.open("/admin/settings")
    await user.should_see(marker="value-security.lockout_failures")
    await user.should_not_see(marker="value-rules.leave_office_max_days")  # the system administrator's


async def test_settings_show_the_legal_ceiling(user: User, world: World) -> None:
    await login(user, world.sysadmin)
    await user.open("/admin/settings")
    await user.should_see(marker="legal-rules.leave_office_max_days")
    await user.should_see("法定上限：≤ 7 天（社区矫正法实施办法第二十七条）")
    await user.should_not_see(marker="value-security.lockout_failures")


async def test_zones_for_case_staff_only(user: User, world: World) -> None:
    await login(user, world.sysadmin)
    await user.open("/zones")
    await user.should_see("您的角色无权执行该操作")
    user.find("退出登录").click()
    await wait_for_path(user, "/login")
    await login(user, world.bureau)
    await user.open("/zones")
    await user.should_see(marker="zone-map")
    await user.should_see(marker="zone-save")
    await user.should_see(marker="nav-/zones")


async def test_circle_around_a_town_and_a_copy_of_the_district(user: User, world: World, db) -> None:
    from sqlalchemy import select

    from tests.ui.conftest import set_value
    from zhijiao.monitoring.models import Zone
    from zhijiao.security.actor import Actor

    await login(user, world.bureau)
    await user.open("/zones")
    await user.should_see(marker="zone-map")
    user.find(marker="zone-name").type("雪宫街道周边")
    set_value(user, "zone-kind", "permitted")
    set_value(user, "zone-shape", "circle")
    set_value(user, "zone-centre", "town")
    set_value(user, "zone-town", "雪宫街道")
    set_value(user, "zone-radius", 800)
    user.find(marker="zone-save").click()
    await user.should_see("已保存围栏")
    set_value(user, "zone-shape", "template")
    set_value(user, "zone-template", "district")
    user.find(marker="zone-save").click()
    await user.should_see("临淄区活动范围")
    db.info["actor"] = Actor.system("tests")
    zones = {z.name: z for z in db.execute(select(Zone)).scalars()}
    circle = zones["雪宫街道周边"]
    assert circle.kind == "permitted" and circle.geojson["properties"]["radius_m"] == 800
    assert circle.geojson["geometry"]["coordinates"] == [118.318, 36.806]
    district = zones["临淄区活动范围"]
    assert district.source == "区界" and district.geojson["geometry"]["type"] in ("Polygon", "MultiPolygon")


async def test_office_staff_choose_their_office_or_their_subjects(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/zones")
    await user.should_see(marker="zone-map")
    (select,) = user.find(marker="zone-subject").elements
    assert "all" not in select.options  # a zone for everyone is the district's
    assert select.options[f"o:{world.office_a.id}"] == "闻韶司法所的全部对象"
    assert f"o:{world.office_b.id}" not in select.options
    assert any(v.startswith("张三丰") for v in select.options.values())
    assert not any(v.startswith("赵六合") for v in select.options.values())  # another office's subject
    assert select.value == f"o:{world.office_a.id}"
