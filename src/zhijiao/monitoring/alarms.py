"""Alarm service: raising (one open alarm per subject and type) and handling.

Every module that detects a broken rule — the fix pipeline, check-ins, roll calls — raises
through :func:`raise_alarm` (the positioning rules' events through :func:`apply_rule_events`),
so deduplication, escalation and the event stream are one mechanism.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zhijiao.core import clock, events, topics
from zhijiao.core.errors import Forbidden, InvalidInput, NotFound
from zhijiao.core.pagination import Page, offset
from zhijiao.core.topics import AlarmChange
from zhijiao.monitoring import lifecycle
from zhijiao.monitoring.lifecycle import AlarmStatus
from zhijiao.monitoring.models import Alarm, AlarmAction
from zhijiao.org import service as org_service
from zhijiao.monitoring.rule_types import EventKind, RuleEvent
from zhijiao.security import scoping
from zhijiao.security.actor import Actor, get_actor
from zhijiao.security.permissions import Perm, require, sees_every_office
from zhijiao.settings import service as settings_service
from zhijiao.subjects.models import Subject

# Types from shared/glossary.md; severity 1 is the most urgent.
ALARM_TYPES: dict[str, tuple[str, int]] = {
    "left_permitted_area": ("越界", 1),
    "entered_exclusion_zone": ("进入禁区", 1),
    "night_absence": ("夜不归宿", 2),
    "lost_contact": ("失联", 1),
    "power_off": ("关机", 2),
    "tamper": ("防拆/断带", 1),
    "strap_cut": ("断带", 1),
    "separated_from_phone": ("人机分离", 2),
    "low_battery": ("低电量", 3),
    "sos": ("SOS 求助", 1),
    "compliance": ("无有效定位审批", 3),
    "missed_checkin": ("未按时签到", 2),
    "missed_rollcall": ("未按时应答点名", 2),
    "gathering": ("聚集", 2),
}


def label(alarm_type: str) -> str:
    return ALARM_TYPES.get(alarm_type, (alarm_type, 2))[0]


def alarm_event(alarm: Alarm, change: AlarmChange) -> topics.AlarmEvent:
    """What the ``alarms`` topic says of an alarm's change."""
    return {
        "change": change, "id": alarm.id, "subject_id": alarm.subject_id, "type": alarm.type,
        "label": label(alarm.type), "severity": alarm.severity, "status": alarm.status,
        "retrospective": alarm.retrospective, "opened_at": alarm.opened_at.isoformat(),
        "last_at": alarm.last_at.isoformat(), "lat": alarm.lat, "lon": alarm.lon,
    }


def raise_alarm(
    *, db_session: Session, subject_id: int, type: str, at: datetime, details: dict[str, Any] | None = None,
    device_id: int | None = None, retrospective: bool = False, lat: float | None = None, lon: float | None = None,
    zone_id: int | None = None, commit: bool = True, publish: bool = True,
    open_now: dict[tuple[int, str], Alarm] | None = None,
) -> Alarm:
    """Open an alarm, or update the open one of the same subject and type (no storms).

    With ``commit=False`` the caller commits; the event goes out then (``publish=False``: the
    caller publishes its own). ``open_now``: the open alarms of a batch of raises, as
    :func:`open_alarms` read them; the alarm is looked up there instead of queried, and a new
    one is added to it."""
    if open_now is None:
        existing = _open_alarm(db_session, subject_id, type)
    else:
        existing = open_now.get((subject_id, type))
    if existing is not None:
        existing.last_at = max(existing.last_at, at)
        existing.occurrences += 1
        if lat is not None:
            existing.lat, existing.lon = lat, lon
        if details:
            existing.details = {**(existing.details or {}), **details}
        alarm, change = existing, AlarmChange.updated
    else:
        alarm = Alarm(
            subject_id=subject_id, device_id=device_id, type=type, severity=ALARM_TYPES.get(type, ("", 2))[1],
            status=AlarmStatus.open, retrospective=retrospective, episode_start=at, last_at=at, opened_at=clock.now(),
            occurrences=1, details=details, lat=lat, lon=lon, zone_id=zone_id,
        )
        db_session.add(alarm)
        change = AlarmChange.opened
        if open_now is not None:
            open_now[(subject_id, type)] = alarm
    if commit:
        try:
            db_session.commit()
        except IntegrityError:  # another writer opened it first: update that one instead
            db_session.rollback()
            return raise_alarm(db_session=db_session, subject_id=subject_id, type=type, at=at, details=details,
                               device_id=device_id, retrospective=retrospective, lat=lat, lon=lon, commit=commit,
                               publish=publish)
        events.publish(topics.ALARMS, alarm_event(alarm, change))
    elif publish:
        events.publish_on_commit(db_session, topics.ALARMS, lambda: alarm_event(alarm, change))
    return alarm


