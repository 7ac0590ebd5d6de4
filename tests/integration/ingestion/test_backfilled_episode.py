"""A backfilled episode while an alarm of the same type is open (issue 20 item 10): the bracelet
over real TCP enters an exclusion zone (an alarm opens), then uploads (0x0704 补传) five minutes
inside the zone three hours earlier.  The open alarm stays open; the old episode is an alarm of
its own, retrospective, listed on the desk and counted; on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

import factories as f
from zhijiao.core import clock
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import LocationReport, Version
from zhijiao.ingestion.runtime import Ingestion
from zhijiao.monitoring.models import Alarm
from zhijiao.security.actor import Actor

IDENT = "13900002222"
ZONE = {"type": "Polygon", "coordinates": [[[118.31, 36.81], [118.33, 36.81], [118.33, 36.83], [118.31, 36.83],
                                            [118.31, 36.81]]]}
INSIDE = (36.82, 118.32)
OUTSIDE = (36.90, 118.45)


def _setup(client, db):
    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    leader = f.staff(db, "leader")
    subject = f.subject(db, office, status="under_correction", correction_start_date=clock.today_local())
    h = f.login(client, officer.username)
    device = client.post("/api/v1/devices", json={"kind": "bracelet", "protocol": "jt808", "ident": IDENT},
                         headers=h).json()
    assert client.post(f"/api/v1/subjects/{subject.id}/devices", json={"device_id": device["id"]},
                       headers=h).status_code == 201
    today = clock.today_local()
    r = client.post(f"/api/v1/subjects/{subject.id}/positioning-orders", headers=f.login(client, leader.username),
                    json={"trigger": "left_without_approval", "start_date": (today - timedelta(days=1)).isoformat(),
                          "end_date": (today + timedelta(days=30)).isoformat(), "reason": "未经批准离开临淄区"})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/zones", json={"name": "禁止进入区域", "kind": "exclusion", "geometry": ZONE,
                                           "subject_id": subject.id}, headers=h)
    assert r.status_code == 201, r.text
    return subject, h


def _report(lat_lon, when) -> LocationReport:
    return LocationReport.build(lat=lat_lon[0], lon=lat_lon[1], time=when, speed_kmh=3.0, satellites=9)


def test_a_backfilled_episode_is_its_own_alarm_and_the_open_one_stays_open(client, db):
    subject, h = _setup(client, db)
    now = clock.now().replace(microsecond=0)
    live = [_report(OUTSIDE, now - timedelta(minutes=8))] + [
        _report(INSIDE, now - timedelta(minutes=7) + timedelta(seconds=30 * i)) for i in range(13)]
    old_start = now - timedelta(hours=3)
    old = ([_report(OUTSIDE, old_start - timedelta(minutes=1))]
           + [_report(INSIDE, old_start + timedelta(seconds=30 * i)) for i in range(11)]  # five minutes inside
           + [_report(OUTSIDE, old_start + timedelta(minutes=5, seconds=30 * i)) for i in range(1, 6)])

    async def scenario():
        ingestion = Ingestion(jt808_port=0, host="127.0.0.1")
        await ingestion.start()
        try:
            async with Jt808Client("127.0.0.1", ingestion.gateway.port, IDENT, version=Version.V2013) as c:
                reg = await c.register()
                assert (await c.authenticate(reg.auth_code)).result == 0
                for r in live:
                    assert (await c.send_location(r)).result == 0
                await ingestion.pipeline.drain()
                db.info["actor"] = Actor.system("test")
                db.expire_all()
                opened = db.execute(select(Alarm)).scalars().all()
                assert [(a.type, a.status) for a in opened] == [("entered_exclusion_zone", "open")]
                assert (await c.send_batch(old, backfill=True)).result == 0
                await ingestion.pipeline.drain()
                assert (await c.send_batch(old, backfill=True)).result == 0  # resent: nothing new
            await ingestion.pipeline.drain()
        finally:
            await ingestion.stop()

    asyncio.run(scenario())
    db.info["actor"] = Actor.system("test")
    db.expire_all()
    alarms = db.execute(select(Alarm).order_by(Alarm.episode_start)).scalars().all()
    assert len(alarms) == 2, [(a.episode_start, a.episode_end, a.status) for a in alarms]
    past, current = alarms
    # the later episode: still open, still in breach
    assert current.status == "open" and current.episode_end is None and not current.retrospective
    assert current.episode_start >= now - timedelta(minutes=8)
    # the backfilled one: its own alarm, 事后补报, with its own start and end, to be handled
    assert past.retrospective and past.status == "open"
    assert abs(past.episode_start - old_start) <= timedelta(minutes=1)
    assert past.episode_end is not None and past.episode_end - past.episode_start >= timedelta(minutes=4)
    assert past.episode_end < old_start + timedelta(minutes=7)
    # listed through the API and counted in the statistics
    rows = client.get("/api/v1/alarms", params={"subject_id": subject.id}, headers=h).json()
    listed = rows["items"] if isinstance(rows, dict) else rows
    assert {a["id"] for a in listed} == {past.id, current.id}
    assert [a["retrospective"] for a in sorted(listed, key=lambda a: a["id"] != past.id)] == [True, False]
    stats = client.get("/api/v1/command/stats", headers=h).json()
    assert stats["alarms_open"] == 2 and stats["alarms_opened_today"] == 2
    breakdown = client.get("/api/v1/command/alarm-breakdown", params={"days": 1}, headers=h).json()
    assert {c["key"]: c["count"] for c in breakdown["by_type"]} == {"entered_exclusion_zone": 2}
    # the alarm desk shows it as its own, with its own times
    from zhijiao.ui.command_desk import alarm_view

    db.info["actor"] = Actor.system("test")
    view = alarm_view(db, past.id)
    assert view["retrospective"] and view["past_episode"] and view["episode_end"] == past.episode_end
    # handled on its own: closing it leaves the later alarm open
    for action in ({"action": "acknowledge"}, {"action": "verify", "verdict": "confirmed", "note": "轨迹属实"},
                   {"action": "close"}):
        r = client.post(f"/api/v1/alarms/{past.id}/actions", json=action, headers=h)
        assert r.status_code == 200, r.text
    db.expire_all()
    assert db.get(Alarm, current.id).status == "open" and db.get(Alarm, past.id).status == "closed"
