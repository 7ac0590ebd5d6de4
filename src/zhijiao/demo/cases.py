"""The demo's case work, scheduled on the history's calendar (:mod:`zhijiao.demo.history`).

Each workflow is a chain of steps: a step calls the service as the person who acts, then schedules
the next step. The mix is chosen so that every workflow has rows in each of its states:
receptions and entry announcements of the new subjects, level reviews, plans, leave (pending,
approved, refused, returned, returned late, overdue), changes of the place of execution, rewards
and punishments with the bureau's decision, proposals to the court, pre-sentence assessments and
releases at the end of the term.
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

from sqlalchemy import select

from zhijiao.core import clock
from zhijiao.demo.history import World
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus, TransitionIn
from zhijiao.supervision.assessments import service as assessments_service
from zhijiao.supervision.assessments.schemas import AssessmentCreate, AssessmentFindings
from zhijiao.supervision.leave import flows as leave_flows
from zhijiao.supervision.leave import service as leave_service
from zhijiao.supervision.leave.schemas import LeaveCreate, LeaveDecisionIn
from zhijiao.supervision.levels import service as levels_service
from zhijiao.supervision.levels.models import LevelReview
from zhijiao.supervision.levels.schemas import LevelDecisionIn, LevelReviewCreate
from zhijiao.supervision.plans import service as plans_service
from zhijiao.supervision.plans.schemas import PlanCreate, PlanReviewCreate
from zhijiao.supervision.reception import flows as reception_flows
from zhijiao.supervision.reception import service as reception_service
from zhijiao.supervision.reception.schemas import AnnouncementCreate, ReceptionIn
from zhijiao.supervision.sanctions import flows as sanctions_flows
from zhijiao.supervision.sanctions import service as sanctions_service
from zhijiao.supervision.sanctions.schemas import DecisionIn, ProposalCreate, SanctionCreate
from zhijiao.supervision.transfer import service as transfer_service
from zhijiao.supervision.transfer.schemas import TransferAnswerIn, TransferConsultIn, TransferCreate

BUREAU = "bureau"
LEADER = "leader"
DOCS = ["刑事判决书", "执行通知书", "结案登记表"]
DESTINATIONS = ["山东省济南市历下区", "山东省青岛市市南区", "江苏省南京市鼓楼区", "北京市朝阳区", "山东省潍坊市奎文区",
                "河北省石家庄市长安区", "山东省烟台市芝罘区", "上海市浦东新区"]
LEAVE_REASONS = ["探望住院的父亲", "参加亲属婚礼", "外出务工洽谈", "陪同子女就医", "处理房屋买卖手续", "参加职业技能考试"]
NEW_PLACES = [("淄博市张店区司法局", "山东省淄博市张店区柳泉路88号"), ("淄博市周村区司法局", "山东省淄博市周村区正阳路12号"),
              ("潍坊市奎文区司法局", "山东省潍坊市奎文区胜利东街30号"), ("济南市历城区司法局", "山东省济南市历城区山大路5号")]


def _subjects(world: World) -> list[SimpleNamespace]:
    """What the plan needs of each adult subject, read once (the steps read the rest themselves)."""
    with world.as_(BUREAU) as db:
        rows = db.execute(select(Subject).where(Subject.is_minor.is_(False)).order_by(Subject.id)
                          .execution_options(skip_scope=True)).scalars().all()
        return [SimpleNamespace(
            id=s.id, office_id=s.office_id, status=s.status, gender=s.gender, crime=s.crime, sentence=s.sentence,
            phone=s.phone, correction_end_date=s.correction_end_date,
            judgment_effective_date=s.judgment_effective_date,
            officer=s.responsible_staff.username, office_name=s.office.name,
            relative=s.team[-1].name if s.team else "家属代表") for s in rows if s.responsible_staff is not None]


def plan(world: World) -> None:
    rng = world.rng
    people = _subjects(world)
    intakes = [s for s in people if s.status in (SubjectStatus.pending_reception, SubjectStatus.reported)]
    releases = [s for s in people if s.status == SubjectStatus.under_correction and s.correction_end_date
                and world.start < s.correction_end_date <= world.today]
    busy = {s.id for s in intakes} | {s.id for s in releases}
    steady = [s for s in people if s.status == SubjectStatus.under_correction and s.id not in busy
              and s.correction_end_date and s.correction_end_date > world.today + timedelta(days=40)]
    rng.shuffle(steady)
    days = (world.today - world.start).days
    for s in intakes:
        _intake(world, s)
    for s in releases:
        _release(world, s)
    if days == 0:
        return
    scale = max(1, days // 10)  # a short history keeps every state, a long one has more rows
    pool = iter(steady)
    for i in range(min(len(steady) // 3, 4 * scale + 8)):
        _leave(world, next(pool), i)
    for i in range(min(3 + scale // 2, 8)):
        _transfer(world, next(pool), i)
    for i in range(min(4 + scale, 16)):
        _sanction(world, next(pool), i)
    for s, i in zip(steady[: 6 + scale], range(99), strict=False):
        _review(world, s, i)
    for i in range(min(4 + scale, 14)):
        _assessment(world, i)


def _day(world: World, offset_from_end: int) -> date:
    """A day ``offset_from_end`` days before today, never before the history's first day."""
    return max(world.start, world.today - timedelta(days=offset_from_end))


