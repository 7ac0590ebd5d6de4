"""Command-center statistics, alarm charts, duty supervision (工作督察) and cameras.

No HTTP and no screens here; every query runs on the caller's actor-bound session, so the
scoping mechanism limits an office officer to their own office without anything extra.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhijiao.checkins.models import CheckIn, RollCall
from zhijiao.checkins.service import checkin_due
from zhijiao.command import registry
from zhijiao.command.models import Camera
from zhijiao.command.schemas import (
    AlarmBreakdown,
    CameraCreate,
    CameraRead,
    CameraUpdate,
    CommandStats,
    CountItem,
    DutyBoard,
    DutyItem,
    DutyMetricInfo,
    DutyOffice,
    DutyOfficer,
    LocationKind,
    PluggedStat,
    protocol_of,
)
from zhijiao.core import clock, events, topics
from zhijiao.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.lifecycle import AlarmStatus
from zhijiao.monitoring.models import Alarm, DeviceBinding, FixRecord
from zhijiao.org import service as org_service
from zhijiao.org.models import Office, Staff
from zhijiao.security import scoping
from zhijiao.security.actor import Actor, get_actor
from zhijiao.security.permissions import Perm, Role, has_perm, require, sees_every_office
from zhijiao.settings import service as settings_service
from zhijiao.subjects import rules as subject_rules
from zhijiao.subjects import counts as subject_counts
from zhijiao.subjects import service as subjects_service
from zhijiao.subjects.models import Subject
from zhijiao.subjects.schemas import SubjectCounts, SubjectStatus

T = TypeVar("T")
ACTIVE_STATUSES = ("pending_reception", "reported", "under_correction")
ONLINE_WITHIN = timedelta(minutes=10)


def _reader(db: Session) -> Actor:
    return require(get_actor(db), Perm.subjects_read)


def _counting_minors(fn: Callable[..., T]) -> Callable[..., T]:
    """Numbers and boards count minors, masked (see ``scoping.anonymised``, 社区矫正法 第五十四条)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, db_session: Session, **kwargs: Any) -> T:
        with scoping.anonymised(db_session):
            return fn(*args, db_session=db_session, **kwargs)

    return wrapper


def day_start_utc(day: date) -> datetime:
    """00:00 Asia/Shanghai of ``day``, in UTC (days on screen are local days)."""
    return datetime.combine(day, time(0), tzinfo=clock.SHANGHAI).astimezone(UTC)


def visible_office_ids(db: Session) -> list[int] | None:
    """The offices an actor's screens cover; None for the whole district."""
    actor = _reader(db)
    if sees_every_office(actor):
        return None
    return [actor.office_id] if actor.office_id else []


# --- today's numbers -------------------------------------------------------------------------------


def stats(*, db_session: Session, now: datetime | None = None) -> CommandStats:
    """Today's numbers. The subjects are counted by subjects/counts.py (only the files the caller can
    open, the rest said in ``subjects_hidden_*``), like the home page and the list; devices and
    alarms count minors, masked (``_counting_minors``)."""
    _reader(db_session)
    now = now or clock.now()
    today = clock.to_local(now).date()
    subjects = subject_counts.counts(db_session=db_session, today=today)
    return _today(db_session=db_session, now=now, today=today, subjects=subjects)


@_counting_minors
def _today(*, db_session: Session, now: datetime, today: date, subjects: SubjectCounts) -> CommandStats:
    start = day_start_utc(today)
    by_status = {s: subjects.by_status[s] for s in ACTIVE_STATUSES}
    active_binding = DeviceBinding.end_at.is_(None)
    bound = db_session.execute(select(func.count(DeviceBinding.id)).where(active_binding)).scalar_one()
    recent_fix = exists().where(FixRecord.subject_id == DeviceBinding.subject_id,
                                FixRecord.device_id == DeviceBinding.device_id,
                                FixRecord.fix_time >= now - ONLINE_WITHIN)
    online = db_session.execute(select(func.count(DeviceBinding.id)).where(active_binding, recent_fix)).scalar_one()
    alarms_open = db_session.execute(
        select(func.count(Alarm.id)).where(Alarm.status != AlarmStatus.closed)).scalar_one()
    opened = db_session.execute(select(func.count(Alarm.id)).where(Alarm.opened_at >= start)).scalar_one()
    closed = db_session.execute(select(func.count(Alarm.id)).where(Alarm.closed_at >= start)).scalar_one()
    mean = db_session.execute(
        select(func.avg(Alarm.response_seconds)).where(Alarm.acknowledged_at >= start)).scalar_one()
    plugged = []
    for provider in registry.stat_providers():
        if provider.compute is None:
            plugged.append(PluggedStat(key=provider.key, label=provider.label, available=False))
        else:
            done, due = provider.compute(db_session, today)
            plugged.append(PluggedStat(key=provider.key, label=provider.label, done=done, due=due))
    return CommandStats(
        day=today, subjects_total=subjects.registered, subjects_by_status=by_status,
        subjects_by_level=subjects.by_level,
        subjects_hidden_active=subjects.hidden_active, subjects_hidden_sealed=subjects.hidden_sealed,
        devices_bound=bound, devices_online=online, alarms_open=alarms_open, alarms_opened_today=opened,
        alarms_closed_today=closed, mean_response_s=round(float(mean), 1) if mean is not None else None,
        plugged=plugged,
    )


