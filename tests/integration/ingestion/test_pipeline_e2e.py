"""Bracelet → real TCP gateway → store → rules → alarms, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

import factories as f
from zhijiao.core import clock, events, topics
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import LocationReport, Version
from zhijiao.ingestion.runtime import Ingestion
from zhijiao.monitoring.models import Alarm, FixRecord
from zhijiao.security.actor import Actor

SQUARE = {"type": "Polygon", "coordinates": [[[118.30, 36.80], [118.34, 36.80], [118.34, 36.84], [118.30, 36.84],
                                              [118.30, 36.80]]]}
INSIDE = (36.82, 118.32)
OUTSIDE = (36.90, 118.45)  # ~12 km away


@pytest.fixture
def setup(client, db):
    office = f.office(db)
    officer = f.staff(db, "office_officer", office)
    leader = f.staff(db, "leader")
    subject = f.subject(db, office, status="under_correction", correction_start_date=clock.today_local())
    h = f.login(client, officer.username)
    device = client.post("/api/v1/devices", json={"kind": "bracelet", "protocol": "jt808", "ident": "13900001111"},
                         headers=h).json()
    assert client.post(f"/api/v1/subjects/{subject.id}/devices", json={"device_id": device["id"]}, headers=h).status_code == 201
    today = clock.today_local()
    r = client.post(f"/api/v1/subjects/{subject.id}/positioning-orders", headers=f.login(client, leader.username),
                    json={"trigger": "left_without_approval", "start_date": today.isoformat(),
                          "end_date": (today + timedelta(days=30)).isoformat(), "reason": "未经批准离开临淄区"})
    assert r.status_code == 201, r.text
    assert client.post("/api/v1/zones", json={"name": "活动范围", "kind": "permitted", "geometry": SQUARE,
                                              "subject_id": subject.id}, headers=h).status_code == 201
    return {"subject": subject, "device": device, "db": db}


def _report(lat_lon, when, **kw) -> LocationReport:
    return LocationReport.build(lat=lat_lon[0], lon=lat_lon[1], time=when, **kw)


async def _run(scenario):
    ingestion = Ingestion(jt808_port=0, host="127.0.0.1")
    await ingestion.start()
    try:
        async with Jt808Client("127.0.0.1", ingestion.gateway.port, "13900001111", version=Version.V2013) as c:
            await scenario(c, ingestion)
        await ingestion.pipeline.drain()
    finally:
        await ingestion.stop()
    return ingestion


def _count(db, model, **where):
    db.info["actor"] = Actor.system("test")
    db.expire_all()
    stmt = select(func.count()).select_from(model)
    for k, v in where.items():
        stmt = stmt.where(getattr(model, k) == v)
    return db.execute(stmt).scalar_one()


def test_register_auth_store_and_alarm(setup):
    now = clock.now().replace(microsecond=0)

    async def scenario(c: Jt808Client, ing: Ingestion):
        early = await c.send_location(_report(OUTSIDE, now - timedelta(minutes=4)))
        assert early.result == 1  # before authentication: refused, not stored
        reg = await c.register()
        assert reg.result == 0 and reg.auth_code
        assert (await c.authenticate(reg.auth_code)).result == 0
        again = await c.register()
        assert again.result == 3 and not again.auth_code  # a second registration gets no new code
        for minutes in (3.5, 3, 2.5, 2, 1.5, 1):
            ack = await c.send_location(_report(OUTSIDE, now - timedelta(minutes=minutes)))
            assert ack.result == 0
        # a resent fix is acknowledged again but stored once
        assert (await c.send_location(_report(OUTSIDE, now - timedelta(minutes=1)))).result == 0

    asyncio.run(_run(scenario))
    db = setup["db"]
    assert _count(db, FixRecord) == 6
    alarms = db.execute(select(Alarm)).scalars().all()
    assert [(a.type, a.status, a.retrospective) for a in alarms] == [("left_permitted_area", "open", False)]


def test_wrong_auth_code_is_refused(setup):
    async def scenario(c: Jt808Client, ing: Ingestion):
        await c.register()
        assert (await c.authenticate("not-the-code")).result == 1
        assert (await c.send_location(_report(INSIDE, clock.now()))).result == 1

    asyncio.run(_run(scenario))
    assert _count(setup["db"], FixRecord) == 0


def test_backfill_raises_one_retrospective_alarm(setup):
    now = clock.now().replace(microsecond=0)

    async def scenario(c: Jt808Client, ing: Ingestion):
        reg = await c.register()
        await c.authenticate(reg.auth_code)
        assert (await c.send_location(_report(INSIDE, now - timedelta(minutes=1)))).result == 0
        # an hour in a dead zone, uploaded later as 补传: 30 fixes outside
        late = [_report(OUTSIDE, now - timedelta(hours=2) + timedelta(minutes=2 * i)) for i in range(30)]
        assert (await c.send_batch(late, backfill=True)).result == 0
        assert (await c.send_batch(late, backfill=True)).result == 0  # resent: no second alarm

    asyncio.run(_run(scenario))
    db = setup["db"]
    assert _count(db, FixRecord) == 31
    alarms = db.execute(select(Alarm)).scalars().all()
    assert len(alarms) == 1
    assert alarms[0].type == "left_permitted_area" and alarms[0].retrospective is True


def test_device_alarm_bits_become_alarms(setup):
    now = clock.now().replace(microsecond=0)

    async def scenario(c: Jt808Client, ing: Ingestion):
        reg = await c.register()
        await c.authenticate(reg.auth_code)
        await c.send_location(_report(INSIDE, now - timedelta(seconds=30), alarm=1 << 0))  # SOS
        await c.send_location(_report(INSIDE, now - timedelta(seconds=20), alarm=1 << 15))  # tamper

    asyncio.run(_run(scenario))
    types = {a.type for a in setup["db"].execute(select(Alarm)).scalars()}
    assert types == {"sos", "tamper"}


def test_an_approved_leave_suspends_the_area_rule(client, setup):
    """社区矫正法 第二十七条: away on an approved leave is not leaving without approval."""
    db, subject = setup["db"], setup["subject"]
    office = db.get(type(subject.office), subject.office_id)
    asker, approver = (f.login(client, f.staff(db, "office_officer", office).username) for _ in range(2))
    today = clock.today_local()
    db.info["actor"] = Actor.system("test")
    db.get(type(subject), subject.id).correction_end_date = today + timedelta(days=180)  # the form needs it
    db.commit()
    r = client.post(f"/api/v1/subjects/{subject.id}/leave-requests", headers=asker, json={
        "start": today.isoformat(), "end": (today + timedelta(days=2)).isoformat(),
        "destination": "山东省济南市历下区", "reason": "探望住院的母亲"})
    assert r.status_code == 201, r.text
    leave_id = r.json()["id"]
    heard: list[dict] = []
    off = events.on(topics.DIRECTORY, heard.append)  # a running pipeline reloads its rule context on it
    try:
        r = client.post(f"/api/v1/leave-requests/{leave_id}/decisions", headers=approver,
                        json={"decision": "approve", "note": "同意，按时销假"})
    finally:
        off()
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert {"subject_id": subject.id, "leave_id": leave_id} in heard
    now = clock.now().replace(microsecond=0)

    async def scenario(c: Jt808Client, ing: Ingestion):
        reg = await c.register()
        await c.authenticate(reg.auth_code)
        for minutes in (4, 3, 2, 1):
            assert (await c.send_location(_report(OUTSIDE, now - timedelta(minutes=minutes)))).result == 0

    asyncio.run(_run(scenario))
    assert _count(db, FixRecord) == 4
    assert _count(db, Alarm) == 0


def test_positions_reach_a_live_map_listener_as_epoch_times(setup):
    """The command center's live map hears every evaluated fix (its time in epoch seconds); a
    process where nobody listens builds nothing, and stores and evaluates all the same."""
    now = clock.now().replace(microsecond=0)
    heard: list[dict] = []

    async def scenario(c: Jt808Client, ing: Ingestion):
        reg = await c.register()
        assert (await c.authenticate(reg.auth_code)).result == 0
        assert (await c.send_location(_report(INSIDE, now - timedelta(minutes=2)))).result == 0
        await ing.pipeline.drain()
        off = events.on(topics.POSITIONS, heard.append)
        try:
            assert (await c.send_location(_report(INSIDE, now - timedelta(minutes=1)))).result == 0
            await ing.pipeline.drain()
        finally:
            off()

    asyncio.run(_run(scenario))
    fixes = [fx for payload in heard for fx in payload["fixes"]]
    assert [(fx["subject_id"], fx["t"]) for fx in fixes] == [
        (setup["subject"].id, (now - timedelta(minutes=1)).timestamp())]
    assert fixes[0]["lat"] == pytest.approx(INSIDE[0], abs=1e-5) and fixes[0]["device_id"] == setup["device"]["id"]
    assert _count(setup["db"], FixRecord) == 2