# --- 交付接收, 报到, 入矫宣告, 分类管理, 矫正方案 -------------------------------------------------


def _intake(world: World, s: SimpleNamespace) -> None:
    rng = world.rng
    officer = s.officer
    judged = s.judgment_effective_date
    start = judged + timedelta(days=rng.randint(1, 9))
    missing = rng.random() < 0.2

    def reception(w: World) -> None:
        notified = judged + timedelta(days=1)
        docs = DOCS[:-1] if missing else DOCS
        with w.as_(officer) as db:
            w.run("reception", lambda: reception_service.record_reception(
                db_session=db, subject_id=s.id, reception_in=ReceptionIn(
                    notified_on=notified, documents_received_on=None if missing else notified + timedelta(days=1),
                    documents=[{"name": d} for d in docs], identity_verified=True)))

    def report(w: World) -> None:
        with w.as_(officer) as db:
            w.run("report", lambda: subjects_service.transition(
                db_session=db, subject_id=s.id, transition_in=TransitionIn(to=SubjectStatus.reported, note="本人到司法所报到")))
        if rng.random() < 0.9:
            w.on(start + timedelta(days=rng.randint(0, 2)), 10, rng.randint(0, 50), announce)

    def announce(w: World) -> None:
        with w.as_(officer) as db:
            done = w.run("announcement", lambda: reception_flows.announce(
                db_session=db, subject_id=s.id, announcement_in=AnnouncementCreate(
                    kind="entry", place=f"{s.office_name}宣告室",
                    present=[f"{w.names[officer]}（司法所）", f"{s.relative}（家属）",
                             "社区民警（派出所）"])))
        if done is None:
            return
        day = clock.today_local()
        w.on(day + timedelta(days=rng.randint(1, 4)), 15, rng.randint(0, 50), decide_level)
        if rng.random() < 0.8:
            w.on(day + timedelta(days=rng.randint(3, 12)), 16, rng.randint(0, 50), make_plan)

    def decide_level(w: World) -> None:
        with w.as_(officer) as db:
            review = db.execute(select(LevelReview.id).where(LevelReview.subject_id == s.id,
                                                             LevelReview.status == "proposed")).scalar()
            if review is not None:
                w.run("level_decision", lambda: levels_service.decide_level(
                    db_session=db, review_id=review, decision_in=LevelDecisionIn(decision="confirm")))

    def make_plan(w: World) -> None:
        with w.as_(officer) as db:
            w.run("plan", lambda: plans_service.create_plan(db_session=db, subject_id=s.id, plan_in=_plan_text(s)))

    if s.status == SubjectStatus.reported:  # reported before the window, announced in it
        world.on(world.start + timedelta(days=rng.randint(0, 1)), 10, rng.randint(0, 50), announce)
        return
    if judged + timedelta(days=2) >= world.start:
        world.on(judged + timedelta(days=2), 9, rng.randint(0, 59), reception)
    if start <= world.today:
        world.on(max(start, world.start), 9, rng.randint(0, 59), report)


