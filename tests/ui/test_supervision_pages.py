"""The workflow screens: leave and its approval chain (Art. 27), an admonition with its document
on the file's timeline (Art. 28), the task list, and jurisdiction."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nicegui.testing import User
from sqlalchemy import select

from tests import factories
from tests.ui.conftest import World, login, set_value, table_rows, wait_for_path
from zhijiao.core import clock
from zhijiao.documents.models import Document
from zhijiao.org.models import Staff
from zhijiao.security.actor import Actor
from zhijiao.subjects.models import Subject
from zhijiao.supervision.assessments.models import PreSentenceAssessment
from zhijiao.supervision.leave import flows, service
from zhijiao.supervision.leave.models import LeaveRequest
from zhijiao.supervision.leave.schemas import LeaveCreate, LeaveDecisionIn
from zhijiao.supervision.notices.models import Notification
from zhijiao.supervision.plans.models import CorrectionPlan
from zhijiao.supervision.sanctions.models import Proposal, Sanction
from zhijiao.supervision.transfer.models import Transfer
from zhijiao.tasks import service as tasks_service


@pytest.fixture
def case(db, world: World):
    s = factories.subject(db, world.office_a, name="孙悟空", status="under_correction",
                          correction_start_date=clock.today_local() - timedelta(days=30),
                          correction_end_date=clock.today_local() + timedelta(days=300))
    colleague = factories.staff(db, "office_officer", world.office_a, display_name="李所员")
    return {"subject": s, "colleague": colleague.username}


async def _request_leave(user: User, subject_id: int, days: int) -> None:
    await user.open(f"/subjects/{subject_id}")
    user.find(marker="open-leave").click()
    start = clock.today_local() + timedelta(days=1)
    set_value(user, "leave-start", start.isoformat())
    set_value(user, "leave-end", (start + timedelta(days=days - 1)).isoformat())
    user.find(marker="leave-destination").type("山东省济南市历下区")
    user.find(marker="leave-reason").type("探望住院的母亲")
    user.find(marker="leave-submit").click()


def _leave_id(db, subject_id: int) -> int:
    db.info["actor"] = factories.SYSTEM
    db.expire_all()
    return db.execute(select(LeaveRequest.id).where(LeaveRequest.subject_id == subject_id)
                      .order_by(LeaveRequest.id.desc())).scalars().first()


async def _logout(user: User) -> None:
    await user.open("/tasks")  # a settled page: a dialog's action may have just reloaded the last one
    user.find("退出登录").click()
    await wait_for_path(user, "/login")


async def test_leave_approved_by_a_colleague_never_by_its_requester(user: User, db, world: World, case) -> None:
    s = case["subject"]
    await login(user, world.officer_a)
    await _request_leave(user, s.id, 3)
    await user.should_see("已提交外出申请（3 日），待司法所审批", retries=20)
    leave_id = _leave_id(db, s.id)
    await user.open("/leave")
    await user.should_see(marker=f"leave-{leave_id}")
    await user.should_see("申请人：王所员")  # the person's name, not the account (issue 19)
    user.find(marker=f"leave-approve-{leave_id}").click()
    await user.should_see("不能审批本人提交的申请", retries=20)

    await _logout(user)
    await login(user, case["colleague"])
    await user.open("/leave")
    user.find(marker=f"leave-note-{leave_id}").type("同意，按时销假")
    user.find(marker=f"leave-approve-{leave_id}").click()
    await user.should_see("已批准外出申请", retries=20)
    await user.open(f"/subjects/{s.id}")
    await user.should_see(marker="file-timeline")
    await user.should_see("外出", retries=20)


async def test_ten_days_go_to_the_bureau(user: User, db, world: World, case) -> None:
    s = case["subject"]
    await login(user, world.officer_a)
    await _request_leave(user, s.id, 10)
    await user.should_see("待区司法局审批", retries=20)
    leave_id = _leave_id(db, s.id)
    await _logout(user)
    await login(user, case["colleague"])
    await user.open("/leave")
    user.find(marker=f"leave-approve-{leave_id}").click()
    await user.should_see("外出超过7日，须由司法所签署意见后报区司法局审批", retries=20)
    await _logout(user)
    await login(user, world.bureau)
    await user.open("/leave")
    user.find(marker=f"leave-approve-{leave_id}").click()
    await user.should_see("已批准外出申请", retries=20)


async def test_admonition_with_its_document_and_the_task_list(user: User, db, world: World, case) -> None:
    s = case["subject"]
    await login(user, world.officer_a)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-sanction").click()
    set_value(user, "sanction-kind", "admonition")
    user.find(marker="sanction-reason").type("未经批准擅自离开居住地，经教育后返回")
    user.find(marker="sanction-submit").click()
    await user.should_see("已提请区司法局审批训诫", retries=20)  # an office proposes, the bureau decides
    await _logout(user)
    await login(user, world.bureau)
    await user.open(f"/subjects/{s.id}")
    await user.should_see(marker="pending-sanctions")

    db.info["actor"] = factories.SYSTEM
    sanction_id = db.execute(select(Sanction.id).where(Sanction.subject_id == s.id)).scalar_one()
    user.find(marker=f"sanction-approve-{sanction_id}").click()
    await user.should_see("已批准，文书已生成", retries=20)
    await user.open(f"/subjects/{s.id}")

    db.info["actor"] = factories.SYSTEM
    docs = db.execute(select(Document).where(Document.subject_id == s.id)).scalars().all()
    assert [d.kind for d in docs] == ["admonition_decision"], [d.kind for d in docs]
    await user.should_see(marker=f"document-{docs[0].id}")  # the 训诫决定书, linked from the timeline
    # an overdue task shows on the list, with its count
    factories_task(db, s, due=clock.today_local() - timedelta(days=3))
    await user.open("/tasks?overdue=1")
    await user.should_see(marker="tasks-table")
    rows = table_rows(user, "tasks-table")
    assert [(r["title"], r["overdue"], r["subject"]) for r in rows] == [("每月到司法所报告", "逾期 3 日", "孙悟空")]
    await user.should_see("已逾期 1 项")


async def test_another_offices_subject_is_not_found(user: User, db, world: World, case) -> None:
    other = factories.subject(db, world.office_b, name="外所对象", status="under_correction")
    await login(user, world.officer_a)
    await user.open(f"/subjects/{other.id}")
    await user.should_see("不存在或不在您的管辖范围内")
    await user.should_not_see(marker="open-leave")


def factories_task(db, subject, *, due) -> None:
    db.info["actor"] = factories.SYSTEM
    tasks_service.ensure(db_session=db, key=f"test:{subject.id}", kind="duty", title="每月到司法所报告",
                         due_on=due, subject=subject)
    db.commit()


async def test_daily_record_and_level_review(user: User, db, world: World, case) -> None:
    s = case["subject"]
    await login(user, world.officer_a)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-record").click()
    set_value(user, "record-kind", "home_visit")
    user.find(marker="record-summary").type("走访村委会和家属，表现良好")
    user.find(marker="record-submit").click()
    await user.should_see("已记录走访", retries=20)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-level").click()
    set_value(user, "level-risk", "high")
    user.find(marker="level-propose").click()
    await user.should_see(marker="level-proposed", retries=20)
    await user.should_see("建议等级：严管")
    user.find(marker="level-confirm").click()
    await user.should_see("已确定为严管", retries=20)
    db.info["actor"] = factories.SYSTEM
    db.expire_all()

    assert db.get(Subject, s.id).supervision_level == "strict"


async def test_archive_and_document_downloads_use_the_page_session(user: User, db, world: World, case) -> None:
    s = case["subject"]
    await login(user, world.officer_a)
    r = await user.http_client.get(f"/subjects/{s.id}/archive.zip")
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip" and r.content[:2] == b"PK"
    other = factories.subject(db, world.office_b, status="under_correction")
    r = await user.http_client.get(f"/subjects/{other.id}/archive.zip")
    assert r.headers["content-type"].startswith("text/html") and "不存在或不在您的管辖范围内" in r.text


async def test_two_admonitions_suggest_a_warning_that_the_bureau_adopts(user: User, db, world: World, case) -> None:
    s = case["subject"]
    await login(user, world.bureau)
    for reason in ("未按规定时间报到", "未经批准离开居住地"):
        await user.open(f"/subjects/{s.id}")
        user.find(marker="open-sanction").click()
        set_value(user, "sanction-kind", "admonition")
        user.find(marker="sanction-reason").type(reason)
        user.find(marker="sanction-submit").click()
        await user.should_see("已决定训诫，文书已生成", retries=20)
    await user.open(f"/subjects/{s.id}")
    await user.should_see(marker="proposals")

    db.info["actor"] = factories.SYSTEM
    db.expire_all()
    (proposal,) = db.execute(select(Proposal).where(Proposal.subject_id == s.id)).scalars().all()
    assert (proposal.kind, proposal.status) == ("warning", "suggested")  # two admonitions without change
    user.find(marker=f"proposal-accept-{proposal.id}").click()
    await user.should_see("已采纳", retries=20)
    db.expire_all()
    assert db.get(Proposal, proposal.id).status == "accepted"


async def test_return_from_leave(user: User, db, world: World, case) -> None:
    s = case["subject"]
    today = clock.today_local()
    db.info["actor"] = Actor(kind="staff", username=world.officer_a, staff_id=_staff_id(db, world.officer_a),
                             role="office_officer", office_id=world.office_a.id)
    row = service.request_leave(db_session=db, subject_id=s.id, leave_in=LeaveCreate(
        start=today, end=today + timedelta(days=1), destination="济南", reason="就医"))
    db.info["actor"] = Actor(kind="staff", username=case["colleague"], staff_id=_staff_id(db, case["colleague"]),
                             role="office_officer", office_id=world.office_a.id)
    flows.decide_leave(db_session=db, leave_id=row.id, decision_in=LeaveDecisionIn(decision="approve"))
    await login(user, world.officer_a)
    await user.open(f"/subjects/{s.id}")
    user.find(marker=f"leave-return-{row.id}").click()
    await user.should_see("已销假", retries=20)
    db.info["actor"] = factories.SYSTEM
    db.expire_all()
    assert db.get(LeaveRequest, row.id).status == "returned"


def _staff_id(db, username: str) -> int:
    db.info["actor"] = factories.SYSTEM
    return db.execute(select(Staff.id).where(Staff.username == username)).scalar_one()


async def test_entry_announcement_plan_transfer_and_termination(user: User, db, world: World) -> None:
    s = factories.subject(db, world.office_a, name="唐三藏", status="reported",
                          correction_end_date=clock.today_local() + timedelta(days=300))
    await login(user, world.officer_a)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-entry").click()
    user.find(marker="entry-present").type("王所员（司法所工作人员）\n唐三藏（社区矫正对象）")
    user.find(marker="entry-submit").click()
    await user.should_see("已入矫宣告，宣告书和告知书已生成", retries=20)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-plan").click()
    user.find(marker="plan-circumstances").type("男，四十岁，初犯，悔罪态度好")
    user.find(marker="plan-goals").type("遵守监管规定，顺利回归社会")
    user.find(marker="plan-measures").type("每周谈话一次，参加职业技能培训")
    user.find(marker="plan-submit").click()
    await user.should_see("已保存矫正方案", retries=20)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-transfer").click()
    user.find(marker="transfer-agency").type("淄博市张店区司法局")
    user.find(marker="transfer-address").type("张店区人民西路 1 号")
    user.find(marker="transfer-reason").type("随子女迁居")
    user.find(marker="transfer-submit").click()
    await user.should_see("已登记执行地变更申请", retries=20)

    db.info["actor"] = factories.SYSTEM
    transfer_id = db.execute(select(Transfer.id).where(Transfer.subject_id == s.id)).scalar_one()
    for step in ("consult", "agree"):
        await user.open(f"/subjects/{s.id}")
        user.find(marker=f"transfer-{step}-{transfer_id}").click()
        await user.should_see("已", retries=20)
    await user.open(f"/subjects/{s.id}")
    await user.should_see("新执行地已回复，待区局决定")
    await user.should_not_see(marker=f"transfer-approve-{transfer_id}")  # the bureau decides
    await user.should_not_see(marker="open-termination")  # and terminates, not the office
    await _logout(user)
    await login(user, world.bureau)
    await user.open(f"/subjects/{s.id}")
    user.find(marker=f"transfer-approve-{transfer_id}").click()
    await user.should_see("已批准变更", retries=20)
    await user.open(f"/subjects/{s.id}")
    await user.should_see("已批准，待移交档案")
    user.find(marker="open-termination").click()
    set_value(user, "termination-reason", "died")
    user.find(marker="termination-submit").click()
    await user.should_see("已终止矫正", retries=20)
    db.info["actor"] = factories.SYSTEM
    db.expire_all()

    assert db.get(Subject, s.id).status == "terminated"


async def test_reception_team_and_monthly_assessment(user: User, db, world: World, case) -> None:
    fresh = factories.subject(db, world.office_a, name="白骨精", gender="female", status="pending_reception")
    await login(user, world.officer_a)
    await user.open(f"/subjects/{fresh.id}")
    user.find(marker="open-reception").click()
    user.find(marker="reception-verified").click()
    user.find(marker="reception-submit").click()
    await user.should_see("已登记交付接收", retries=20)
    await user.open(f"/subjects/{fresh.id}")
    user.find(marker="open-team").click()
    user.find(marker="team-members").type("王所员，司法所工作人员，男\n张主任，村委会，男")
    user.find(marker="team-submit").click()
    await user.should_see("矫正小组中应有女性成员", retries=20)  # Art. 25, the service's refusal
    user.find(marker="team-members").type("\n李大姐，村委会，女")
    user.find(marker="team-submit").click()
    await user.should_see("已确定矫正小组（3 人）", retries=20)
    s = case["subject"]
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-month").click()
    user.find(marker="month-submit").click()
    await user.should_see("已考核", retries=20)


async def test_pre_sentence_assessment_registered_and_completed(user: User, db, world: World) -> None:
    await login(user, world.officer_a)
    await user.open("/assessments")
    await user.should_see(marker="assessments-empty")
    user.find(marker="open-assessment").click()
    user.find(marker="assessment-name").type("沙悟净")
    user.find(marker="assessment-id").type(factories.id_number())
    user.find(marker="assessment-crime").type("危险驾驶罪")
    user.find(marker="assessment-submit").click()
    await user.should_see("前完成（社区矫正法第十八条）", retries=20)
    await user.open("/assessments")

    db.info["actor"] = factories.SYSTEM
    (aid,) = db.execute(select(PreSentenceAssessment.id)).scalars().all()
    user.find(marker=f"assessment-findings-{aid}").click()
    user.find(marker="findings-text").type("家庭关系和睦，居住稳定，村委会同意监管")
    user.find(marker="findings-submit").click()
    await user.should_see("已提交评估意见", retries=20)
    await user.open("/assessments")
    await user.should_see("已完成")


async def test_plan_review_absconding_check_and_notifications(user: User, db, world: World, case) -> None:
    s = case["subject"]
    await login(user, world.officer_a)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-plan").click()
    for key, text in (("circumstances", "初犯，悔罪"), ("goals", "遵纪守法"), ("measures", "每周谈话")):
        user.find(marker=f"plan-{key}").type(text)
    user.find(marker="plan-submit").click()
    await user.should_see("已保存矫正方案", retries=20)
    await user.open(f"/subjects/{s.id}")
    await user.should_see(marker="plan")

    db.info["actor"] = factories.SYSTEM
    plan_id = db.execute(select(CorrectionPlan.id).where(CorrectionPlan.subject_id == s.id)).scalar_one()
    user.find(marker=f"plan-review-{plan_id}").click()
    user.find(marker="review-findings").type("表现稳定，方案继续执行")
    user.find(marker="review-submit").click()
    await user.should_see("已复查，下次复查", retries=20)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-escalation").click()
    set_value(user, "escalation-from", (clock.today_local() - timedelta(days=40)).isoformat())
    user.find(marker="escalation-submit").click()
    await user.should_see("已生成", retries=20)  # 脱管 over a month: revocation proposed (shared/domain.md)
    await _logout(user)
    await login(user, world.bureau)
    await user.open(f"/subjects/{s.id}")
    user.find(marker="open-termination").click()
    set_value(user, "termination-reason", "died")
    user.find(marker="termination-submit").click()
    await user.should_see("已终止矫正", retries=20)
    await user.open(f"/subjects/{s.id}")
    await user.should_see(marker="notifications")

    db.info["actor"] = factories.SYSTEM
    db.expire_all()
    first = db.execute(select(Notification).where(Notification.subject_id == s.id, Notification.status == "pending")
                       .order_by(Notification.id)).scalars().first()
    user.find(marker=f"notification-done-{first.id}").click()
    await user.should_see("已办结", retries=20)
    db.expire_all()
    assert db.get(Notification, first.id).status != "pending"
