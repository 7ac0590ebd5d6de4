"""A backfilled episode recorded as its own alarm (issue 20 item 10) on the alarm desk, with
NiceGUI's simulated ``User``: its own times, the 事后补报 banner, handled on its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from nicegui.testing.user import User

import factories as f
from tests.ui.test_command_pages import SYSTEM, login, text_of, until
from zhijiao.core import clock
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.models import Alarm
from zhijiao.monitoring.rule_types import AlarmType, EventKind, RuleEvent


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def _event(kind: EventKind, subject_id: int, at, **kw) -> RuleEvent:
    return RuleEvent(kind=kind, alarm_type=AlarmType.entered_exclusion_zone, subject_id=subject_id, started_at=at,
                     last_at=at, confirmed_at=at, fix_time=at, details={"lat": 36.82, "lon": 118.32}, **kw)


async def test_the_desk_shows_a_past_episode_as_its_own_alarm(user: User, db) -> None:
    office = f.office(db, name="闻韶司法所")
    officer = f.staff(db, "office_officer", office, display_name="王所员")
    subject = f.subject(db, office, name="张三丰", status="under_correction", responsible_staff_id=officer.id)
    now = clock.now().replace(microsecond=0)
    old = now - timedelta(hours=3)
    db.info["actor"] = SYSTEM
    alarm_service.apply_rule_events(db_session=db, rule_events=[_event(EventKind.open, subject.id, now)])
    alarm_service.apply_rule_events(db_session=db, rule_events=[
        _event(EventKind.close, subject.id, old, ended_at=old + timedelta(minutes=5))])
    past = db.query(Alarm).filter(Alarm.past_episode.is_(True)).one()
    await login(user, officer.username, f"/command/alarms/{past.id}")
    await user.should_see(marker="desk-past-episode")
    banner = text_of(user, "desk-past-episode")
    assert "事后补报" in banner and clock.format_local(old, "%H:%M") in banner
    assert clock.format_local(old + timedelta(minutes=5), "%H:%M") in banner
    user.find(marker="act-acknowledge").click()
    await until(lambda: "已接警" in text_of(user, "desk-status"))
