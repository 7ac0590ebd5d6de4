"""The command center's screens with NiceGUI's simulated ``User`` (fast, no browser).

The app is the one ``zhijiao serve`` runs (``create_app(with_ui=True)``, the ``user`` fixture of
``conftest.py``) on this test's database: staff log in through the real ``/login`` and NiceGUI's
lifespan starts the process's one fan-out.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from nicegui.testing.user import User
from sqlalchemy import select

import factories as f
from zhijiao.core import clock, events
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.models import Alarm, Device, DeviceBinding, FixRecord
from zhijiao.security.actor import Actor
from zhijiao.security.models import AuditEvent
from zhijiao.ui.command_map import CommandMap

SYSTEM = Actor.system("tests")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Screens run on SQLite; the services under them are tested on both databases."""
    return request.param


async def until(check, timeout: float = 20.0) -> None:  # generous: CI machines are shared
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition not met within {timeout}s")


async def login(user: User, username: str, expect: str = "/command") -> None:
    await user.open(f"/login?next={expect}")
    user.find(marker="login-username").type(username)
    user.find(marker="login-password").type(f.PASSWORD)
    user.find(marker="login-otp").type(f.otp(username))
    user.find(marker="login-submit").click()
    await until(lambda: user.back_history and user.back_history[-1] == expect)


def text_of(user: User, marker: str) -> str:
    (element,) = user.find(marker=marker).elements
    return getattr(element, "content", None) or getattr(element, "text", "")


def with_device(db, subject, ident: str, fixes: list[tuple[float, float, float]]) -> None:
    """A bound bracelet and fixes (minutes ago, lat, lon)."""
    db.info["actor"] = SYSTEM
    device = Device(kind="bracelet", protocol="jt808", ident=ident)
    db.add(device)
    db.flush()
    db.add(DeviceBinding(device_id=device.id, subject_id=subject.id, start_at=clock.now() - timedelta(days=1),
                         bound_by="tests"))
    for minutes, lat, lon in fixes:
        t = clock.now().replace(microsecond=0) - timedelta(minutes=minutes)
        db.add(FixRecord(device_id=device.id, subject_id=subject.id, fix_time=t, received_at=t, lat=lat, lon=lon))
    db.commit()


@pytest.fixture
def world(db):
    a, b = f.office(db, name="闻韶司法所"), f.office(db, name="雪宫司法所")
    officer_a = f.staff(db, "office_officer", a, display_name="王所员")
    officer_b = f.staff(db, "office_officer", b, display_name="李所员")
    s1 = f.subject(db, a, name="张三丰", status="under_correction", supervision_level="strict",
                   responsible_staff_id=officer_a.id)
    minor = f.subject(db, a, name="赵小明", status="under_correction", is_minor=True,
                      responsible_staff_id=officer_a.id)
    s3 = f.subject(db, b, name="钱多多", status="under_correction", responsible_staff_id=officer_b.id)
    # s1 walks for 40 minutes with a 10-minute stop in the middle
    walk = [(60 - i, 36.80 + 0.0012 * i, 118.30) for i in range(15)]
    walk += [(45 - i, 36.818 + 0.00001 * (i % 2), 118.30) for i in range(11)]
    walk += [(34 - i, 36.818 + 0.0012 * i, 118.30) for i in range(1, 15)]
    with_device(db, s1, "13900000001", walk)
    with_device(db, minor, "13900000002", [(1, 36.83, 118.31)])
    with_device(db, s3, "13900000003", [(1, 36.81, 118.32)])
    return {"a": a, "b": b, "officer_a": officer_a, "officer_b": officer_b, "s1": s1, "minor": minor, "s3": s3,
            "operator": f.staff(db, "operator", display_name="高值班"), "bureau": f.staff(db, "bureau_officer")}


def raise_alarm(db, subject, type_: str = "sos") -> Alarm:
    db.info["actor"] = SYSTEM
    return alarm_service.raise_alarm(db_session=db, subject_id=subject.id, type=type_, at=clock.now(), lat=36.83,
                                     lon=118.31)