def end_episode(*, db_session: Session, subject_id: int, type: str, at: datetime,
                open_now: dict[tuple[int, str], Alarm] | None = None) -> Alarm | None:
    """The subject is compliant again: note it on the open alarm (handling still closes it)."""
    alarm = _open_alarm(db_session, subject_id, type) if open_now is None else open_now.get((subject_id, type))
    if alarm is not None and alarm.episode_end is None:
        alarm.episode_end = at
    return alarm


def _open_alarm(db_session: Session, subject_id: int, type: str) -> Alarm | None:
    return db_session.execute(
        select(Alarm).where(Alarm.subject_id == subject_id, Alarm.type == type, Alarm.status != AlarmStatus.closed,
                            Alarm.past_episode.is_(False))
    ).scalar_one_or_none()


def known_episode(*, db_session: Session, subject_id: int, type: str, start: datetime, end: datetime) -> bool:
    """Whether an alarm of this subject and type, in any state, covers part of ``start``–``end``
    (one closed while the subject was still in breach covers until it was closed)."""
    return db_session.execute(select(Alarm.id).where(
        Alarm.subject_id == subject_id, Alarm.type == type, Alarm.episode_start <= end,
        func.coalesce(Alarm.episode_end, Alarm.closed_at, Alarm.last_at) >= start,
    ).limit(1)).first() is not None


# Subjects per query when reading a batch's open alarms (well under any driver's parameter limit).
_OPEN_CHUNK = 2000


def open_alarms(*, db_session: Session, keys: Iterable[tuple[int, str]]) -> dict[tuple[int, str], Alarm]:
    """The open alarms of these (subject, type) pairs, keyed by them: one query per
    ``_OPEN_CHUNK`` subjects instead of one per raise, so a batch of raises makes one round
    trip to read and one to write (the pipeline's alarms wait for both)."""
    wanted = set(keys)
    subjects = sorted({s for s, _ in wanted})
    types = sorted({t for _, t in wanted})
    out: dict[tuple[int, str], Alarm] = {}
    for i in range(0, len(subjects), _OPEN_CHUNK):
        rows = db_session.execute(select(Alarm).where(
            Alarm.subject_id.in_(subjects[i:i + _OPEN_CHUNK]), Alarm.type.in_(types), Alarm.status != AlarmStatus.closed,
            Alarm.past_episode.is_(False),
        )).scalars()
        out.update(((a.subject_id, a.type), a) for a in rows if (a.subject_id, a.type) in wanted)
    return out


def get(*, db_session: Session, alarm_id: int) -> Alarm:
    require(get_actor(db_session), Perm.subjects_read)
    alarm = db_session.execute(select(Alarm).where(Alarm.id == alarm_id)).scalar_one_or_none()
    if alarm is None:
        raise NotFound("告警不存在或不在您的管辖范围内", code="alarm_not_found")
    return alarm


# What the command center may do with a minor's alarm without seeing the file (Law Art. 54):
# take it and hand it to the responsible officer, who verifies and closes it.
RESTRICTED_ACTIONS = frozenset({"acknowledge", "dispatch", "note"})