def _plan_text(s: SimpleNamespace) -> PlanCreate:
    sex = "男" if s.gender == "male" else "女"
    return PlanCreate(
        circumstances=f"{sex}，因{s.crime}被判处{s.sentence}；初犯，认罪悔罪，家庭关系稳定。",
        goals="遵纪守法，按时报告，稳定就业，修复社会关系。",
        measures="每月集中教育学习不少于8小时；每月公益活动；心理健康评估；就业指导与帮扶。",
    )


def _review(world: World, s: SimpleNamespace, i: int) -> None:
    """An existing subject: a plan, a plan review, and a level review (confirmed or waiting)."""
    rng = world.rng
    officer = s.officer
    day = _day(world, rng.randint(5, 80))

    def step(w: World) -> None:
        with w.as_(officer) as db:
            plan = w.run("plan", lambda: plans_service.create_plan(db_session=db, subject_id=s.id,
                                                                   plan_in=_plan_text(s)))
            if plan is not None and i % 2 == 0:
                w.run("plan_review", lambda: plans_service.review_plan(
                    db_session=db, plan_id=plan.id, review_in=PlanReviewCreate(findings="表现稳定，按时报告，方案继续执行")))
            review = w.run("level_review", lambda: levels_service.propose_level(
                db_session=db, subject_id=s.id, review_in=LevelReviewCreate(risk_level=rng.choice(["low", "medium"]))))
            if review is not None and i % 3 != 2:
                w.run("level_decision", lambda: levels_service.decide_level(
                    db_session=db, review_id=review.id, decision_in=LevelDecisionIn(decision="confirm")))

    world.on(day, 14, rng.randint(0, 59), step)


# --- 外出请假 ----------------------------------------------------------------------------------


def _leave(world: World, s: SimpleNamespace, i: int) -> None:
    """One request per subject; ``i`` picks its fate so that every state is present."""
    rng = world.rng
    officer = s.officer
    fate = ["returned", "rejected", "pending", "late", "overdue", "away", "returned", "bureau"][i % 8]
    length = rng.randint(8, 15) if fate == "bureau" else rng.randint(2, 6)
    if fate == "pending":
        asked = _day(world, rng.randint(0, 2))
        begin = asked + timedelta(days=rng.randint(3, 6))
    elif fate == "away":
        begin = _day(world, rng.randint(0, length - 1))
        asked = begin - timedelta(days=rng.randint(2, 4))
    elif fate == "overdue":
        begin = _day(world, length + rng.randint(3, 6))
        asked = begin - timedelta(days=2)
    else:
        begin = _day(world, rng.randint(length + 4, 85))
        asked = begin - timedelta(days=rng.randint(2, 4))
    asked = max(asked, world.start)
    begin = max(begin, asked + timedelta(days=1))
    end = begin + timedelta(days=length - 1)
    holder = {}

    def request(w: World) -> None:
        with w.as_(officer) as db:
            row = w.run("leave_request", lambda: leave_service.request_leave(
                db_session=db, subject_id=s.id, leave_in=LeaveCreate(
                    start=begin, end=end, destination=rng.choice(DESTINATIONS), reason=rng.choice(LEAVE_REASONS),
                    contact_phone=s.phone)))
        if row is None or fate == "pending":
            return
        holder["id"] = row.id
        w.on(asked + timedelta(days=1), 11, rng.randint(0, 59), decide)

    def decide(w: World) -> None:
        # over the office's limit of days the bureau decides (实施办法 第二十七条)
        decider = BUREAU if fate == "bureau" else w.officer(s.office_id, other_than=officer)
        reject = fate == "rejected"
        with w.as_(decider) as db:
            done = w.run("leave_decision", lambda: leave_flows.decide_leave(
                db_session=db, leave_id=holder["id"], decision_in=LeaveDecisionIn(
                    decision="reject" if reject else "approve",
                    note="外出理由不充分，且近期有未按时报告情形" if reject else None)))
        if done is None or reject:
            return
        if fate in ("returned", "bureau"):
            w.on(end, 17, rng.randint(0, 50), back)
        elif fate == "late":
            w.on(end + timedelta(days=2), 10, rng.randint(0, 50), back)

    def back(w: World) -> None:
        with w.as_(officer) as db:
            w.run("leave_return", lambda: leave_service.confirm_return(
                db_session=db, leave_id=holder["id"], returned_on=clock.today_local(),
                note="本人到司法所销假" if fate != "late" else "逾期两日返回，称车票改签"))

    world.on(asked, 10, rng.randint(0, 59), request)