async def test_big_screen_pushes_alarms_and_the_desk_handles_them(user: User, db, world) -> None:
    from zhijiao.checkins.models import CheckIn

    db.info["actor"] = SYSTEM
    db.add(CheckIn(subject_id=world["s1"].id, source="kiosk", at=clock.now(), matched=True, reason="人脸比对通过",
                   actor_name="kiosk"))
    world["s3"].correction_start_date = clock.today_local() - timedelta(days=40)  # due: a month without one
    db.commit()
    await user.open("/command")  # not logged in: the login page
    await user.should_see(marker="login-username")
    await login(user, world["operator"].username)
    await user.should_see("今日概况")
    # the minor's file is open to its officer only: counted apart, as on the home page and the list
    await until(lambda: text_of(user, "stat-subjects_total") == "2")
    assert text_of(user, "hidden-note") == "另有 1 名未成年人档案仅责任人可见，未计入在册人数"
    assert text_of(user, "stat-devices_online").startswith("2<small>/ 3")  # s1 last seen 20 minutes ago
    assert text_of(user, "stat-checkins").startswith("1<small>/ 2")  # s1 done; s3 due, not done
    (cmap,) = user.find(kind=CommandMap).elements
    labels = {r[0]: r[6] for r in cmap.props["rows"]}
    assert labels == {world["s1"].id: "张三丰", world["minor"].id: "赵某", world["s3"].id: "钱多多"}
    assert "赵小明" not in str(cmap.props)
    await user.should_see("暂无未处置告警")

    alarm = raise_alarm(db, world["s1"])  # the pipeline would do this; the screen is not reloaded
    await user.should_see(marker=f"alarm-{alarm.id}", retries=40)
    await until(lambda: user.notify.contains("新告警：SOS 求助"))
    assert text_of(user, "map-alarmed") == "1"
    # a position pushed through the event stream reaches the map as a delta
    events.publish("positions", {"fixes": [{"subject_id": world["s3"].id, "device_id": 3, "lat": 36.9, "lon": 118.4,
                                            "t": clock.now().isoformat(), "acc": 5, "flags": 0, "battery": 50}]})
    sent: list[str] = []
    original = user.client.run_javascript
    user.client.run_javascript = lambda code, **kw: (sent.append(code), original(code, **kw))[1]
    await until(lambda: any('"apply"' in c and "36.9" in c for c in sent), timeout=3)
    assert not any(str(world["s1"].id) + ", 36.8" in c for c in sent if '"apply"' in c)  # only what changed

    user.find(marker=f"desk-{alarm.id}").click()
    await until(lambda: user.back_history[-1] == f"/command/alarms/{alarm.id}")
    await user.should_see("SOS 求助")
    await user.should_see(content="139****5678")
    await user.should_see(content="王所员")
    user.find(marker="act-close").click()
    user.find(marker="close-confirm").click()
    await until(lambda: user.notify.contains("不能执行“关闭”"))  # 409 as a Chinese notification
    user.find(marker="act-acknowledge").click()
    await until(lambda: "已接警" in text_of(user, "desk-status"))
    user.find(marker="act-verify").click()
    await until(lambda: user.notify.contains("核查须选择结论"))  # 422
    (verdict,) = user.find(marker="verdict").elements
    assert verdict.options == {"confirmed": "属实", "false_alarm": "误报"}
    with user:
        verdict.value = "false_alarm"
    user.find(marker="verify-note").type("电话联系本人，在家，设备误报")
    user.find(marker="act-verify").click()
    await until(lambda: "已核查" in text_of(user, "desk-status"))
    user.find(marker="act-close").click()
    user.find(marker="close-confirm").click()
    await until(lambda: "已关闭" in text_of(user, "desk-status"))
    await user.should_see("误报：电话联系本人，在家，设备误报")
    await user.should_see("接警 · 高值班")  # the person, not the account (issue 19)

    db.expire_all()
    db.info["actor"] = SYSTEM
    stored = db.get(Alarm, alarm.id)
    assert (stored.status, stored.verdict, stored.acknowledged_by) == ("closed", "false_alarm",
                                                                      world["operator"].username)
    access = db.execute(select(AuditEvent).where(AuditEvent.action == "view_track")).scalars().all()
    assert [a.object_id for a in access] == [str(world["s1"].id)]  # reading the track was recorded


