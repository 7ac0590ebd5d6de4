"""Position rules: what counts as evidence of a run, and how its start and end are dated.

The permitted area is a 1 km circle around home; fixes lie east (and north) of home, so a fix
``east_m`` metres east is ``east_m - 1000`` metres beyond the line.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from monitoring_helpers import HOME, PERMITTED_RADIUS_M, T0, east, fix, run, state, walk

from zhijiao.core.clock import SHANGHAI
from zhijiao.core.fix import FixSource
from zhijiao.ingestion.protocols.jt808.codec import LocationReport, location_to_fix
from zhijiao.monitoring.rule_types import AlarmType, EventKind

LEFT = AlarmType.left_permitted_area
CELL = {"accuracy": 600.0, "source": FixSource.cell}


def at(seconds: float):
    return T0 + timedelta(seconds=seconds)


def seconds(at_: datetime) -> float:
    return (at_ - T0).total_seconds()


def kinds(events) -> list[tuple[EventKind, object]]:
    return [(e.kind, e.fix_time) for e in events]


def test_a_stay_seen_by_two_fixes_alarms_once_the_way_back_completes_the_dwell() -> None:
    """Out at 30 s (between 700 m and 1300 m east), back at 150 s (the same way): two minutes
    outside, though no fix a dwell after the crossing showed it.  The clear fix opens the
    episode, and the next one closes it, ended at the estimated crossing back.  Both crossings
    are taken as the 10 m accuracy allows: out at 28.5 s (the fix before two radii nearer the
    line: 280 m and 310 m), back at 151 s."""
    home = walk(-180, 60, 60, 700)
    events = run(state(), home + [fix(60, 1300), fix(120, 1300), fix(180, 700), fix(240, 700)])
    assert kinds(events) == [(EventKind.open, at(180)), (EventKind.close, at(240))]
    opened, closed = events
    assert seconds(opened.started_at) == pytest.approx(60 * 280 / 590) and opened.last_at == at(120)
    assert opened.details["zones"] == ["area"] and opened.details["max_outside_m"] == pytest.approx(300, abs=1)
    assert closed.ended_at == at(151)


def test_a_shorter_stay_or_an_unproven_one_raises_nothing() -> None:
    home = walk(-180, 60, 60, 700)
    # 100 m out: crossings at 45 s and 135 s, a minute and a half
    assert run(state(), home + [fix(60, 1100), fix(120, 1100), fix(180, 700)]) == []
    # one fix out, however far: nothing proves it was no jump
    assert run(state(), home + [fix(60, 1900), fix(120, 700), fix(180, 700)]) == []


def test_a_multipath_spike_back_inside_does_not_end_the_run() -> None:
    """Outside since ~81 s; at 180 s one fix lands at home, 1.5 km off both neighbours, which
    agree: a spike.  The run goes on, and the fix at 240 s completes the dwell."""
    fixes = walk(-120, 120, 60, 700) + [fix(120, 1500), fix(180, 0), fix(240, 1500), fix(300, 1500)]
    events = run(state(), fixes)
    assert kinds(events)[:1] == [(EventKind.open, at(240))]
    # between 60 s (300 m inside, so perhaps 280 m: two radii) and 120 s (500 m out, perhaps 510 m)
    assert seconds(events[0].started_at) == pytest.approx(60 + 60 * 280 / 790)


def test_a_real_return_home_ends_the_run() -> None:
    """The same, but the subject stays home after 180 s: no spike, the run ended."""
    fixes = walk(-120, 120, 60, 700) + [fix(120, 1500), fix(180, 0), fix(240, 0), fix(300, 0)]
    assert run(state(), fixes) == []


def test_two_jumps_in_a_row_that_disagree_are_taken_back() -> None:
    """At home; at 300 s a fix 2 km east, at 360 s one 2 km north (each plausible at 120-170
    km/h), then home again.  Estimated crossings at 270 s and 390 s would make two minutes
    outside; two jumps that land 2.8 km apart are not a stay, and raise nothing."""
    home = walk(0, 300, 60, 0)
    jumps = [fix(300, 2000), fix(360, 0, north_m=2000)]
    assert run(state(), home + jumps + walk(420, 900, 60, 0)) == []


def test_two_fixes_in_one_place_are_a_stay_not_jumps() -> None:
    home = walk(0, 300, 60, 0)
    events = run(state(), home + [fix(300, 2000), fix(360, 2000)] + walk(420, 900, 60, 0))
    assert kinds(events)[:1] == [(EventKind.open, at(420))]


def test_a_fix_on_the_subjects_course_proves_the_run() -> None:
    """Driving east at 10 m/s, then out of GNSS: the violating fix at 120 s is where the course
    put it, so cell fixes that prove nothing may complete the dwell (at 240 s, two minutes
    after the crossing at 98 s, which the pace of the approach dates), without waiting for the
    next GNSS fix."""
    drive = [fix(-60, -600), fix(0, 0), fix(60, 600), fix(120, 1200)]
    cells = [fix(180, 900, **CELL), fix(240, 900, **CELL), fix(300, 1200)]
    events = run(state(), drive + cells)
    assert kinds(events) == [(EventKind.open, at(240))]
    assert events[0].started_at == at(98)


def test_a_fix_off_the_course_is_not_proof() -> None:
    """The same fixes, but the violating one 1.3 km north of where the course led; or a course
    of one step only (standing, then 600 m: that step may itself be a jump)."""
    drive = [fix(-60, -600), fix(0, 0), fix(60, 600), fix(120, 1200, north_m=1300)]
    cells = [fix(180, 900, **CELL), fix(240, 900, **CELL)]
    assert run(state(), drive + cells) == []
    drive = [fix(-60, 0), fix(0, 0), fix(60, 600), fix(120, 1200)]
    cells = [fix(180, 900, **CELL), fix(240, 900, **CELL)]
    assert run(state(), drive + cells) == []


def test_a_coarse_fix_near_the_line_does_not_date_the_crossing() -> None:
    """A cell fix 10 m inside with 500 m accuracy says little about where the line was crossed:
    the GNSS fix 200 m inside before it does (crossing at 37 s; from the cell fix, which may
    have been across already, it would be 60 s)."""
    fixes = walk(-120, 60, 60, 800) + [fix(60, 990, accuracy=500.0, source=FixSource.cell)]
    events = run(state(), fixes + walk(120, 300, 60, 1400))
    assert seconds(events[0].started_at) == pytest.approx(120 * 180 / 590)
    assert events[0].fix_time == at(180)


def test_a_coarse_fix_dates_the_crossing_once_the_precise_one_is_too_old() -> None:
    """Indoors after an arrival: GNSS 300 m inside at 0 s, two cell fixes that prove nothing,
    then GNSS fixes 300 m out.  At 180 s the GNSS fix before is older than the crossing window;
    the cell fix at 120 s, within its accuracy of the line, may have been across already, as if
    it had been the only fix before: the run starts there and the second violating fix opens
    the episode, not the third."""
    fixes = walk(-60, 60, 60, 700) + [fix(60, 900, **UNSURE_CELL), fix(120, 900, **UNSURE_CELL)]
    events = run(state(), fixes + walk(180, 420, 60, 1300))
    assert kinds(events) == [(EventKind.open, at(240))]
    assert events[0].started_at == at(120)
    # a cell fix itself older than the window dates nothing: the run starts at its first fix
    events = run(state(), walk(-60, 60, 60, 700) + [fix(60, 900, **UNSURE_CELL)] + walk(240, 480, 60, 1300))
    assert kinds(events) == [(EventKind.open, at(360))]
    assert events[0].started_at == at(240)


def test_the_approach_pace_dates_a_crossing_when_the_subject_slows_down() -> None:
    """600 m a minute towards the line, then only 300 m past the last fix: interpolating alone
    puts the crossing at 97 s; the pace of the approach at 78 s (each as early as the 10 m
    accuracy allows); the earlier is taken."""
    fixes = [fix(-60, 200), fix(0, 200), fix(60, 800), fix(120, 1100), fix(180, 1100), fix(240, 1100)]
    events = run(state(), fixes)
    assert events[0].started_at == at(78)
    assert events[0].fix_time == at(240)  # 162 s after it; at 180 s it was 102 s


@pytest.mark.parametrize("pace", [0.0, 100.0])
def test_no_pace_or_a_slow_one_leaves_the_interpolation(pace: float) -> None:
    """Standing, or slower than the last leg: the interpolation (97 s) stands."""
    fixes = [fix(-60, 800 - pace), fix(0, 800 - pace), fix(60, 800), fix(120, 1100), fix(180, 1100), fix(240, 1100)]
    assert seconds(run(state(), fixes)[0].started_at) == pytest.approx(60 + 60 * 180 / 290)


def test_away_when_the_night_begins_counts_from_the_night() -> None:
    """Two kilometres from home at 21:59 and after: absent from 22:00, so the fix at 22:02:30
    (with one before it at the same place) completes the dwell."""
    evening = datetime(2026, 3, 2, 21, 57, 30, tzinfo=SHANGHAI)
    fixes = [fix(s, 2000, start=evening) for s in range(0, 600, 60)]
    events = [e for e in run(state(home=HOME), fixes) if e.alarm_type is AlarmType.night_absence]
    assert kinds(events) == [(EventKind.open, evening + timedelta(seconds=300))]
    assert events[0].started_at == datetime(2026, 3, 2, 22, 0, tzinfo=SHANGHAI)


def test_two_violating_fixes_far_apart_prove_nothing_until_a_third() -> None:
    """Two fixes out, two minutes apart and 2.8 km from each other, off any course: they could
    be two jumps, so the dwell (complete at the second, from the crossing at ~270 s) waits for a
    third that agrees."""
    home = walk(0, 300, 60, 0)
    assert run(state(), home + [fix(300, 2000), fix(420, 0, north_m=2000)]) == []
    events = run(state(), home + [fix(300, 2000), fix(420, 0, north_m=2000), fix(480, 0, north_m=2000)])
    assert kinds(events) == [(EventKind.open, at(480))]


def test_a_spike_during_a_drive_does_not_end_the_run() -> None:
    """Driving east at 10 m/s, out since 98 s; at 180 s one fix lands back home
    (a spike at home: the fix after it is where the course leads), so the run goes on and the fix at
    240 s, two minutes and more after the crossing, opens the episode."""
    drive = [fix(-60, -600), fix(0, 0), fix(60, 600), fix(120, 1200)]
    events = run(state(), drive + [fix(180, 0), fix(240, 2400), fix(300, 3000)])
    assert kinds(events)[:1] == [(EventKind.open, at(240))]
    assert events[0].started_at == at(98)


UNSURE_CELL = {"accuracy": 600.0, "source": FixSource.cell}  # at 900 m: within its accuracy, inside


def test_a_cell_fix_leaning_out_before_the_violating_one_corroborates_it() -> None:
    """At 60 s a cell fix leans out (1100 m, 600 m accuracy); at 120 s a GNSS fix 1300 m out lies
    within it: two ways of measuring agree, so the cell fix at 180 s, which proves nothing
    itself, completes the dwell from the crossing (57 s)."""
    fixes = [fix(-60, 700), fix(0, 700), fix(60, 1100, **CELL), fix(120, 1300), fix(180, 900, **UNSURE_CELL)]
    events = run(state(), fixes)
    assert kinds(events) == [(EventKind.open, at(180))]
    assert seconds(events[0].started_at) == pytest.approx(120 * 280 / 590)


def test_a_leaning_cell_fix_elsewhere_or_before_a_clear_fix_corroborates_nothing() -> None:
    """The same, but the cell fix leans out 1.1 km north (1.7 km from the GNSS fix); or a GNSS
    fix inside came between them."""
    north = [fix(-60, 700), fix(0, 700), fix(60, 0, north_m=1100, **CELL), fix(120, 1300), fix(180, 900, **UNSURE_CELL)]
    assert run(state(), north) == []
    between = [fix(0, 700), fix(40, 1100, **CELL), fix(80, 700), fix(120, 1300)]
    between += [fix(180, 900, **UNSURE_CELL), fix(240, 900, **UNSURE_CELL)]
    assert run(state(), between) == []


def test_a_fix_where_the_course_stopped_short_proves_the_run() -> None:
    """Driving east at 10 m/s (a cell fix at 60 s in between), then stopped 100 m out: the
    violating fix at 120 s lies on the way the course led (to 1.8 km by then), so the cell fix
    after it may complete the dwell, from the crossing the approach dates at 38 s."""
    drive = [fix(-120, -600), fix(-60, 0), fix(0, 600), fix(60, 900, **UNSURE_CELL)]
    events = run(state(), drive + [fix(120, 1100), fix(180, 900, **UNSURE_CELL)])
    assert kinds(events) == [(EventKind.open, at(180))]
    assert events[0].started_at == at(38)
    # stopped 700 m north of that way: no course leads there
    assert run(state(), drive + [fix(120, 1100, north_m=700), fix(180, 900, **UNSURE_CELL)]) == []


def test_a_bracelet_fix_from_too_few_satellites_is_no_evidence_60_m_outside() -> None:
    # Through the codec, as a bracelet reports: five minutes 60 m outside the permitted circle,
    # a fix every 30 s. From 9 satellites that is a violation; from 3 it is a 2-D guess whose
    # 100 m radius covers the line, and nothing opens.
    def bracelet(satellites: int):
        for k in range(11):
            lat, lon = east(PERMITTED_RADIUS_M + 60)
            report = LocationReport.build(lat=lat, lon=lon, time=at(30 * k), satellites=satellites)
            f = location_to_fix(report, device_ident="dev1")
            f.subject_id = 1
            yield f

    assert (EventKind.open, LEFT) in [(e.kind, e.alarm_type) for e in run(state(), bracelet(9))]
    assert run(state(), bracelet(3)) == []