def get_restricted(*, db_session: Session, alarm_id: int) -> Alarm:
    """A minor's alarm for the district's command center: the alarm, not the case file.

    An operator must be able to take a minor's SOS even though the file is only visible to the
    assigned officer (社区矫正法 第五十四条). Anything else out of scope stays not found.
    """
    actor = require(get_actor(db_session), Perm.alarms_handle)
    missing = NotFound("告警不存在或不在您的管辖范围内", code="alarm_not_found")
    if not sees_every_office(actor):
        raise missing
    with scoping.anonymised(db_session):
        row = db_session.execute(select(Alarm, Subject.is_minor).join(Subject, Subject.id == Alarm.subject_id)
                                 .where(Alarm.id == alarm_id)).first()
    if row is None or not row[1]:
        raise missing
    return row[0]


def search(
    *, db_session: Session, subject_id: int | None = None, type: str | None = None, status: str | None = None,
    open_only: bool = False, page: int = 1, size: int = 50,
) -> Page[Alarm]:
    require(get_actor(db_session), Perm.subjects_read)
    stmt = select(Alarm)
    if subject_id is not None:
        stmt = stmt.where(Alarm.subject_id == subject_id)
    if type:
        stmt = stmt.where(Alarm.type == type)
    if status:
        stmt = stmt.where(Alarm.status == status)
    if open_only:
        stmt = stmt.where(Alarm.status != AlarmStatus.closed)
    total = db_session.execute(stmt.with_only_columns(func.count(Alarm.id)).order_by(None)).scalar_one()
    rows = db_session.execute(
        stmt.order_by(Alarm.severity, Alarm.opened_at.desc()).offset(offset(page, size)).limit(size)
    ).scalars().all()
    return Page(items=list(rows), total=total, page=page, size=size)


def act(
    *, db_session: Session, alarm_id: int, action: str, verdict: str | None = None, note: str | None = None,
    dispatch_to: int | None = None,
) -> Alarm:
    """Acknowledge, dispatch, verify, close or annotate an alarm; every step is audited and timed."""
    actor: Actor = require(get_actor(db_session), Perm.alarms_handle)
    try:
        alarm = get(db_session=db_session, alarm_id=alarm_id)
    except NotFound:
        alarm = get_restricted(db_session=db_session, alarm_id=alarm_id)
        if action not in RESTRICTED_ACTIONS:
            raise Forbidden("未成年社区矫正对象的告警由其责任矫正工作人员核查和关闭（社区矫正法第五十四条）",
                            code="minor_alarm_restricted") from None
    status = lifecycle.apply(alarm.status, action, verdict=verdict, note=note)
    now = clock.now()
    if action == lifecycle.Action.acknowledge:
        alarm.acknowledged_at, alarm.acknowledged_by = now, actor.username
        alarm.response_seconds = int((now - alarm.opened_at).total_seconds())
    elif action == lifecycle.Action.verify:
        alarm.verified_at, alarm.verified_by, alarm.verdict = now, actor.username, verdict
        alarm.note = note
    elif action == lifecycle.Action.close:
        alarm.closed_at, alarm.closed_by = now, actor.username
    elif action == lifecycle.Action.dispatch:
        if dispatch_to is None:
            raise InvalidInput("请选择派发对象", code="dispatch_to_required", fields={"dispatch_to": "必填"})
        if not sees_every_office(actor):
            raise Forbidden("只有指挥中心或区局可以派发告警", code="dispatch_forbidden")
        subject = db_session.get(Subject, alarm.subject_id, execution_options={"skip_scope": True})
        org_service.require_field_staff(db_session=db_session, staff_id=dispatch_to, office_id=subject.office_id,
                                        field="dispatch_to")
        alarm.dispatched_to_id = dispatch_to
    alarm.status = status
    alarm.actions.append(AlarmAction(action=action, at=now, actor_name=actor.username,
                                     note=note if action != lifecycle.Action.verify else f"{lifecycle.VERDICT_LABELS[lifecycle.Verdict(verdict)]}：{note}"))
    db_session.commit()
    events.publish(topics.ALARMS, alarm_event(alarm, AlarmChange(action)))
    return alarm