async def test_operator_takes_a_minors_alarm_on_a_restricted_desk(user: User, db, world) -> None:
    alarm = raise_alarm(db, world["minor"])
    await login(user, world["operator"].username, f"/command/alarms/{alarm.id}")
    await user.should_see(marker="desk-restricted")
    card = text_of(user, "desk-subject")
    assert "赵某" in card and "王所员" in card and "闻韶司法所" in card
    await user.should_not_see("赵小明")
    await user.should_not_see(content="139****5678")
    await user.should_not_see(marker="act-close")
    await user.should_not_see(marker="act-verify")
    user.find(marker="act-acknowledge").click()
    await until(lambda: "已接警" in text_of(user, "desk-status"))
    db.expire_all()
    db.info["actor"] = SYSTEM
    assert db.get(Alarm, alarm.id).acknowledged_by == world["operator"].username
    access = db.execute(select(AuditEvent).where(AuditEvent.action == "view_track")).scalars().all()
    assert access == []  # no track was read


async def test_office_officer_sees_only_their_office(user: User, db, world) -> None:
    await login(user, world["officer_a"].username)
    (cmap,) = user.find(kind=CommandMap).elements
    assert {r[0] for r in cmap.props["rows"]} == {world["s1"].id, world["minor"].id}
    mine, theirs = raise_alarm(db, world["minor"], "tamper"), raise_alarm(db, world["s3"], "sos")
    await user.should_see(marker=f"alarm-{mine.id}", retries=40)
    await user.should_not_see(marker=f"alarm-{theirs.id}")
    await user.open(f"/command/alarms/{theirs.id}")
    await user.should_see(marker="desk-error")
    await user.open("/command/duty")
    await user.should_see("闻韶司法所")
    await user.should_not_see("雪宫司法所")
    await user.open("/command/video")
    await user.should_see(marker="video-empty")
    await user.should_see(marker="rollcalls-empty")
    events.publish("rollcalls", {"id": "rc-1", "subject_id": world["minor"].id, "status": "ringing"})
    events.publish("rollcalls", {"id": "rc-2", "subject_id": world["s3"].id, "status": "ringing"})
    await user.should_see(marker="rollcall", retries=40)
    assert len(user.find(marker="rollcall").elements) == 1
    await user.should_see("赵某 · 闻韶司法所")


async def test_duty_drill_down_cameras_and_replay(user: User, db, world) -> None:
    db.info["actor"] = SYSTEM
    old = raise_alarm(db, world["s1"], "left_permitted_area")
    old.opened_at = clock.now() - timedelta(minutes=45)  # not acknowledged in time
    db.commit()
    await login(user, world["bureau"].username, "/command/duty")
    await user.should_see(marker=f"duty-office-{world['a'].id}")
    user.find(marker=f"duty-office-{world['a'].id}").click()
    await user.should_see(marker=f"duty-officer-{world['officer_a'].id}")
    user.find(marker=f"count-alarms_overdue-{world['a'].id}-0").trigger("click.stop")
    await user.should_see(marker="duty-items")
    await user.should_see("张三丰")
    await user.should_see("越界（超时未接警）")

    await user.open("/command/video")
    user.find(marker="camera-add").click()
    user.find(marker="camera-name").type("指挥中心 1 号机")
    user.find(marker="camera-url").type("http://10.0.0.5/live/1.m3u8")
    user.find(marker="camera-save").click()
    await user.should_see("指挥中心 1 号机")
    await user.should_see("信号源：HLS")

    await user.open(f"/command/replay?subject_id={world['s1'].id}")
    await until(lambda: "个定位点" in text_of(user, "replay-summary"))
    summary = text_of(user, "replay-summary")
    assert summary.startswith("40 个定位点") and "停留 1 处" in summary
    await user.should_see(marker="mark-stop")
    slider = user.find(marker="replay-slider").elements.pop()
    user.find(marker="replay-play").click()
    await until(lambda: (slider.value or 0) > 0, timeout=3)
    user.find(marker="replay-play").click()  # pause
    user.find(marker="mark-stop").click()
    await until(lambda: slider.value == 15)  # the first fix of the stop
    assert text_of(user, "replay-clock").count(":") == 2


async def test_the_big_screen_runs_on_the_frozen_clock(user: User, db, world) -> None:
    later = clock.now().replace(microsecond=0) + timedelta(hours=1)
    with clock.frozen(later):  # an hour on, every fix of the world is older than ten minutes
        await login(user, world["operator"].username)
        (cmap,) = user.find(kind=CommandMap).elements
        assert cmap.props["base"]["now"] == later.timestamp()
        assert len(cmap.props["rows"]) == 3
        await user.should_see(marker="map-online")
        assert text_of(user, "map-online") == "0"