# --- 执行地变更 ----------------------------------------------------------------------------------


def _transfer(world: World, s: SimpleNamespace, i: int) -> None:
    rng = world.rng
    officer = s.officer
    fate = ["completed", "rejected", "consulting", "approved", "applied", "disagreed", "completed", "approved"][i % 8]
    agency, address = NEW_PLACES[i % len(NEW_PLACES)]
    day = _day(world, 2 if fate == "applied" else rng.randint(12, 70))
    holder = {}

    def apply(w: World) -> None:
        with w.as_(officer) as db:
            row = w.run("transfer_apply", lambda: transfer_service.apply_transfer(
                db_session=db, subject_id=s.id, transfer_in=TransferCreate(
                    to_agency=agency, to_address=address, reason="因工作调动，需变更执行地，已提交居住证明")))
        if row is None or fate == "applied":
            return
        holder["id"] = row.id
        w.on(day + timedelta(days=1), 10, 30, consult)

    def consult(w: World) -> None:
        with w.as_(officer) as db:
            w.run("transfer_consult", lambda: transfer_service.consult_transfer(
                db_session=db, transfer_id=holder["id"], consult_in=TransferConsultIn(sent_on=clock.today_local())))
        if fate != "consulting":
            w.on(day + timedelta(days=4), 15, 0, answer)

    def answer(w: World) -> None:
        agree = fate != "disagreed"
        with w.as_(officer) as db:
            w.run("transfer_answer", lambda: transfer_service.answer_transfer(
                db_session=db, transfer_id=holder["id"], answer_in=TransferAnswerIn(
                    answer="agree" if agree else "disagree", answered_on=clock.today_local(),
                    note=None if agree else "经核实，居住地不固定")))
        w.on(day + timedelta(days=6), 10, 0, decide)

    def decide(w: World) -> None:
        approve = fate in ("completed", "approved")
        with w.as_(BUREAU) as db:
            w.run("transfer_decision", lambda: transfer_service.decide_transfer(
                db_session=db, transfer_id=holder["id"], decision="approve" if approve else "reject",
                decided_on=clock.today_local(), note=None if approve else "新执行地不同意接收"))
        if fate == "completed":
            w.on(day + timedelta(days=9), 10, 0, hand_over)

    def hand_over(w: World) -> None:
        with w.as_(officer) as db:
            w.run("transfer_handover", lambda: transfer_service.hand_over_transfer(
                db_session=db, transfer_id=holder["id"], handed_over_on=clock.today_local(),
                reported_on=clock.today_local(), note="档案材料已移交，对象已到新执行地报到"))

    world.on(day, 9, 30, apply)


# --- 考核奖惩 ------------------------------------------------------------------------------------


SANCTION_REASONS = {
    "commendation": "矫正期间积极参加公益活动，主动帮扶困难群众，表现突出",
    "admonition": "未经批准擅自离开所居住的市、县一日，经教育后认识错误",
    "warning": "不按规定时间报告，经训诫后仍未改正",
}


def _sanction(world: World, s: SimpleNamespace, i: int) -> None:
    rng = world.rng
    officer = s.officer
    kind = ["admonition", "commendation", "warning", "admonition", "proposal", "commendation", "admonition",
            "warning"][i % 8]
    fate = ["approved", "approved", "pending", "rejected", "proposal", "pending", "approved", "approved"][i % 8]
    day = _day(world, 1 if fate == "pending" else rng.randint(5, 80))

    def record(w: World) -> None:
        if kind == "proposal":
            with w.as_(officer) as db:
                w.run("proposal", lambda: sanctions_service.create_proposal(
                    db_session=db, subject_id=s.id, proposal_in=ProposalCreate(
                        kind="police_penalty", reason="违反禁止令进入娱乐场所，建议公安机关依法给予治安管理处罚")))
            return
        with w.as_(officer) as db:
            out = w.run("sanction_record", lambda: sanctions_flows.record_sanction(
                db_session=db, subject_id=s.id, sanction_in=SanctionCreate(
                    kind=kind, reason=SANCTION_REASONS[kind], occurred_on=clock.today_local() - timedelta(days=1))))
        if out is not None and fate != "pending":
            sid = out[0].id
            w.on(day + timedelta(days=2), 11, rng.randint(0, 59), lambda w2: decide(w2, sid))

    def decide(w: World, sanction_id: int) -> None:
        approve = fate == "approved"
        with w.as_(BUREAU) as db:
            w.run("sanction_decision", lambda: sanctions_flows.decide_sanction(
                db_session=db, sanction_id=sanction_id, decision_in=DecisionIn(
                    decision="approve" if approve else "reject", note=None if approve else "事实不清，退回补充材料")))

    world.on(day, 15, rng.randint(0, 59), record)