def escalate_overdue(*, db_session: Session, now: datetime | None = None) -> list[Alarm]:
    """Escalate to the bureau every alarm not acknowledged within the configured time."""
    now = now or clock.now()
    limit = timedelta(minutes=settings_service.value("rules.alarm_escalation_minutes"))
    rows = db_session.execute(
        select(Alarm).where(Alarm.status == AlarmStatus.open, Alarm.escalated_at.is_(None), Alarm.opened_at <= now - limit)
    ).scalars().all()
    for alarm in rows:
        alarm.escalated_at = now
        alarm.actions.append(AlarmAction(action="escalate", at=now, actor_name="system",
                                         note=f"超过 {limit.seconds // 60} 分钟未接警，已上报区局"))
    db_session.commit()
    for alarm in rows:
        events.publish(topics.ALARMS, alarm_event(alarm, AlarmChange.escalated))
    return list(rows)


# --- the positioning rules' events ----------------------------------------------------------------


def apply_rule_events(*, db_session: Session, rule_events: list[RuleEvent],
                      recovered: bool = False) -> list[tuple[Alarm, AlarmChange]]:
    """Turn rule events into alarm rows (one open alarm per subject and type), then publish.

    The batch's open alarms are read in one query and written in one flush: a query per event
    costs a round trip each, and on a busy gateway each round trip also waits for the GIL, which
    made 20 alarms take 150 ms. Another writer may open one of them meanwhile (the unique index
    refuses the second): then the batch is applied again over what is open by then.

    ``recovered``: events a restart found in fixes stored before it (``RulesEngine.rebuild``);
    only what no alarm tells of yet is raised."""
    for attempt in (1, 2):
        open_now = open_alarms(db_session=db_session,
                               keys=((ev.subject_id, str(ev.alarm_type)) for ev in rule_events))
        touched = [done for ev in rule_events
                   if (not recovered or _unheard(db_session, ev, open_now))
                   and (done := _apply(db_session, ev, open_now)) is not None]
        try:
            db_session.commit()
            break
        except IntegrityError:
            db_session.rollback()
            if attempt == 2:
                raise
    for alarm, change in touched:
        events.publish(topics.ALARMS, alarm_event(alarm, change))
    return touched


def _unheard(db_session: Session, ev: RuleEvent, open_now: dict[tuple[int, str], Alarm]) -> bool:
    """Whether a recovered event tells something no alarm does yet."""
    earlier = open_now.get((ev.subject_id, str(ev.alarm_type)))
    if earlier is not None:  # the end of its episode, or a new episode on it
        return ev.kind is EventKind.close or (
            earlier.episode_end is not None and ev.started_at >= earlier.episode_end)
    if ev.kind is EventKind.close:
        return True  # _apply asks whether an alarm knew of the episode, as for live data
    return not known_episode(db_session=db_session, subject_id=ev.subject_id, type=str(ev.alarm_type),
                             start=ev.started_at, end=ev.ended_at or ev.last_at)


def _apply(db_session: Session, ev: RuleEvent,
           open_now: dict[tuple[int, str], Alarm]) -> tuple[Alarm, AlarmChange] | None:
    """The alarm an event opens, updates or ends, and the change to publish."""
    alarm_type = str(ev.alarm_type)
    if ev.kind is EventKind.close:
        ended_at = ev.ended_at or ev.last_at
        current = open_now.get((ev.subject_id, alarm_type))
        if current is not None and _another_episode(current, ev):
            return _record_past_episode(db_session, ev, ended_at)
        alarm = end_episode(db_session=db_session, subject_id=ev.subject_id, type=alarm_type, at=ended_at,
                            open_now=open_now)
        if alarm is not None:
            return alarm, AlarmChange.ended
        if known_episode(db_session=db_session, subject_id=ev.subject_id, type=alarm_type,
                         start=ev.started_at, end=ended_at):
            return None  # its alarm was handled and closed before the subject came back
        # An episode that began and ended within late data (a backfill after a dropout): a replay
        # reports it by its close alone, and nobody has heard of it yet.
        alarm, change = _raise(db_session, ev, open_now, retrospective=True)
        alarm.episode_end = ended_at
        return alarm, change
    return _raise(db_session, ev, open_now, retrospective=ev.retrospective)


