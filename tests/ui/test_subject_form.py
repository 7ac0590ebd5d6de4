"""Creating and editing a case file: the API's validation, shown per field in Chinese."""

from __future__ import annotations

from datetime import timedelta

from nicegui.testing import User

from tests import factories
from tests.ui.conftest import BOTH_BACKENDS, World, login, set_value, wait_for_path
from zhijiao.core import clock


def fill(user: User, *, id_number: str, name: str = "孙悟净", gender: str = "male") -> None:
    user.find(marker="field-name").type(name)
    user.find(marker="field-id_number").type(id_number)
    set_value(user, "field-gender", gender)
    set_value(user, "field-correction_type", "probation")
    user.find(marker="field-crime").type("危险驾驶罪")
    user.find(marker="field-sentence").type("拘役三个月，缓刑六个月")
    user.find(marker="field-deciding_organ").type("淄博市临淄区人民法院")
    user.find(marker="field-judgment_effective_date").type((clock.today_local() - timedelta(days=2)).isoformat())
    user.find(marker="field-phone").type("13800138000")


def error_of(user: User, marker: str) -> str | None:
    (element,) = user.find(marker=marker).elements
    return element.error


async def test_bad_id_number_shows_the_chinese_field_error(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/subjects/new")
    good = factories.id_number()
    fill(user, id_number=good[:17] + ("0" if good[17] != "0" else "1"))  # wrong check digit
    user.find(marker="save").click()
    await user.should_see("请根据提示修改标红的项目")
    assert error_of(user, "field-id_number") == "身份证号码校验码不正确，请核对是否录入有误"
    assert error_of(user, "field-name") is None
    assert user.back_history[-1] == "/subjects/new"


async def test_missing_fields_and_model_errors_are_shown_where_they_belong(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/subjects/new")
    fill(user, id_number=factories.id_number(gender="female"), gender="male")
    user.find(marker="field-crime").clear()
    user.find(marker="field-phone").clear().type("12345")
    user.find(marker="save").click()
    await user.should_see("请根据提示修改标红的项目")
    assert error_of(user, "field-crime") == "必填项"
    assert error_of(user, "field-phone") == "电话号码格式不正确（手机 11 位，或区号-号码）"
    # Fix the field errors: the model's own check (gender vs the ID number) comes next.
    user.find(marker="field-crime").type("盗窃罪")
    user.find(marker="field-phone").clear().type("13800138000")
    user.find(marker="save").click()
    await user.should_see("请根据提示修改标红的项目")
    assert error_of(user, "field-gender") == "性别与身份证号码第 17 位不一致"


@BOTH_BACKENDS
async def test_valid_form_creates_the_file_in_the_officers_office(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/subjects/new")
    await user.should_not_see(marker="field-office_id")  # office staff create in their own office
    fill(user, id_number=factories.id_number())
    user.find(marker="team-add").click()
    await user.should_see(marker="team-0-name")
    user.find(marker="team-0-name").type("王所员")
    set_value(user, "team-0-role", "司法所工作人员")
    user.find(marker="save").click()
    await user.should_see(marker="subject-name", retries=30)
    await user.should_see("孙悟净")
    await user.should_see("闻韶司法所")
    await user.should_see(marker="team-table")
    await user.open("/subjects?q=孙悟净")
    await user.should_see("共 1 人")


async def test_duplicate_id_number_is_refused_with_a_notification(user: User, world: World, db) -> None:
    number = factories.id_number()
    factories.subject(db, world.office_b, id_number=number)  # registered in another office
    await login(user, world.officer_a)
    await user.open("/subjects/new")
    fill(user, id_number=number)
    user.find(marker="save").click()
    await user.should_see("该身份证号码已有在册社区矫正档案")
    assert error_of(user, "field-id_number") == "已存在在册档案"


async def test_district_officer_must_choose_an_office(user: User, world: World) -> None:
    await login(user, world.bureau)
    await user.open("/subjects/new")
    fill(user, id_number=factories.id_number())
    user.find(marker="save").click()
    await user.should_see("请选择所属司法所")
    assert error_of(user, "field-office_id") == "必填"
    set_value(user, "field-office_id", world.office_b.id)
    user.find(marker="save").click()
    await user.should_see(marker="subject-name", retries=30)
    await user.should_see("雪宫司法所")


async def test_edit_saves_only_what_changed(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open(f"/subjects/{world.subject_id}/edit")
    user.find(marker="field-sentence").clear().type("有期徒刑一年，缓刑一年六个月")
    set_value(user, "field-supervision_level", "strict")
    user.find(marker="save").click()
    await wait_for_path(user, f"/subjects/{world.subject_id}")
    await user.should_see("有期徒刑一年，缓刑一年六个月", retries=20)
    await user.should_see("严管")


async def test_edit_refuses_to_blank_a_required_field(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open(f"/subjects/{world.subject_id}/edit")
    user.find(marker="field-crime").clear()
    user.find(marker="save").click()
    await user.should_see(marker="field-crime")
    assert error_of(user, "field-crime") == "必填项"
    assert user.back_history[-1] == f"/subjects/{world.subject_id}/edit"
