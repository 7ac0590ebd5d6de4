"""The subject list, the case file page and its lifecycle buttons."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from tests import factories
from tests.ui.conftest import BOTH_BACKENDS, World, login, set_value, table_rows, timeline_titles, wait_for_path


@BOTH_BACKENDS
async def test_list_shows_the_officers_own_office_only(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/subjects")
    rows = table_rows(user, "subjects-table")
    assert sorted(r["name"] for r in rows) == sorted(world.a_names)
    assert all(r["id_number"][6:14] == "********" for r in rows)  # masked
    assert all("****" in r["phone"] for r in rows)
    await user.should_see("共 3 人")
    await user.should_not_see(marker="filter-office")  # office staff have no office filter


async def test_minors_names_are_masked_in_the_list(user: User, world: World, db) -> None:
    from zhijiao.org.models import Staff

    officer = db.query(Staff).filter_by(username=world.officer_a).one()
    # a minor's file is visible only to its responsible officer (社区矫正法 第五十四条)
    factories.subject(db, world.office_a, name="欧阳娜娜", is_minor=True, responsible_staff_id=officer.id)
    await login(user, world.officer_a)
    await user.open("/subjects")
    (minor,) = [r for r in table_rows(user, "subjects-table") if r["minor"]]
    assert minor["name"] == "欧阳某"
    await user.should_not_see("欧阳娜娜")


async def test_search_narrows_the_list(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/subjects")
    user.find(marker="search-q").type("张三")
    user.find(marker="search").click()
    await wait_for_path(user, "/subjects?q=%E5%BC%A0%E4%B8%89")
    assert [r["name"] for r in table_rows(user, "subjects-table")] == ["张三丰"]


async def test_filters_and_paging_ask_the_service(user: User, world: World, db) -> None:
    await login(user, world.bureau)
    await user.open("/subjects?status=under_correction")
    assert [r["name"] for r in table_rows(user, "subjects-table")] == ["王五常"]
    await user.open("/subjects?size=10")
    await user.should_see(marker="filter-office")
    assert len(table_rows(user, "subjects-table")) == 4  # a district officer sees every office
    set_value(user, "filter-office", world.office_b.id)
    user.find(marker="search").click()
    await wait_for_path(user, f"/subjects?office_id={world.office_b.id}")
    assert [r["name"] for r in table_rows(user, "subjects-table")] == world.b_names
    # Quasar asks for page 2: the service answers with those rows, newest first.
    for i in range(8):
        factories.subject(db, world.office_b, name=f"钱{'一二三四五六七八'[i]}")
    await user.open("/subjects?size=10")
    assert len(table_rows(user, "subjects-table")) == 10
    user.find(marker="subjects-table").trigger("request", {"pagination": {"page": 2, "rowsPerPage": 10}})
    (table,) = user.find(marker="subjects-table").elements
    assert table.pagination == {"page": 2, "rowsPerPage": 10, "rowsNumber": 12}
    assert [r["name"] for r in table.rows] == ["李四光", "张三丰"]
    # A page past the end in the address bar shows the last page.
    await user.open("/subjects?page=9&size=10")
    assert len(table_rows(user, "subjects-table")) == 2


async def test_row_click_opens_the_file(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/subjects")
    row = next(r for r in table_rows(user, "subjects-table") if r["name"] == "张三丰")
    user.find(marker="subjects-table").trigger("rowClick", [{}, row, 0])
    await wait_for_path(user, f"/subjects/{row['id']}")
    await user.should_see(marker="subject-name")


async def test_subject_page_shows_the_file_and_timeline(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open(f"/subjects/{world.subject_id}")
    await user.should_see("张三丰")
    await user.should_see("基本信息")
    await user.should_see("盗窃罪")
    await user.should_see(kind=ui.timeline)
    assert timeline_titles(user) == ["系统建档"]
    await user.should_see("报到期限")
    # Only the steps the law allows from 待接收 for a probationer are offered.
    await user.should_see(marker="transition-reported-")
    await user.should_see(marker="transition-terminated-revoked_probation")
    await user.should_not_see(marker="transition-terminated-recommitted")
    await user.should_not_see(marker="transition-released-term_completed")


@BOTH_BACKENDS
async def test_transition_is_confirmed_and_shown_in_the_timeline(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open(f"/subjects/{world.subject_id}")
    user.find(marker="transition-reported-").click()
    await user.should_see("确认登记报到")
    user.find(marker="transition-note").type("本人持判决书到所报到")
    user.find(marker="transition-confirm").click()
    await wait_for_path(user, f"/subjects/{world.subject_id}")
    await user.should_see(marker="transition-under_correction-", retries=20)
    assert timeline_titles(user) == ["系统建档", "待接收 → 已报到"]
    await user.should_see("备注：本人持判决书到所报到")
    await user.should_see("第二十一条")


async def test_other_offices_file_is_not_found(user: User, world: World) -> None:
    await login(user, world.officer_b)
    await user.open(f"/subjects/{world.subject_id}")
    await user.should_see("社区矫正对象不存在或不在您的管辖范围内")
    await user.should_not_see("张三丰")
