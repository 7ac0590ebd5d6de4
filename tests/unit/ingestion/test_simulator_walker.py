"""The simulator's movement model: pure, seeded, inside 临淄区 unless a violation is scripted."""

from __future__ import annotations

import random

import shapely

from zhijiao.demo.simulator import ALARM_LOW_BATTERY, ALARM_SOS, BATTERY_ITEM, CodeBook, District, Walker, report_of
from zhijiao.ingestion.protocols.jt808.codec import LocationReport
from zhijiao.core import clock

DISTRICT = District()


def _walker(seed: int = 1) -> Walker:
    return Walker(DISTRICT.towns[seed % len(DISTRICT.towns)], DISTRICT, random.Random(seed))


def _inside(s) -> bool:
    return bool(shapely.contains_xy(DISTRICT.boundary, s.lon, s.lat))


def test_a_day_of_ordinary_life_stays_inside_and_moves():
    for seed in range(5):
        w = _walker(seed)
        samples = [w.advance(float(t)) for t in range(0, 86_400, 45)]
        good = [s for s in samples if s.positioned]
        assert all(_inside(s) for s in good), seed  # only a ~300 m cell fix may stray
        assert max(s.speed_kmh for s in samples) > 3  # it went somewhere
        assert 0.01 < sum(not s.positioned for s in samples) / len(samples) < 0.06  # some cell fixes


def test_leaving_the_district_lasts_beyond_the_dwell_and_comes_back():
    w = _walker(3)
    w.advance(0.0)
    assert w.script("leave")
    outside = [not _inside(w.advance(float(t))) for t in range(30, 3 * 3600, 30)]
    first, last = outside.index(True), len(outside) - outside[::-1].index(True)
    assert sum(outside) * 30 >= 600  # ten minutes out, far beyond the two-minute dwell
    assert not any(outside[last:])  # and home again
    assert first < last


def test_sos_exclusion_night_and_battery():
    w = _walker(4)
    w.advance(0.0)
    assert w.script("sos")
    assert [bool(w.advance(float(t)).alarm & ALARM_SOS) for t in range(1, 6)] == [True, True, True, False, False]
    target = (DISTRICT.towns[4][0] + 0.01, DISTRICT.towns[4][1] + 0.012)
    assert w.script("exclusion", exclusion=target)
    near = min(abs(s.lat - target[0]) + abs(s.lon - target[1]) for s in (w.advance(float(t)) for t in range(10, 7200, 20)))
    assert near < 0.002
    assert not w.script("night", now_local_hour=14) and w.script("night", now_local_hour=23)
    w.battery = 14.0
    assert w.advance(8000.0).alarm & ALARM_LOW_BATTERY


def test_report_and_code_book(tmp_path):
    w = _walker(2)
    report = report_of(w.advance(0.0), clock.now().replace(microsecond=0))
    assert isinstance(report, LocationReport) and report.item(BATTERY_ITEM) is not None
    book = CodeBook(tmp_path / "codes.json")
    book.put("13900000001", "abc")
    assert CodeBook(tmp_path / "codes.json").get("13900000001") == "abc"