def _local_day(db: Session, column):
    if db.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")  # SQLite keeps naive UTC; Asia/Shanghai has no DST


@_counting_minors
def alarm_breakdown(*, db_session: Session, days: int = 30, now: datetime | None = None) -> AlarmBreakdown:
    """Alarms opened in the last ``days`` local days: by type, by office and by day."""
    _reader(db_session)
    now = now or clock.now()
    since = clock.to_local(now).date() - timedelta(days=days - 1)
    start = day_start_utc(since)
    in_range = Alarm.opened_at >= start
    by_type = db_session.execute(
        select(Alarm.type, func.count(Alarm.id)).where(in_range).group_by(Alarm.type)).all()
    by_office = dict(db_session.execute(
        select(Subject.office_id, func.count(Alarm.id)).join(Subject, Subject.id == Alarm.subject_id)
        .where(in_range).group_by(Subject.office_id)).all())
    offices = _offices(db_session)
    day_col = _local_day(db_session, Alarm.opened_at)
    per_day = {str(d): n for d, n in db_session.execute(
        select(day_col, func.count(Alarm.id)).where(in_range).group_by(day_col)).all()}
    return AlarmBreakdown(
        days=days, since=since,
        by_type=sorted((CountItem(key=t, label=alarm_service.label(t), count=n) for t, n in by_type),
                       key=lambda c: -c.count),
        by_office=[CountItem(key=str(o.id), label=o.name, count=by_office.get(o.id, 0)) for o in offices],
        by_day=[CountItem(key=(d := (since + timedelta(days=i)).isoformat()), label=d[5:], count=per_day.get(d, 0))
                for i in range(days)],
    )


def _offices(db: Session) -> list[Office]:
    visible = visible_office_ids(db)
    return [o for o in org_service.list_offices(db_session=db) if visible is None or o.id in visible]


# --- duty supervision (工作督察) ------------------------------------------------------------------


