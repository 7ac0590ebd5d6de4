"""The 三员 screens: the audit log and the staff accounts; neither sees case files."""

from __future__ import annotations

from nicegui.testing import User

from tests.ui.conftest import World, login, table_rows, wait_for_path


async def test_auditor_lands_on_the_audit_log(user: User, world: World) -> None:
    await login(user, world.auditor, expect=None)
    await wait_for_path(user, "/")
    await user.should_see(marker="audit-table", retries=20)
    await user.should_see(marker="nav-/audit")
    await user.should_not_see(marker="nav-/subjects")
    rows = table_rows(user, "audit-table")
    assert any(r["action"] == "登录" and r["username"] == world.auditor for r in rows)


async def test_sysadmin_sees_the_staff_list_but_no_case_files(user: User, world: World) -> None:
    await login(user, world.sysadmin)
    await user.should_see(marker="staff-table", retries=20)
    (table,) = user.find(marker="staff-table").elements
    assert {r["username"] for r in table.rows} >= {world.officer_a, world.auditor}
    await user.open("/subjects")
    await user.should_see("您的角色无权执行该操作")
    await user.should_not_see("张三丰")


async def test_opening_a_file_is_audited_and_the_log_filters(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open(f"/subjects/{world.subject_id}")
    await user.should_see(marker="subject-name")
    user.find("退出登录").click()
    await wait_for_path(user, "/login")
    await login(user, world.auditor, expect=None)
    await user.should_see(marker="audit-table", retries=20)
    await user.open("/audit?action=view_identity")
    rows = table_rows(user, "audit-table")
    assert [(r["actor"], r["object"], r["object_id"], r["action"]) for r in rows] == [
        (f"王所员（{world.officer_a}）", "社区矫正对象", str(world.subject_id), "查看身份信息")]


async def test_case_staff_cannot_open_the_admin_pages(user: User, world: World) -> None:
    await login(user, world.officer_a)
    for path in ("/admin/staff", "/audit"):
        await user.open(path)
        await user.should_see("您的角色无权执行该操作")


async def test_an_account_without_a_role_sees_only_a_notice(user: User, world: World, db) -> None:
    """Activated but not yet granted a role (issue 20 item 1): nothing to do but ask for one."""
    from tests import factories
    from tests.ui.conftest import _FAST_HASH

    member = factories.staff(db, "office_officer", world.office_a, display_name="孙待授")
    member.role, member.office_id, member.password_hash = None, None, _FAST_HASH
    db.commit()
    await login(user, member.username)
    await user.should_see(marker="no-role", retries=20)
    await user.should_see("未授予角色")
    await user.should_not_see(marker="nav-/subjects")
    await user.open("/admin/staff")
    await user.should_see("您的角色无权执行该操作")


async def test_the_auditor_sees_refused_attempts(user: User, world: World, db) -> None:
    """Disabling the auditor's account is refused and shown to the auditor under 越权尝试 (issue 20)."""
    import pytest
    from sqlalchemy import select

    from zhijiao.core.errors import Forbidden
    from zhijiao.org import service as org_service
    from zhijiao.org.models import Staff
    from zhijiao.security.actor import Actor

    sysadmin = db.execute(select(Staff).where(Staff.username == world.sysadmin)).scalar_one()
    auditor = db.execute(select(Staff).where(Staff.username == world.auditor)).scalar_one()
    db.info["actor"] = Actor(kind="staff", username=sysadmin.username, staff_id=sysadmin.id, role="sysadmin")
    with pytest.raises(Forbidden):
        org_service.set_active(db_session=db, staff_id=auditor.id, active=False)
    await login(user, world.auditor, expect=None)
    await user.should_see(marker="audit-denied", retries=20)
    user.find(marker="audit-denied").click()
    await wait_for_path(user, "/audit?action=denied")
    await user.should_see(marker="audit-table", retries=20)
    rows = table_rows(user, "audit-table")
    assert [(r["actor"], r["action"]) for r in rows] == [(world.sysadmin, "拒绝越权操作")] or \
        [r["action"] for r in rows] == ["拒绝越权操作"]