# --- 调查评估 ------------------------------------------------------------------------------------


ORGANS = ["淄博市临淄区人民法院", "淄博市临淄区人民检察院", "淄博市中级人民法院", "山东省淄博监狱"]
CRIMES = ["危险驾驶罪", "盗窃罪", "帮助信息网络犯罪活动罪", "诈骗罪", "交通肇事罪"]


def _assessment(world: World, i: int) -> None:
    from zhijiao.demo import seed

    rng = world.rng
    office_id = sorted(world.office_officers)[i % len(world.office_officers)]
    officer = world.office_officers[office_id][0]
    fate = ["completed", "completed", "pending", "unsuitable", "overdue", "completed", "pending"][i % 7]
    # 10 working days (5 when expedited) to answer: "overdue" was entrusted three weeks ago
    day = _day(world, {"pending": rng.randint(0, 6), "overdue": rng.randint(18, 24)}.get(fate, rng.randint(15, 85)))
    gender = "male" if rng.random() < 0.85 else "female"
    birth = world.today - timedelta(days=rng.randint(22 * 365, 60 * 365))
    holder = {}

    def entrust(w: World) -> None:
        with w.as_(officer) as db:
            row = w.run("assessment", lambda: assessments_service.create_assessment(
                db_session=db, assessment_in=AssessmentCreate(
                    person_name=seed.person_name(rng, gender), entrusting_organ=ORGANS[i % len(ORGANS)],
                    id_number=seed.id_number_for(birth, gender, rng),
                    entrusted_on=clock.today_local(), proposed_correction_type="probation",
                    crime=CRIMES[i % len(CRIMES)], expedited=i % 4 == 3)))
        if row is not None and fate not in ("pending", "overdue"):
            holder["id"] = row.id
            w.on(day + timedelta(days=rng.randint(4, 8)), 16, 0, complete)

    def complete(w: World) -> None:
        ok = fate != "unsuitable"
        with w.as_(officer) as db:
            w.run("assessment_findings", lambda: assessments_service.complete_assessment(
                db_session=db, assessment_id=holder["id"], findings_in=AssessmentFindings(
                    findings="走访村（居）委会、家庭成员及被害人：居住稳定，家庭关系和睦，认罪悔罪" if ok
                    else "居住地不固定，无监护条件，村（居）委会不同意接收",
                    opinion="suitable" if ok else "unsuitable")))

    world.on(day, 9, rng.randint(0, 59), entrust)


# --- 解除矫正 ------------------------------------------------------------------------------------


def _release(world: World, s: SimpleNamespace) -> None:
    rng = world.rng
    officer = s.officer
    end = s.correction_end_date
    if end >= world.today - timedelta(days=1) and rng.random() < 0.5:
        return  # due today or yesterday: left to the officer (a task on the home page)

    def release(w: World) -> None:
        with w.as_(officer) as db:
            w.run("release", lambda: reception_flows.announce(
                db_session=db, subject_id=s.id, announcement_in=AnnouncementCreate(
                    kind="release", place=f"{s.office_name}宣告室", reason="term_completed",
                    present=[f"{w.names[officer]}（司法所）", "社区民警（派出所）"],
                    performance="矫正期间遵守法律法规和监督管理规定，按时报告，积极参加教育学习和公益活动")))

    world.on(end, 10, rng.randint(0, 59), release)
