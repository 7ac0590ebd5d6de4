"""The demo's daily routine, scheduled on the history's calendar (:mod:`zhijiao.demo.history`).

Through the services: cameras (the system administrator), daily supervision records and the
monthly assessment (the responsible officer), roll calls (the operator on duty), alarms raised as
the positioning pipeline raises them and handled by the operators and the bureau, the daily
deadline scan.

Written as rows, said here: the face engine cannot compare synthetic faces, so a historical
check-in and a historical roll call's answer are stored as the check-in service stores a matched
one (``CheckIn`` with its score), instead of running the engine on an image.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from zhijiao.checkins import service as checkins_service
from zhijiao.checkins.models import CheckIn, RollCall
from zhijiao.checkins.schemas import RollCallStatus
from zhijiao.command import service as command_service
from zhijiao.command.schemas import CameraCreate, CameraStatus, LocationKind
from zhijiao.core import clock
from zhijiao.db.session import session_scope
from zhijiao.demo.history import World, local
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.models import Alarm, DeviceBinding
from zhijiao.org.models import Office
from zhijiao.security.actor import Actor
from zhijiao.security.models import SubjectCredential
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectStatus
from zhijiao.supervision import scheduled
from zhijiao.supervision.daily import service as daily_service
from zhijiao.supervision.daily.schemas import (
    CommunityServiceIn,
    EducationIn,
    HomeVisitIn,
    MonthlyAssessmentCreate,
    ReportIn,
    TalkIn,
)

OPERATORS = ["operator", "operator2"]
RECORD_SUBJECTS = 120  # subjects whose officers write daily records in the demo (a sample keeps start-up short)
RECORD_DAYS = 62  # …over the last two months, so the last full month can be assessed
ROLLCALLS_PER_DAY = 4
CAMERA_SITES = [("指挥中心 大屏 1 号机", LocationKind.center_room), ("指挥中心 大屏 2 号机", LocationKind.center_room),
                ("指挥中心 值班席", LocationKind.center_room), ("执法车 鲁C·J0305", LocationKind.vehicle),
                ("执法车 鲁C·J0306", LocationKind.vehicle), ("齐都路与桓公路路口", LocationKind.street),
                ("临淄大道 闻韶路口", LocationKind.street), ("齐园路 晏婴路口", LocationKind.street)]
ALARM_KINDS = ["left_permitted_area", "night_absence", "lost_contact", "power_off", "low_battery",
               "entered_exclusion_zone", "tamper", "separated_from_phone", "sos"]
ALARM_WEIGHTS = [14, 10, 10, 9, 12, 4, 3, 6, 2]
# What the operator found, by the kind of alarm (device-side kinds, place kinds, the rest).
DEVICE_KINDS = {"power_off", "low_battery", "tamper", "lost_contact", "separated_from_phone"}
VERDICT_NOTES = {
    ("confirmed", "device"): ["电话联系本人，承认未按要求佩戴和充电，已批评教育", "已通知司法所上门检查设备"],
    ("false_alarm", "device"): ["设备信号弱，电话核实本人在单位", "电量低导致上报异常，已提醒充电"],
    ("confirmed", "place"): ["电话联系本人，确认越界，已责令返回", "入户核查，本人未在住所，已训诫教育"],
    ("false_alarm", "place"): ["定位漂移，本人在家", "视频核实本人在居住地"],
    ("confirmed", "other"): ["已通知司法所跟进处理", "电话联系本人，已说明情况并教育"],
    ("false_alarm", "other"): ["核实为误操作", "本人已补签，情况正常"],
}


def _notes(verdict: str, kind: str) -> list[str]:
    group = "device" if kind in DEVICE_KINDS else "place" if kind in (
        "left_permitted_area", "entered_exclusion_zone", "night_absence") else "other"
    return VERDICT_NOTES[(verdict, group)]


def plan(world: World) -> None:
    world.on(world.start, 8, 5, _cameras)
    with session_scope(Actor.system("demo-history")) as db:
        subjects = db.execute(select(Subject).where(Subject.status == SubjectStatus.under_correction,
                                                    Subject.is_minor.is_(False)).order_by(Subject.id)).scalars().all()
        people = [(s.id, s.office_id, s.responsible_staff.username if s.responsible_staff else None,
                   s.supervision_level, s.correction_start_date) for s in subjects]
        adults = {p[0] for p in people}  # a minor's alarms are the responsible officer's (Art. 54)
        bracelets = [b.subject_id for b in db.execute(select(DeviceBinding).where(DeviceBinding.end_at.is_(None))
                                                      ).scalars() if b.subject_id in adults]
        phones = set(db.execute(select(SubjectCredential.subject_id)).scalars())
    _records(world, [p for p in people if p[2]][:RECORD_SUBJECTS])
    day = world.start
    while day <= world.today:
        _alarms_of_day(world, day, bracelets)
        _rollcalls_of_day(world, day, [p[0] for p in people if p[0] in phones])
        if day.weekday() < 5:  # each working day's end: the officers close the duties done
            world.on(day, 17, 30, _close_duties)
        day += timedelta(days=1)


def finish(world: World) -> None:
    """At the real present: the daily deadline scan (overdue reports and returns from leave, duty
    tasks a quarter ahead). Once, not each simulated day: each run extends every subject's duties,
    which would double the start-up time."""
    _first_checkins(world)
    _scan(world)


def _first_checkins(world: World) -> None:
    """Check-ins up to now by each subject's level as it is now (a level or a start changed in the
    history), as rows like the seed's; a few stay overdue. Without them the first missed
    check-in scan would alarm for everyone who entered correction in the history."""
    from sqlalchemy import func

    now = clock.now()
    rng = world.rng
    with session_scope(Actor.system("demo-history")) as db:
        last = dict(db.execute(select(CheckIn.subject_id, func.max(CheckIn.at)).where(CheckIn.matched.is_(True))
                               .group_by(CheckIn.subject_id)).all())
        people = db.execute(select(Subject).where(Subject.status == SubjectStatus.under_correction)
                            .order_by(Subject.id)).scalars().all()
        added = 0
        for s in people:
            interval = checkins_service.checkin_interval_days(s.supervision_level)
            previous = last.get(s.id)
            if previous is not None:
                previous = clock.ensure_utc(previous)
            if (previous is not None and now - previous < timedelta(days=interval)) or rng.random() < 0.05:
                continue
            at = previous or local(s.correction_start_date or world.start, 10)
            while True:
                at += timedelta(days=interval * rng.uniform(0.6, 0.95))
                if at >= now:
                    break
                kiosk = rng.random() < 0.5
                score = round(rng.uniform(0.55, 0.8), 3)
                db.add(CheckIn(subject_id=s.id, source="kiosk" if kiosk else "phone",
                               kiosk_id=f"{s.office.code}-K1" if kiosk else None, at=at, matched=True, score=score,
                               distance=round(1 - score, 3), liveness=True, challenge="turn_left",
                               reason="人脸比对通过", actor_name="kiosk" if kiosk else "subject"))
                added += 1
        world.done["checkin_rows"] += added


def _scan(world: World) -> None:
    world.run("scan", lambda: scheduled.scan())


# --- cameras -------------------------------------------------------------------------------------


def _cameras(world: World) -> None:
    rng = world.rng
    with session_scope(Actor.system("demo-history")) as db:
        offices = [(o.id, o.name) for o in db.execute(select(Office).order_by(Office.id)).scalars()]
    sites = [(name, kind, None) for name, kind in CAMERA_SITES]
    sites += [(f"{name} 接待室", LocationKind.office, oid) for oid, name in offices]
    with world.as_("sysadmin") as db:
        for n, (name, kind, office_id) in enumerate(sites, start=1):
            status = CameraStatus.offline if rng.random() < 0.12 else CameraStatus.online
            world.run("camera", lambda: command_service.create_camera(db_session=db, camera_in=CameraCreate(
                name=name, location_kind=kind, office_id=office_id, status=status,
                stream_url=f"http://video.linzi.demo/live/{n:03d}.m3u8",
                gb_device_id=f"3703050000132{n:07d}")))


# --- 日常监管 and 月度考核 --------------------------------------------------------------------------


def _records(world: World, people: list[tuple]) -> None:
    rng = world.rng
    first = max(world.start, world.today - timedelta(days=RECORD_DAYS))
    every = {"strict": 7, "ordinary": 30, "lenient": 60}
    months: set[date] = set()
    for sid, _office, officer, level, started in people:
        begin = max(first, started or first)
        day = begin + timedelta(days=rng.randint(0, 6))
        while day <= world.today:
            world.on(day, 9, rng.randint(0, 59), _record(sid, officer, "report"))
            if rng.random() < 0.5:
                world.on(day + timedelta(days=rng.randint(1, 5)), 14, rng.randint(0, 59),
                         _record(sid, officer, rng.choice(["home_visit", "talk", "education", "community_service"])))
            day += timedelta(days=every.get(level, 30))
        month = begin.replace(day=1)
        while month < world.today.replace(day=1):
            nxt = (month + timedelta(days=32)).replace(day=1)
            if month >= first.replace(day=1) and nxt > begin:
                months.add(month)
                world.on(nxt + timedelta(days=rng.randint(1, 4)), 16, rng.randint(0, 59),
                         _assess(sid, officer, month.strftime("%Y-%m")))
            month = nxt


def _record(subject_id: int, officer: str, kind: str):
    def step(w: World) -> None:
        rng, today = w.rng, clock.today_local()
        record = {
            "report": lambda: ReportIn(kind="report", occurred_on=today, channel="in_person",
                                       summary="本人到司法所报告近期工作、生活情况，思想稳定", place="司法所"),
            "home_visit": lambda: HomeVisitIn(kind="home_visit", occurred_on=today, counterpart="家属",
                                              summary="走访家庭，了解其日常表现，家属反映情况良好"),
            "talk": lambda: TalkIn(kind="talk", occurred_on=today, summary="个别教育谈话，了解思想动态"),
            "education": lambda: EducationIn(kind="education", occurred_on=today, hours=rng.choice([2, 4]),
                                             counterpart="区社区矫正中心", summary="参加集中法治教育学习"),
            "community_service": lambda: CommunityServiceIn(kind="community_service", occurred_on=today,
                                                            hours=rng.choice([2, 4]), counterpart="社区居委会",
                                                            summary="参加社区环境整治公益活动"),
        }[kind]()
        with w.as_(officer) as db:
            w.run("daily_record", lambda: daily_service.add_record(db_session=db, subject_id=subject_id,
                                                                   record_in=record))
    return step


def _assess(subject_id: int, officer: str, month: str):
    def step(w: World) -> None:
        with w.as_(officer) as db:
            w.run("monthly_assessment", lambda: daily_service.assess_month(
                db_session=db, subject_id=subject_id, assessment_in=MonthlyAssessmentCreate(month=month)))
    return step


def _close_duties(world: World) -> None:
    """Each officer marks the duties of the level (reports, talks) done once they are due, in one
    unit of work (tasks' own close, audited as the officer); one in 25 stays open, overdue, for the
    task list to show."""
    from zhijiao.tasks import service as tasks_service
    from zhijiao.tasks.models import Task

    today = clock.today_local()
    with session_scope(Actor.system("demo-history")) as db:
        rows = db.execute(select(Task.id, Task.key, Subject.responsible_staff_id)
                          .join(Subject, Subject.id == Task.subject_id)
                          .where(Task.kind == "duty", Task.status == "open", Task.due_on < today)).all()
    by_id = {a.staff_id: name for name, a in world.actors.items()}
    mine: dict[str, list[str]] = {}
    for task_id, key, staff_id in rows:
        if task_id % 25 and staff_id in by_id:
            mine.setdefault(by_id[staff_id], []).append(key)
    for officer, keys in mine.items():
        with world.as_(officer) as db:
            for key in keys:
                tasks_service.close(db_session=db, key=key, note="已按要求完成")
        world.done["duty_done"] += len(keys)


# --- 视频点名 -------------------------------------------------------------------------------------


def _rollcalls_of_day(world: World, day: date, callable_ids: list[int]) -> None:
    rng = world.rng
    if not callable_ids or day.weekday() >= 5:
        return
    chosen = rng.sample(callable_ids, min(ROLLCALLS_PER_DAY, len(callable_ids)))
    hour = rng.randint(9, 16)
    operator = rng.choice(OPERATORS)

    def call(w: World) -> None:
        with w.as_(operator) as db:
            present = [i for i in chosen if db.get(Subject, i).status == SubjectStatus.under_correction]
            if not present:
                return
            calls = w.run("rollcall", lambda: checkins_service.call(
                db_session=db, subject_ids=present, sample=None, minutes=30))
        for rc in calls or []:
            if rng.random() < 0.8:
                w.at(rc.called_at + timedelta(minutes=rng.randint(2, 25)), _answer(rc.id))
        w.at(local(day, hour, 31), _expire)

    world.on(day, hour, 0, call)


def _answer(rollcall_id: int):
    """A matched answer, written as the service writes it (the face engine cannot run on synthetic data)."""
    def step(w: World) -> None:
        now = clock.now()
        with session_scope(Actor.system("demo-history")) as db:
            rc = db.get(RollCall, rollcall_id)
            if rc is None or rc.status != RollCallStatus.pending:
                return
            score = round(w.rng.uniform(0.6, 0.85), 3)
            record = CheckIn(subject_id=rc.subject_id, source="phone", at=now, matched=True, score=score,
                             distance=round(1 - score, 3), liveness=True, challenge="blink", reason="人脸比对通过",
                             actor_name="subject")
            db.add(record)
            db.flush()
            rc.status, rc.answered_at, rc.checkin_id = RollCallStatus.answered_matched, now, record.id
        w.done["rollcall_answer"] += 1
    return step


def _expire(w: World) -> None:
    """The roll call job closes the unanswered calls (an alarm each); the operator on duty then
    handles those alarms, except today's and yesterday's, which some still wait on the desk."""
    now = clock.now()
    with session_scope(Actor.system("rollcalls")) as db:
        w.run("rollcall_expired", lambda: checkins_service.expire_rollcalls(db_session=db))
        raised = db.execute(select(Alarm.id).where(Alarm.type == "missed_rollcall", Alarm.status == "open",
                                                   Alarm.opened_at >= now - timedelta(minutes=5))).scalars().all()
    recent = (w.today - clock.today_local()).days <= 1
    for alarm_id in raised:
        if recent and w.rng.random() < 0.5:
            continue
        w.at(now + timedelta(minutes=w.rng.randint(5, 40)),
             _handle(alarm_id, w.rng.choice(OPERATORS), "closed", "missed_rollcall"))


# --- 告警 ----------------------------------------------------------------------------------------


def _alarms_of_day(world: World, day: date, bracelets: list[int]) -> None:
    rng = world.rng
    if not bracelets:
        return
    recent = (world.today - day).days
    for _ in range(rng.randint(2, 6) + (2 if day.weekday() >= 5 else 0)):
        subject_id = rng.choice(bracelets)
        kind = rng.choices(ALARM_KINDS, weights=ALARM_WEIGHTS)[0]
        hour = rng.choice([1, 2, 23]) if kind == "night_absence" else rng.randint(7, 21)
        at = local(day, hour, rng.randint(0, 59))
        # today's and yesterday's are partly still on the desk
        fate = rng.choices(["closed", "verified", "acknowledged", "open"],
                           weights=[8, 1, 1, 2] if recent <= 1 else [1, 0, 0, 0])[0]
        world.at(at, _alarm(subject_id, kind, fate))


def _alarm(subject_id: int, kind: str, fate: str):
    def raise_it(w: World) -> None:
        now = clock.now()
        with session_scope(Actor.system("pipeline")) as db:
            if db.get(Subject, subject_id).status != SubjectStatus.under_correction:
                return  # released or transferred in the history: no longer monitored
            alarm = w.run("alarm", lambda: alarm_service.raise_alarm(
                db_session=db, subject_id=subject_id, type=kind, at=now, details={"source": "定位监管"}))
        if alarm is None or fate == "open":
            return
        operator = w.rng.choice(OPERATORS)
        delay = w.rng.randint(3, 14)
        if kind != "low_battery":  # back to normal before the operator's verdict
            w.at(now + timedelta(minutes=w.rng.randint(1, delay - 1)), _compliant(subject_id, kind))
        w.at(now + timedelta(minutes=delay), _handle(alarm.id, operator, fate, kind))
    return raise_it


def _compliant(subject_id: int, kind: str):
    """The pipeline sees the subject compliant again (back in the area, the device on)."""
    def step(w: World) -> None:
        with session_scope(Actor.system("pipeline")) as db:
            alarm_service.end_episode(db_session=db, subject_id=subject_id, type=kind, at=clock.now())
    return step


def _handle(alarm_id: int, operator: str, fate: str, kind: str):
    def step(w: World) -> None:
        rng = w.rng
        verdict = "false_alarm" if rng.random() < 0.55 else "confirmed"
        with w.as_(operator) as db:
            w.run("alarm_ack", lambda: alarm_service.act(db_session=db, alarm_id=alarm_id, action="acknowledge"))
            if fate == "acknowledged":
                return
            w.run("alarm_verify", lambda: alarm_service.act(
                db_session=db, alarm_id=alarm_id, action="verify", verdict=verdict,
                note=rng.choice(_notes(verdict, kind))))
            if fate == "closed":
                w.run("alarm_close", lambda: alarm_service.act(db_session=db, alarm_id=alarm_id, action="close",
                                                               note="处置完毕"))
    return step
