"""Rule events become alarm rows in one batch (``monitoring.alarms.apply_rule_events``), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event, select

import factories as f
from zhijiao.core import clock, events, topics
from zhijiao.db import session as dbsession
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.models import Alarm
from zhijiao.monitoring.rule_types import AlarmType, EventKind, RuleEvent
from zhijiao.security.actor import Actor


def _event(kind: EventKind, alarm_type: AlarmType, subject_id: int, at, **kw) -> RuleEvent:
    return RuleEvent(kind=kind, alarm_type=alarm_type, subject_id=subject_id, started_at=at, last_at=at,
                     confirmed_at=at, fix_time=at, details={"lat": 36.8, "lon": 118.3, "zone_ids": [1]}, **kw)


@pytest.fixture
def subjects(db):
    office = f.office(db)
    return [f.subject(db, office, status="under_correction").id for _ in range(12)]


@pytest.fixture
def published():
    seen: list[dict] = []
    off = events.on(topics.ALARMS, seen.append)
    yield seen
    off()


def _statements(engine) -> list[str]:
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, stmt, *_a: seen.append(stmt))
    return seen


def _apply(rule_events: list[RuleEvent]) -> list:
    with dbsession.session_scope(Actor.system("pipeline")) as db:
        return alarm_service.apply_rule_events(db_session=db, rule_events=rule_events)


def test_a_batch_opens_updates_and_ends_alarms(db, subjects, published):
    t = clock.now() - timedelta(minutes=10)
    s1, s2 = subjects[:2]
    _apply([
        _event(EventKind.open, AlarmType.sos, s1, t),
        _event(EventKind.update, AlarmType.sos, s1, t + timedelta(minutes=1)),
        _event(EventKind.open, AlarmType.left_permitted_area, s2, t),
        _event(EventKind.close, AlarmType.left_permitted_area, s2, t + timedelta(minutes=2),
               ended_at=t + timedelta(minutes=3)),
    ])
    rows = {(a.subject_id, a.type): a for a in db.execute(select(Alarm)).scalars()}
    assert set(rows) == {(s1, "sos"), (s2, "left_permitted_area")}
    sos, left = rows[(s1, "sos")], rows[(s2, "left_permitted_area")]
    assert sos.occurrences == 2 and sos.last_at == t + timedelta(minutes=1) and sos.status == "open"
    assert left.episode_end == t + timedelta(minutes=3) and left.status == "open"
    assert [(p["subject_id"], p["type"], p["change"]) for p in published] == [
        (s1, "sos", "opened"), (s1, "sos", "updated"), (s2, "left_permitted_area", "opened"),
        (s2, "left_permitted_area", "ended")]
    assert all(p["id"] is not None for p in published)


def test_an_open_alarm_in_the_database_is_updated_not_duplicated(db, subjects, published):
    t = clock.now() - timedelta(minutes=10)
    with dbsession.session_scope(Actor.system("pipeline")) as s:
        first = alarm_service.raise_alarm(db_session=s, subject_id=subjects[0], type="tamper", at=t).id
    _apply([_event(EventKind.open, AlarmType.tamper, subjects[0], t + timedelta(minutes=5))])
    (row,) = db.execute(select(Alarm)).scalars()
    assert row.id == first and row.occurrences == 2 and row.last_at == t + timedelta(minutes=5)


def test_reads_and_writes_do_not_grow_with_the_batch(engine, backend, subjects):
    """One query reads the batch's open alarms and the commit writes them: a query per event
    made 20 alarms take 150 ms on a busy gateway."""
    t = clock.now() - timedelta(minutes=10)
    seen = _statements(engine)
    _apply([_event(EventKind.open, AlarmType.sos, subjects[0], t)])
    one = list(seen)
    seen.clear()
    _apply([_event(EventKind.open, AlarmType.low_battery, s, t) for s in subjects[1:]]
           + [_event(EventKind.update, AlarmType.low_battery, s, t + timedelta(seconds=30)) for s in subjects[1:]])
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT") and "FROM alarms" in s]) == 1
    if backend == "postgres":  # one INSERT … VALUES for all of them (SQLite's are in-process)
        assert len(seen) == len(one), [s[:60] for s in seen]


def test_an_alarm_another_writer_opened_meanwhile_is_updated(db, subjects, published, monkeypatch):
    """The unique index refuses a second open alarm; the batch is applied again over it."""
    t = clock.now() - timedelta(minutes=10)
    with dbsession.session_scope(Actor.system("other-writer")) as s:
        theirs = alarm_service.raise_alarm(db_session=s, subject_id=subjects[0], type="sos", at=t).id
    published.clear()
    real = alarm_service.open_alarms
    calls = []

    def read_before_their_commit(**kw):
        calls.append(1)
        return {} if len(calls) == 1 else real(**kw)

    monkeypatch.setattr(alarm_service, "open_alarms", read_before_their_commit)
    _apply([_event(EventKind.open, AlarmType.sos, subjects[0], t + timedelta(minutes=1)),
            _event(EventKind.open, AlarmType.power_off, subjects[1], t)])
    assert len(calls) == 2
    rows = {(a.subject_id, a.type): a for a in db.execute(select(Alarm)).scalars()}
    assert set(rows) == {(subjects[0], "sos"), (subjects[1], "power_off")}
    assert rows[(subjects[0], "sos")].id == theirs and rows[(subjects[0], "sos")].occurrences == 2
    # its opening was told by the writer that opened it
    assert [(p["type"], p["change"]) for p in published] == [("sos", "updated"), ("power_off", "opened")]


def test_an_episode_only_late_data_held_raises_a_retrospective_alarm(db, subjects, published):
    """A replay reports an episode that began and ended within late data by its close alone."""
    t = clock.now() - timedelta(hours=2)
    _apply([_event(EventKind.close, AlarmType.left_permitted_area, subjects[0], t, ended_at=t + timedelta(minutes=9))])
    (row,) = db.execute(select(Alarm)).scalars()
    assert (row.type, row.status, row.retrospective) == ("left_permitted_area", "open", True)
    assert row.episode_start == t and row.episode_end == t + timedelta(minutes=9)
    assert [(p["type"], p["change"], p["retrospective"]) for p in published] == [("left_permitted_area", "opened", True)]


def test_the_end_of_an_episode_whose_alarm_was_closed_raises_nothing(db, subjects, published):
    t = clock.now() - timedelta(minutes=30)
    with dbsession.session_scope(Actor.system("pipeline")) as s:
        alarm = alarm_service.raise_alarm(db_session=s, subject_id=subjects[0], type="left_permitted_area", at=t)
        # handled by an officer while the subject was still out
        alarm.status, alarm.closed_at = "closed", t + timedelta(minutes=10)
    published.clear()
    _apply([_event(EventKind.close, AlarmType.left_permitted_area, subjects[0], t + timedelta(minutes=1),
                   ended_at=t + timedelta(minutes=20))])
    assert db.execute(select(Alarm.status)).scalars().all() == ["closed"]
    assert published == []


def test_a_breach_that_goes_on_after_its_alarm_was_closed_opens_a_new_one(db, subjects, published):
    t = clock.now() - timedelta(minutes=30)
    with dbsession.session_scope(Actor.system("pipeline")) as s:
        alarm = alarm_service.raise_alarm(db_session=s, subject_id=subjects[0], type="left_permitted_area", at=t)
        alarm.status, alarm.closed_at = "closed", t + timedelta(minutes=5)
        closed = alarm.id
    published.clear()
    _apply([_event(EventKind.update, AlarmType.left_permitted_area, subjects[0], t + timedelta(minutes=10))])
    rows = db.execute(select(Alarm.id, Alarm.status).order_by(Alarm.id)).all()
    assert [status for _, status in rows] == ["closed", "open"] and rows[1][0] != closed
    assert [(p["id"], p["change"]) for p in published] == [(rows[1][0], "opened")]


def test_a_new_episode_on_an_open_alarm_alerts_again_and_a_replayed_one_does_not(db, subjects, published):
    t = clock.now() - timedelta(hours=1)
    s1 = subjects[0]
    left = AlarmType.left_permitted_area
    _apply([_event(EventKind.open, left, s1, t)])
    _apply([_event(EventKind.open, left, s1, t)])  # a replay tells of the same opening again
    _apply([_event(EventKind.close, left, s1, t + timedelta(minutes=5), ended_at=t + timedelta(minutes=6))])
    _apply([_event(EventKind.open, left, s1, t + timedelta(minutes=20))])  # out again: not yet handled
    assert [p["change"] for p in published] == ["opened", "updated", "ended", "opened"]
    (row,) = db.execute(select(Alarm)).scalars()
    assert row.episode_start == t and row.episode_end is None and row.occurrences == 3  # in breach again
    _apply([_event(EventKind.close, left, s1, t + timedelta(minutes=25), ended_at=t + timedelta(minutes=30))])
    db.expire_all()
    assert db.execute(select(Alarm.episode_end)).scalar_one() == t + timedelta(minutes=30)


def test_a_backfilled_episode_while_an_alarm_is_open_is_an_alarm_of_its_own(db, subjects, published):
    """Issue 20 item 10: the close of an old episode must not end the open alarm of a later one."""
    now = clock.now()
    s1, zone = subjects[0], AlarmType.entered_exclusion_zone
    _apply([_event(EventKind.open, zone, s1, now - timedelta(minutes=5))])
    old = now - timedelta(hours=3)
    backfill = _event(EventKind.close, zone, s1, old, ended_at=old + timedelta(minutes=5))
    _apply([backfill])
    _apply([backfill])  # told again (a resent batch, a restart's replay): nothing new
    db.expire_all()
    rows = db.execute(select(Alarm).order_by(Alarm.episode_start)).scalars().all()
    assert [(a.status, a.retrospective, a.past_episode, a.episode_end) for a in rows] == [
        ("open", True, True, old + timedelta(minutes=5)), ("open", False, False, None)]
    assert [(p["id"], p["change"]) for p in published] == [(rows[1].id, "opened"), (rows[0].id, "opened")]
    # later fixes update the open alarm, never the past episode
    _apply([_event(EventKind.update, zone, s1, now)])
    db.expire_all()
    assert db.get(Alarm, rows[0].id).occurrences == 1 and db.get(Alarm, rows[1].id).occurrences == 2


def test_a_backfilled_episode_after_the_open_alarms_episode_ended_is_its_own_too(db, subjects, published):
    t = clock.now() - timedelta(hours=4)
    s1, left = subjects[0], AlarmType.left_permitted_area
    _apply([_event(EventKind.open, left, s1, t)])
    _apply([_event(EventKind.close, left, s1, t, ended_at=t + timedelta(minutes=10))])  # back, not yet handled
    _apply([_event(EventKind.close, left, s1, t + timedelta(hours=2), ended_at=t + timedelta(hours=2, minutes=5))])
    db.expire_all()
    rows = db.execute(select(Alarm).order_by(Alarm.episode_start)).scalars().all()
    assert [(a.episode_start, a.episode_end, a.past_episode) for a in rows] == [
        (t, t + timedelta(minutes=10), False), (t + timedelta(hours=2), t + timedelta(hours=2, minutes=5), True)]


def test_a_device_clock_ahead_does_not_split_a_compliance_episode(db, subjects, published):
    """A quiet compliance alarm ends at the last receipt, which a device clock ahead dates
    before its last fix: still the alarm's own episode, not a past one."""
    t = clock.now() - timedelta(minutes=30)
    s1 = subjects[0]
    _apply([_event(EventKind.open, AlarmType.compliance, s1, t)])
    ahead = _event(EventKind.close, AlarmType.compliance, s1, t, ended_at=t - timedelta(seconds=3))
    _apply([ahead])
    db.expire_all()
    (row,) = db.execute(select(Alarm)).scalars()
    assert row.episode_end == t - timedelta(seconds=3) and not row.past_episode