def _another_episode(current: Alarm, ev: RuleEvent) -> bool:
    """Whether a closing event is of an episode other than the open alarm's: one whose last
    breach is older than the alarm's (a backfill hours old while the subject is in breach now),
    or that began after the alarm's episode had ended. Ending the open alarm with it would lose
    that episode and mark a breach going on now as over.

    The alarm's ``last_at`` is the latest ``last_at`` of the events applied to it, and the close
    of its own episode carries that episode's latest; both are times of the same clock (fix
    time, or receipt for lost contact), so a device clock a little ahead cannot split an
    episode, as comparing with ``ended_at`` (receipt time for a quiet compliance alarm) would."""
    return ev.last_at < current.last_at or (current.episode_end is not None and ev.started_at > current.episode_end)


def _record_past_episode(db_session: Session, ev: RuleEvent,
                         ended_at: datetime) -> tuple[Alarm, AlarmChange] | None:
    """A backfilled episode, over already, while another alarm of its type is open: its own alarm.

    Why its own alarm rather than an episode listed under the open one: the desk, the handling
    lifecycle (acknowledge, verify, close, each timed and audited) and the statistics all count
    alarm rows, so a row of its own is on record, listed and counted with no second model; its
    verdict may differ from the open one's (three hours ago in the zone is not now), and the
    officer handles it on its own. It is marked retrospective (事后补报) with its own start and
    end, and ``past_episode``: later fixes never update it (the open alarm stays the one they
    update, and the one-open-alarm index leaves it out). A replay that tells of it again finds
    it by ``known_episode`` and adds nothing."""
    alarm_type = str(ev.alarm_type)
    if known_episode(db_session=db_session, subject_id=ev.subject_id, type=alarm_type,
                     start=ev.started_at, end=ended_at):
        return None
    details = {k: v for k, v in ev.details.items() if isinstance(v, (str, int, float, bool, type(None)))}
    alarm = Alarm(
        subject_id=ev.subject_id, type=alarm_type, severity=ALARM_TYPES.get(alarm_type, ("", 2))[1],
        status=AlarmStatus.open, retrospective=True, past_episode=True, episode_start=ev.started_at,
        last_at=ev.last_at, episode_end=ended_at, opened_at=clock.now(), occurrences=1, details=details or None,
        lat=ev.details.get("lat"), lon=ev.details.get("lon"),
    )
    db_session.add(alarm)
    return alarm, AlarmChange.opened


def _raise(db_session: Session, ev: RuleEvent, open_now: dict[tuple[int, str], Alarm], *,
           retrospective: bool) -> tuple[Alarm, AlarmChange]:
    """Open or update the subject's alarm of this type; the change a screen should hear of:
    ``opened`` for a new row or a new episode on a row still open (it alerts the operators
    again), else ``updated`` (a replay repeats the opening of an episode it already told of)
    or ``ended``."""
    earlier = open_now.get((ev.subject_id, str(ev.alarm_type)))
    new_episode = (earlier is not None and ev.kind is EventKind.open and earlier.episode_end is not None
                   and ev.started_at >= earlier.episode_end)
    alarm = raise_alarm(
        db_session=db_session, subject_id=ev.subject_id, type=str(ev.alarm_type), at=ev.started_at,
        details={k: v for k, v in ev.details.items() if isinstance(v, (str, int, float, bool, type(None)))},
        retrospective=retrospective, lat=ev.details.get("lat"), lon=ev.details.get("lon"), commit=False,
        publish=False,  # published by the caller with the change below
        open_now=open_now,
    )
    alarm.last_at = max(alarm.last_at, ev.last_at)
    if new_episode:
        alarm.episode_end = None  # in breach again: its end is the new episode's
    if earlier is None or new_episode:
        return alarm, AlarmChange.opened
    return alarm, AlarmChange.ended if ev.kind is EventKind.close else AlarmChange.updated