@_counting_minors
def duty_board(*, db_session: Session, now: datetime | None = None) -> DutyBoard:
    """Every office and officer with what they have not done in time, worst first."""
    _reader(db_session)
    now = now or clock.now()
    metrics = registry.duty_metrics()
    offices = _offices(db_session)
    office_counts: dict[int, Counter[str]] = {o.id: Counter() for o in offices}
    staff_counts: dict[int, dict[int | None, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for metric in metrics:
        for item in metric.items(db_session, now):
            if item.office_id not in office_counts:
                continue
            office_counts[item.office_id][metric.key] += 1
            staff_counts[item.office_id][item.staff_id][metric.key] += 1
    weights = {m.key: m.weight for m in metrics}
    staff_ids = {sid for per in staff_counts.values() for sid in per if sid is not None}
    names = dict(db_session.execute(select(Staff.id, Staff.display_name).where(Staff.id.in_(staff_ids))).all()) \
        if staff_ids else {}
    officers_of = _officers_by_office(db_session, [o.id for o in offices])

    def score(counts: Counter[str]) -> float:
        return round(sum(weights.get(k, 1.0) * n for k, n in counts.items()), 1)

    rows = []
    for office in offices:
        per_staff = staff_counts.get(office.id, {})
        officer_rows = [DutyOfficer(staff_id=s.id, name=s.display_name, counts=dict(per_staff.get(s.id, Counter())),
                                    score=score(per_staff.get(s.id, Counter())))
                        for s in officers_of.get(office.id, [])]
        known = {s.id for s in officers_of.get(office.id, [])}
        for sid, counts in per_staff.items():
            if sid not in known:
                officer_rows.append(DutyOfficer(staff_id=sid, name=names.get(sid, "未指定责任人") if sid else "未指定责任人",
                                                counts=dict(counts), score=score(counts)))
        officer_rows.sort(key=lambda r: (-r.score, r.name))
        rows.append(DutyOffice(office_id=office.id, name=office.name, counts=dict(office_counts[office.id]),
                               score=score(office_counts[office.id]), rank=0, officers=officer_rows))
    rows.sort(key=lambda r: (-r.score, r.name))
    for i, row in enumerate(rows, start=1):
        row.rank = i
    return DutyBoard(generated_at=now, metrics=[DutyMetricInfo(key=m.key, label=m.label, weight=m.weight)
                                                for m in metrics], offices=rows)


@_counting_minors
def duty_items(*, db_session: Session, metric: str | None = None, office_id: int | None = None,
               staff_id: int | None = None, now: datetime | None = None) -> list[DutyItem]:
    """The items behind a number of the board (the leader's drill-down)."""
    _reader(db_session)
    now = now or clock.now()
    visible = visible_office_ids(db_session)
    out: list[DutyItem] = []
    for m in registry.duty_metrics():
        if metric and m.key != metric:
            continue
        for item in m.items(db_session, now):
            if visible is not None and item.office_id not in visible:
                continue
            if office_id is not None and item.office_id != office_id:
                continue
            if staff_id is not None and item.staff_id != staff_id:
                continue
            out.append(item)
    return out


def _officers_by_office(db: Session, office_ids: list[int]) -> dict[int, list[Staff]]:
    out: dict[int, list[Staff]] = defaultdict(list)
    if office_ids:
        for s in db.execute(select(Staff).where(Staff.office_id.in_(office_ids), Staff.active.is_(True),
                                                Staff.role == Role.office_officer.value)
                            .order_by(Staff.id)).scalars():
            out[s.office_id].append(s)  # type: ignore[index]
    return out


def dispatch_candidates(*, db_session: Session, subject_id: int) -> list[Staff]:
    """The officers of the subject's office, the responsible one first (派发对象)."""
    subject = subjects_service.get(db_session=db_session, subject_id=subject_id)
    staff = _officers_by_office(db_session, [subject.office_id]).get(subject.office_id, [])
    return sorted(staff, key=lambda s: (s.id != subject.responsible_staff_id, s.id))


def replay_subjects(*, db_session: Session) -> list[tuple[int, str, str]]:
    """Subjects in scope that wore a device at some time: (id, display name, office), for replay."""
    _reader(db_session)
    ids = select(DeviceBinding.subject_id).distinct()
    rows = db_session.execute(select(Subject).where(Subject.id.in_(ids)).order_by(Subject.office_id, Subject.name)) \
        .unique().scalars()
    return [(s.id, subjects_service.display_name(s), s.office.name) for s in rows]


def _alarm_items(db: Session, now: datetime, *, overdue: bool, metric: str) -> Iterable[DutyItem]:
    stmt = select(Alarm, Subject).join(Subject, Subject.id == Alarm.subject_id)
    if overdue:
        limit = timedelta(minutes=settings_service.value("rules.alarm_escalation_minutes"))
        stmt = stmt.where(Alarm.status == AlarmStatus.open, Alarm.opened_at <= now - limit)
    else:
        stmt = stmt.where(Alarm.status != AlarmStatus.closed)
    for alarm, subject in db.execute(stmt.order_by(Alarm.opened_at)).unique():
        yield DutyItem(metric=metric, office_id=subject.office_id,
                       staff_id=alarm.dispatched_to_id or subject.responsible_staff_id, subject_id=subject.id,
                       subject_name=subjects_service.display_name(subject),
                       title=f"{alarm_service.label(alarm.type)}（{'超时未接警' if overdue else alarm.status}）",
                       at=alarm.opened_at, ref=f"/command/alarms/{alarm.id}")


def _alarms_overdue(db: Session, now: datetime) -> Iterable[DutyItem]:
    return _alarm_items(db, now, overdue=True, metric="alarms_overdue")


def _alarms_open(db: Session, now: datetime) -> Iterable[DutyItem]:
    return _alarm_items(db, now, overdue=False, metric="alarms_open")


def _orders_expiring(db: Session, now: datetime) -> Iterable[DutyItem]:
    expiring = monitoring_service.expiring_orders(db_session=db)
    if not expiring:
        return
    subjects = {s.id: s for s in db.execute(
        select(Subject).where(Subject.id.in_([e.subject_id for e in expiring]))).unique().scalars()}
    for e in expiring:
        s = subjects.get(e.subject_id)
        if s is not None:
            yield DutyItem(metric="orders_expiring", office_id=s.office_id, staff_id=s.responsible_staff_id,
                           subject_id=s.id, subject_name=e.subject_name,
                           title=f"电子定位审批 {e.days_left} 日后到期，请及时延长或解除", at=e.end_date)


def _reports_overdue(db: Session, now: datetime) -> Iterable[DutyItem]:
    today = clock.to_local(now).date()
    latest_effective = today - timedelta(days=subject_rules.REPORT_WITHIN_DAYS + 1)
    rows = db.execute(select(Subject).where(Subject.status == SubjectStatus.pending_reception,
                                            Subject.judgment_effective_date <= latest_effective)
                      .order_by(Subject.judgment_effective_date)).unique().scalars()
    for s in rows:
        deadline = subject_rules.reporting_deadline(s.judgment_effective_date)
        if today > deadline:
            yield DutyItem(metric="reports_overdue", office_id=s.office_id, staff_id=s.responsible_staff_id,
                           subject_id=s.id, subject_name=subjects_service.display_name(s),
                           title=f"逾期未报到（应于 {deadline.isoformat()} 前报到，第二十一条）", at=deadline)


def _checkins_today(db: Session, day: date) -> tuple[int, int]:
    """(subjects checked in today, subjects whose check-in duty is due by today) — done included."""
    start = day_start_utc(day)
    end = start + timedelta(days=1)
    last_before = dict(db.execute(
        select(CheckIn.subject_id, func.max(CheckIn.at)).where(CheckIn.matched.is_(True), CheckIn.at < start)
        .group_by(CheckIn.subject_id)).all())
    done_today = set(db.execute(select(CheckIn.subject_id).where(
        CheckIn.matched.is_(True), CheckIn.at >= start, CheckIn.at < end).distinct()).scalars())
    due = 0
    for sid, level, began in db.execute(select(Subject.id, Subject.supervision_level, Subject.correction_start_date)
                                        .where(Subject.status == SubjectStatus.under_correction)):
        when = checkin_due(level, last_before.get(sid), began)
        if sid in done_today or (when is not None and when < end):
            due += 1
    return len(done_today), due


def _rollcalls_today(db: Session, day: date) -> tuple[int, int]:
    """(roll calls answered and matched, roll calls made) today."""
    start = day_start_utc(day)
    rows = dict(db.execute(select(RollCall.status, func.count(RollCall.id)).where(
        RollCall.called_at >= start, RollCall.called_at < start + timedelta(days=1)).group_by(RollCall.status)).all())
    return rows.get("answered_matched", 0), sum(rows.values())


registry.register_stat("checkins", "今日签到", _checkins_today)
registry.register_stat("rollcalls", "视频点名应答", _rollcalls_today)
registry.register_duty_metric(registry.DutyMetric("alarms_overdue", "告警超时未接警", 3.0, _alarms_overdue))
registry.register_duty_metric(registry.DutyMetric("reports_overdue", "逾期未报到", 2.0, _reports_overdue))
registry.register_duty_metric(registry.DutyMetric("alarms_open", "未办结告警", 1.0, _alarms_open))
registry.register_duty_metric(registry.DutyMetric("orders_expiring", "电子定位即将到期", 1.0, _orders_expiring))


# --- cameras ----------------------------------------------------------------------------------------


def _camera_admin(db: Session) -> Actor:
    """The system administrator or a district officer configures cameras (equipment, not case files)."""
    actor = get_actor(db)
    if has_perm(actor, Perm.cameras_manage):
        assert actor is not None
        return actor
    raise Forbidden("只有系统管理员或区局工作人员可以配置视频设备", code="camera_admin")


def _camera_reader(db: Session) -> Actor:
    actor = get_actor(db)
    if has_perm(actor, Perm.subjects_read) or has_perm(actor, Perm.settings_manage):
        assert actor is not None
        return actor
    raise Forbidden(code="permission_denied", message="您的角色无权执行该操作")


def _own_office_cameras_only(actor: Actor) -> bool:
    """An office sees its own cameras; the center's rooms and the street are the district's."""
    return not (sees_every_office(actor) or has_perm(actor, Perm.cameras_manage))


def camera_read(camera: Camera) -> CameraRead:
    out = CameraRead.model_validate(camera)
    out.office_name = camera.office.name if camera.office else None
    return out


def list_cameras(*, db_session: Session, location_kind: str | None = None,
                 include_inactive: bool = False) -> list[Camera]:
    actor = _camera_reader(db_session)
    stmt = select(Camera)
    if not include_inactive:
        stmt = stmt.where(Camera.active.is_(True))
    if location_kind:
        stmt = stmt.where(Camera.location_kind == location_kind)
    if _own_office_cameras_only(actor):
        stmt = stmt.where(Camera.office_id == actor.office_id)
    order = {LocationKind.center_room: 0, LocationKind.office: 1, LocationKind.vehicle: 2, LocationKind.street: 3}
    rows = db_session.execute(stmt.order_by(Camera.id)).unique().scalars().all()
    return sorted(rows, key=lambda c: (order.get(c.location_kind, 9), c.office_id or 0, c.id))


def get_camera(*, db_session: Session, camera_id: int) -> Camera:
    actor = _camera_reader(db_session)
    camera = db_session.get(Camera, camera_id)
    if camera is None or (_own_office_cameras_only(actor) and camera.office_id != actor.office_id):
        raise NotFound("视频设备不存在", code="camera_not_found")
    return camera


def create_camera(*, db_session: Session, camera_in: CameraCreate) -> Camera:
    _camera_admin(db_session)
    if camera_in.office_id is not None:
        org_service.get_office(db_session=db_session, office_id=camera_in.office_id)
    elif camera_in.location_kind == LocationKind.office:
        raise InvalidInput("司法所视频须指定所属司法所", code="office_required", fields={"office_id": "必填"})
    camera = Camera(name=camera_in.name, location_kind=camera_in.location_kind.value, office_id=camera_in.office_id,
                    stream_url=camera_in.stream_url,
                    stream_protocol=(camera_in.stream_protocol or protocol_of(camera_in.stream_url)).value,
                    status=camera_in.status.value, status_at=clock.now(), source="manual",
                    gb_device_id=camera_in.gb_device_id, address=camera_in.address, note=camera_in.note)
    db_session.add(camera)
    try:
        db_session.commit()
    except IntegrityError:
        db_session.rollback()
        raise Conflict("该国标编码已登记", code="camera_exists", fields={"gb_device_id": "已存在"}) from None
    events.publish(topics.CAMERAS, {"camera_id": camera.id})
    return camera


def update_camera(*, db_session: Session, camera_id: int, camera_in: CameraUpdate) -> Camera:
    _camera_admin(db_session)
    camera = db_session.get(Camera, camera_id)
    if camera is None:
        raise NotFound("视频设备不存在", code="camera_not_found")
    data = camera_in.model_dump(exclude_unset=True)
    if "stream_url" in data and data["stream_url"]:
        camera.stream_url = data["stream_url"]
        camera.stream_protocol = protocol_of(camera.stream_url).value
    if data.get("status"):
        camera.status, camera.status_at = data["status"].value, clock.now()
    for key in ("name", "active", "note", "address"):
        if key in data and data[key] is not None:
            setattr(camera, key, data[key])
    if data.get("location_kind"):
        camera.location_kind = data["location_kind"].value
    if "office_id" in data and data["office_id"] is not None:
        if data["office_id"]:
            org_service.get_office(db_session=db_session, office_id=data["office_id"])
        camera.office_id = data["office_id"] or None
    if camera.location_kind == LocationKind.office and camera.office_id is None:
        raise InvalidInput("司法所视频须指定所属司法所", code="office_required", fields={"office_id": "必填"})
    if "gb_device_id" in data and data["gb_device_id"] is not None:
        camera.gb_device_id = data["gb_device_id"] or None
    try:
        db_session.commit()
    except IntegrityError:
        db_session.rollback()
        raise Conflict("该国标编码已登记", code="camera_exists", fields={"gb_device_id": "已存在"}) from None
    events.publish(topics.CAMERAS, {"camera_id": camera.id})
    return camera
