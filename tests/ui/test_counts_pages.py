"""Issue 19's smaller fixes on the staff screens (simulated user): the lifecycle in lifecycle order,
people's names where they acted, the note of files left out of the list, Chinese calendars."""

from __future__ import annotations

from nicegui import ui
from nicegui.testing import User

from tests import factories
from tests.ui.conftest import World, login, timeline_titles
from zhijiao.core import clock
from zhijiao.subjects.models import SubjectTransition
from zhijiao.ui.components.date_input import ZH_CN


async def test_steps_at_the_same_moment_follow_the_lifecycle_and_name_the_officer(
        user: User, world: World, db) -> None:
    at = clock.now().replace(microsecond=0)
    s = factories.subject(db, world.office_a, name="周同时", status="under_correction")
    officer = world.officer_a
    # stored in the wrong order at the same moment, as a quick reception does
    db.add(SubjectTransition(subject_id=s.id, from_status="reported", to_status="under_correction", at=at,
                             actor_name=officer, basis="第十九条"))
    db.add(SubjectTransition(subject_id=s.id, from_status="pending_reception", to_status="reported", at=at,
                             actor_name=officer, basis="第二十一条"))
    db.commit()
    await login(user, officer)
    await user.open(f"/subjects/{s.id}")
    await user.should_see(marker="timeline")
    titles = timeline_titles(user)
    assert titles.index("待接收 → 已报到") < titles.index("已报到 → 在矫")
    await user.should_see("办理人：王所员")
    # the file's timeline (newest first): the later step above
    await user.should_see(marker="file-timeline", retries=20)


async def test_the_list_says_how_many_files_it_leaves_out(user: User, world: World, db) -> None:
    factories.subject(db, world.office_a, name="赵小明", is_minor=True,
                      responsible_staff_id=factories.staff(db, "office_officer", world.office_a).id)
    await login(user, world.officer_a)
    await user.open("/subjects")
    await user.should_see("共 3 人")
    await user.should_see("另有 1 名未成年人档案仅责任人可见，未计入列表")
    await user.open("/subjects?q=赵")  # a name search says nothing about the files left out
    await user.should_not_see(marker="hidden-note")
    await user.open("/")
    await user.should_see("另有 1 名未成年人档案仅责任人可见，未计入以上数字")


async def test_calendars_are_chinese_and_start_on_monday(user: User, world: World) -> None:
    await login(user, world.officer_a)
    await user.open(f"/subjects/{world.subject_id}")
    await user.should_see(marker="open-leave", retries=20)
    user.find(marker="open-leave").click()
    await user.should_see(marker="leave-start")
    calendars = [e for e in user.find(kind=ui.date).elements]
    assert calendars
    for c in calendars:
        assert c.props["locale"] == ZH_CN and c.props["first-day-of-week"] == "1"
        assert c.props["mask"] == "YYYY-MM-DD"


async def test_the_monthly_assessment_names_its_score_in_full(user: User, world: World, db) -> None:
    s = factories.subject(db, world.office_a, name="钱考核", status="under_correction",
                          correction_start_date=clock.today_local().replace(day=1))
    await login(user, world.officer_a)
    await user.open(f"/subjects/{s.id}")
    await user.should_see(marker="open-month", retries=20)
    user.find(marker="open-month").click()
    (score,) = user.find(marker="month-score").elements
    assert score.props["label"] == "考核分数"
    assert "w-full" in score.classes  # wide enough for the label: never 分…
