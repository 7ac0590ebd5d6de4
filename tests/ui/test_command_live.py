"""The command center's fan-out and replay helpers, without a database or a browser."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from zhijiao.command import replay
from zhijiao.command.live import LiveHub, SubjectMeta
from zhijiao.core import clock
from zhijiao.monitoring.geofence import Circle, Zone, ZoneKind, linzi_boundary

T0 = datetime(2026, 5, 4, 2, 0, tzinfo=UTC)


def _hub() -> LiveHub:
    hub = LiveHub()
    hub.meta = {1: SubjectMeta(10, "strict", "张三", "under_correction", 100),
                2: SubjectMeta(10, "ordinary", "李*", "under_correction", 100),  # a minor: masked upstream
                3: SubjectMeta(20, "lenient", "王五", "under_correction", 200)}
    hub.offices = {10: "闻韶司法所", 20: "雪宫司法所"}
    return hub


def _fix(sid: int, minutes: float, lat: float = 36.82, lon: float = 118.30, flags: int = 0) -> dict:
    return {"subject_id": sid, "device_id": sid, "t": (T0 + timedelta(minutes=minutes)).isoformat(), "lat": lat,
            "lon": lon, "acc": 10.0, "flags": flags, "battery": 80}


def _alarm(aid: int, sid: int, change: str, status: str, severity: int = 1) -> dict:
    return {"change": change, "id": aid, "subject_id": sid, "type": "left_permitted_area", "label": "越界",
            "severity": severity, "status": status, "retrospective": False, "opened_at": T0.isoformat(),
            "last_at": T0.isoformat(), "lat": 36.9, "lon": 118.4}


def test_fan_out_is_scoped_and_sends_only_what_changed():
    hub = _hub()
    district, office_a, office_b = hub.connect(None), hub.connect(10), hub.connect(20)
    hub.apply_positions({"fixes": [_fix(1, 0), _fix(2, 0), _fix(3, 0)]})
    assert {r[0] for r in hub.take(district).rows} == {1, 2, 3}
    assert {r[0] for r in hub.take(office_a).rows} == {1, 2}
    assert [r[0] for r in hub.take(office_b).rows] == [3]
    # nothing changed: nothing to send
    assert hub.take(district).empty and hub.take(office_a).rows == []

    hub.apply_positions({"fixes": [_fix(1, 1, lat=36.83), _fix(1, 0.5, lat=99.0),  # a late fix never wins
                                   _fix(2, 2, lat=37.5, flags=2)]})  # nor a noisy one
    (row,) = hub.take(office_a).rows
    assert row[:4] == [1, 36.83, 118.3, 0] and row[4] == 0 and row[6] == "张三"
    assert hub.take(office_b).empty and [r[0] for r in hub.take(district).rows] == [1]
    assert [r[6] for r in hub.snapshot(office_a)] == ["张三", "李*"]

    # a subject the hub does not know yet goes to nobody until its office is known
    hub.apply_positions({"fixes": [_fix(99, 3)]})
    assert 99 in hub._unknown and hub.take(district).rows == [] and hub.take(office_a).rows == []
    hub.disconnect(office_b)
    assert hub.viewer_count == 2


def test_alarms_reach_the_right_queues_with_their_severity():
    hub = _hub()
    district, office_a, office_b = hub.connect(None), hub.connect(10), hub.connect(20)
    hub.apply_positions({"fixes": [_fix(1, 0), _fix(3, 0)]})
    for v in (district, office_a, office_b):
        hub.take(v)
    hub.apply_alarm(_alarm(7, 1, "opened", "open", severity=1))
    hub.apply_alarm(_alarm(8, 3, "opened", "open", severity=3))
    d = hub.take(office_a)
    assert d.alarms_changed and [a.id for a in d.fresh_alarms] == [7] and d.rows[0][4] == 1
    assert [a.id for a in hub.open_alarms(district)] == [7, 8]  # most severe first
    assert [a.id for a in hub.open_alarms(office_b)] == [8]
    hub.take(office_b)
    hub.apply_alarm(_alarm(8, 3, "escalated", "open", severity=3))
    d = hub.take(office_b)
    assert d.alarms_changed and d.fresh_alarms == [] and 8 in d.alarm_ids and hub.alarms[8].escalated
    assert hub.take(office_a).empty  # not its office
    hub.apply_alarm(_alarm(7, 1, "acknowledge", "acknowledged"))
    assert hub.alarms[7].status == "acknowledged"
    hub.apply_alarm(_alarm(7, 1, "close", "closed"))
    assert 7 not in hub.alarms and hub.severity_of(1) == 0
    assert hub.take(office_a).rows[0][4] == 0  # the dot loses its alarm colour


def test_rollcalls_and_online_counts():
    hub = _hub()
    office_a, office_b = hub.connect(10), hub.connect(20)
    hub.apply_rollcall({"id": "rc1", "subject_id": 1, "status": "ringing"})
    assert hub.take(office_a).rollcalls_changed and not hub.take(office_b).rollcalls_changed
    (rc,) = hub.live_rollcalls(office_a)
    assert rc["subject_label"] == "张三" and rc["office"] == "闻韶司法所"
    assert hub.live_rollcalls(office_b) == []
    now = datetime.now(UTC)
    hub.apply_positions({"fixes": [{**_fix(1, 0), "t": now.isoformat()}, _fix(2, 0)]})
    assert hub.online(office_a) == (1, 2)


async def test_shared_cache_computes_once_for_concurrent_screens():
    hub = _hub()
    calls = []

    def compute() -> int:
        calls.append(1)
        import time

        time.sleep(0.05)
        return 42

    results = await asyncio.gather(*(hub.shared(("stats", "all"), 10.0, compute) for _ in range(5)))
    assert results == [42] * 5 and len(calls) == 1
    assert await hub.shared(("stats", "all"), 10.0, compute) == 42 and len(calls) == 1
    hub.invalidate("stats")
    await hub.shared(("stats", "all"), 10.0, compute)
    assert len(calls) == 2
    with pytest.raises(ZeroDivisionError):
        await hub.shared(("x",), 1.0, lambda: 1 / 0)


def test_stops_need_five_minutes_within_fifty_metres():
    t0 = T0.timestamp()
    pts = [replay.TrackPoint(t0 + 60 * i, 36.80 + 0.001 * i, 118.30) for i in range(5)]  # moving ~110 m/min
    pts += [replay.TrackPoint(t0 + 300 + 60 * i, 36.805 + 0.00005 * (i % 2), 118.30) for i in range(8)]  # 7 min
    pts += [replay.TrackPoint(t0 + 780 + 60 * i, 36.81 + 0.001 * i, 118.30) for i in range(3)]
    pts.insert(9, replay.TrackPoint(t0 + 571, 36.9, 118.4, flags=2))  # a noisy jump does not break the stop
    (stop,) = replay.find_stops(pts)
    assert stop.minutes == 7 and abs(stop.lat - 36.805) < 1e-4
    assert replay.find_stops(pts[:9]) == []  # four minutes is not a stop


def test_zone_crossings_are_found_in_order():
    district = linzi_boundary()
    bar = Zone(id=5, kind=ZoneKind.exclusion, geometry=Circle(36.82, 118.30, 100.0), subject_id=1, name="某酒吧")
    t0 = T0.timestamp()
    path = [(36.818, 118.30), (36.8199, 118.30), (36.82, 118.30), (36.825, 118.30), (36.95, 118.60)]
    pts = [replay.TrackPoint(t0 + 60 * i, lat, lon) for i, (lat, lon) in enumerate(path)]
    crossings = replay.find_crossings(pts, [district, bar])
    assert [(c.zone_id, c.entered, c.index) for c in crossings] == [(5, True, 1), (5, False, 3), ("linzi", False, 4)]
    assert [c.label for c in crossings] == ["进入禁区：某酒吧", "离开禁区：某酒吧", "离开活动范围：临淄区"]


def test_staleness_and_roll_call_times_follow_the_frozen_clock():
    hub = _hub()
    district = hub.connect(None)
    hub.apply_positions({"fixes": [_fix(1, 0), _fix(3, 0)]})
    with clock.frozen(T0 + timedelta(minutes=5)) as frozen:
        assert hub.online(district) == (2, 2)  # T0 lies months back: the wall clock would say (0, 2)
        frozen.tick(timedelta(minutes=6))
        assert hub.online(district) == (0, 2)  # no fix for more than ten minutes: offline
        hub.apply_rollcall({"id": "rc-1", "subject_id": 1, "status": "ringing"})
        assert hub.rollcalls["rc-1"]["_at"] == (T0 + timedelta(minutes=11)).timestamp()
