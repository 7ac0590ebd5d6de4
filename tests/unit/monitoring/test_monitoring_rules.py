"""Position rules: dwell, accuracy radius, noise, leave, schedules, night, hysteresis."""

from __future__ import annotations

import gc
import pickle
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from monitoring_helpers import (
    HOME,
    T0,
    default_index,
    east,
    fix,
    run,
    state,
    walk,
)

from zhijiao.core import geo
from zhijiao.core.clock import SHANGHAI
from zhijiao.core.fix import FixSource
from zhijiao.monitoring.geofence import Circle, Zone, ZoneKind
from zhijiao.monitoring.rule_types import AlarmType, EventKind, Leave, RuleSettings
from zhijiao.monitoring.rules import SubjectRuleState, _local_minute, evaluate_window
from zhijiao.monitoring.zone_index import FixZones

LEFT = AlarmType.left_permitted_area
OUT = 1500.0  # metres east of home: 500 m outside the 1 km permitted circle


def test_settings_defaults_are_the_documented_ones() -> None:
    s = RuleSettings()
    assert (s.dwell_s, s.night_radius_m, s.lost_contact_s, s.low_battery_pct) == (120, 500, 1800, 15)
    assert (s.night_start, s.night_end) == (time(22), time(6))
    assert (s.max_accuracy_m, s.max_speed_kmh) == (1000, 200)


def test_short_excursion_does_not_alarm() -> None:
    fixes = walk(0, 300, 30, 0) + walk(300, 390, 30, OUT) + walk(390, 900, 30, 0)
    assert run(state(), fixes) == []


def test_long_excursion_alarms_at_the_dwell_time() -> None:
    events = run(state(), walk(0, 300, 30, 0) + walk(300, 900, 30, OUT))
    assert [(e.kind, e.alarm_type) for e in events] == [(EventKind.open, LEFT)]
    opened = events[0]
    # the crossing, between the fix at 270 s (1 km inside) and the one at 300 s (500 m out),
    # as early as their 10 m accuracy allows: the one before two radii nearer (980 m), the
    # violating one its radius deeper (510 m)
    assert (opened.started_at - T0).total_seconds() == pytest.approx(270 + 30 * 980 / 1490)
    assert opened.fix_time == T0 + timedelta(seconds=420)  # the first fix a dwell after it
    assert opened.details["max_outside_m"] == pytest.approx(500, abs=1)
    assert opened.details["zones"] == ["area"] and not opened.retrospective


def test_noisy_cell_fix_just_outside_does_not_alarm() -> None:
    """A 200 m cell fix 150 m outside may well be inside: it never counts as outside."""
    cell = walk(0, 3600, 60, 1150, accuracy=None, source=FixSource.cell)
    assert cell[0].effective_accuracy_m == 200.0
    assert run(state(), cell) == []
    # the same place from GNSS is clearly outside
    assert [e.kind for e in run(state(), walk(0, 600, 60, 1150))] == [EventKind.open]


def test_fixes_worse_than_the_accuracy_limit_do_not_trigger() -> None:
    assert run(state(), walk(0, 3600, 60, 5000, accuracy=1500.0)) == []


def test_impossible_jump_is_ignored() -> None:
    # inside, then a multipath jump 3 km away 10 s later (over 1,000 km/h): not counted
    fixes = [fix(0, 0), fix(10, 4000), fix(140, 4000)]
    assert run(state(), fixes) == []
    # without the speed check the jump would have started the dwell and alarmed at 140 s
    lax = SubjectRuleState(state().context, RuleSettings(max_speed_kmh=100_000))
    assert [e.kind for e in run(lax, fixes)] == [EventKind.open]


def test_a_wrong_first_fix_does_not_block_good_ones() -> None:
    st = state()
    run(st, [fix(0, 20_000)])  # accepted: nothing to compare with
    events = run(st, walk(10, 400, 10, OUT))  # two agreeing fixes re-anchor
    assert [e.kind for e in events] == [EventKind.open]
    assert events[0].started_at == T0 + timedelta(seconds=20)  # from the re-anchored fix


def test_hysteresis_closes_only_after_being_back_for_a_while() -> None:
    st = state()
    assert len(run(st, walk(0, 300, 30, OUT))) == 1
    # back for 30 s, then out again: still the same episode
    assert run(st, [fix(300, 0), fix(330, 0), fix(360, OUT)]) == []
    events = run(st, walk(390, 600, 30, 0))
    assert [e.kind for e in events] == [EventKind.close]
    assert events[0].ended_at == T0 + timedelta(seconds=390)
    assert events[0].fix_time == T0 + timedelta(seconds=450)
    assert events[0].started_at == T0


def test_updates_are_throttled() -> None:
    events = run(state(), walk(0, 1800, 30, OUT))
    kinds = [e.kind for e in events]
    assert kinds == [EventKind.open, EventKind.update, EventKind.update]


def test_leave_with_destination_suspends_only_at_the_destination() -> None:
    destination = geo.circle_polygon(*east(5000), 800.0)
    leave = Leave(T0, T0 + timedelta(days=2), destination)
    # at the destination: suspended
    at_destination = walk(0, 1200, 60, 5000)
    assert run(state(leaves=(leave,)), at_destination) == []
    # somewhere else on the same day: an alarm
    elsewhere = walk(0, 1200, 60, -5000)
    assert [e.kind for e in run(state(leaves=(leave,)), elsewhere)][:1] == [EventKind.open]
    # a fix 100 m outside the destination with 200 m accuracy still counts as there
    fuzzy = walk(0, 1200, 60, 5900, accuracy=200.0)
    assert run(state(leaves=(leave,)), fuzzy) == []


def test_leave_without_destination_covers_time_only() -> None:
    leave = Leave(T0, T0 + timedelta(minutes=10))
    events = run(state(leaves=(leave,)), walk(0, 1200, 60, OUT))
    assert [e.kind for e in events] == [EventKind.open]
    assert events[0].started_at > leave.end  # the dwell only starts after the leave


def test_exclusion_zone_needs_depth_beyond_accuracy() -> None:
    bar = Zone("bar", ZoneKind.exclusion, Circle(*east(500), 300.0), subject_id=1)
    index = default_index(bar)
    # 100 m inside with a 200 m cell fix: not enough
    assert run(state(), walk(0, 1800, 60, 300, accuracy=200.0), index) == []
    events = run(state(), walk(0, 1800, 60, 500), index)
    assert [(e.kind, e.alarm_type) for e in events][:1] == [(EventKind.open, AlarmType.entered_exclusion_zone)]
    assert events[0].details["zones"] == ["bar"]
    assert events[0].details["max_depth_m"] == pytest.approx(300, abs=1)


def test_schedule_limited_zone_only_alarms_in_its_hours() -> None:
    nights = ((frozenset(range(7)), time(22, 0), time(6, 0)),)
    bars = Zone("bars", ZoneKind.exclusion, Circle(*east(500), 300.0), 1, schedule=nights)
    index = default_index(bars)
    assert run(state(), walk(0, 3600, 60, 500), index) == []  # noon
    evening = datetime(2026, 3, 2, 21, 50, tzinfo=SHANGHAI)
    fixes = walk(0, 3600, 60, 500, start=evening)
    events = run(state(), fixes, index)
    assert [e.kind for e in events if e.kind is not EventKind.update] == [EventKind.open]
    assert events[0].started_at.astimezone(SHANGHAI).time() == time(22, 0)


def test_night_absence_across_midnight_and_closing_at_dawn() -> None:
    evening = datetime(2026, 3, 2, 21, 0, tzinfo=SHANGHAI)
    st = state(home=HOME)
    # away 2 km from 21:00 to 06:30 the next morning, a fix every 5 min
    fixes = walk(0, 9.5 * 3600, 300, 800, north_m=2000, start=evening)
    events = [e for e in run(st, fixes) if e.alarm_type is AlarmType.night_absence]
    assert [e.kind for e in events if e.kind is not EventKind.update] == [EventKind.open, EventKind.close]
    local = [e.fix_time.astimezone(SHANGHAI) for e in events if e.kind is not EventKind.update]
    assert (local[0].hour, local[0].minute) == (22, 5)  # 22:00 + dwell, at the next fix
    assert (local[1].hour, local[1].minute) == (6, 0)  # dawn ends it
    assert local[1].date() > local[0].date()


def test_night_at_home_with_noise_is_quiet() -> None:
    evening = datetime(2026, 3, 2, 22, 0, tzinfo=SHANGHAI)
    fixes = walk(0, 8 * 3600, 300, 300, accuracy=300.0, start=evening)  # 300 m off, 300 m accuracy
    assert run(state(home=HOME), fixes) == []


def test_night_absence_suspended_by_leave() -> None:
    evening = datetime(2026, 3, 2, 21, 0, tzinfo=SHANGHAI)
    leave = Leave(evening, evening + timedelta(days=1))
    fixes = walk(0, 4 * 3600, 300, 800, north_m=2000, start=evening)
    events = run(state(home=HOME, leaves=(leave,)), fixes)
    assert [e for e in events if e.alarm_type is AlarmType.night_absence] == []


def test_fix_without_fence_information_changes_nothing() -> None:
    st = state()
    events = run(st, walk(0, 300, 30, OUT))
    assert len(events) == 1
    assert st.feed(fix(400, 0), None) == []  # unknown: the episode stays open
    assert [m.alarm_type for m in st.open_episodes()] == [AlarmType.left_permitted_area]
    assert st.feed(fix(430, 0), FixZones(permitted_margin_m=float("nan"))) != []  # no zone applies: closes




def test_an_unsure_fix_completes_the_dwell_only_after_two_violating_ones() -> None:
    cell = {"accuracy": 600.0, "source": FixSource.cell}
    two_then_cell = [fix(0, 0), fix(30, OUT), fix(90, OUT), fix(150, 1200, **cell), fix(210, 1200, **cell)]
    events = run(state(), two_then_cell)
    assert [(e.kind, e.fix_time) for e in events] == [(EventKind.open, T0 + timedelta(seconds=150))]
    assert events[0].last_at == T0 + timedelta(seconds=90)  # the last fix that showed it
    # cell fixes that fall inside the line (800 m east; the line is at 1 km) prove nothing
    one_then_cell = [fix(0, 0), fix(30, OUT)] + [fix(s, 800, **cell) for s in range(90, 900, 60)]
    assert run(state(), one_then_cell) == []


def test_fixes_leaning_outside_are_no_evidence_by_themselves() -> None:
    """Cell fixes 200 m beyond the line with 600 m accuracy: a coin toss each.  Alone they never
    make a run, and after one violating fix they complete the dwell only when they hold that
    fix within their accuracy (the same place): a multipath jump lands kilometres away."""
    cell = {"accuracy": 600.0, "source": FixSource.cell}
    leaning = [fix(s, 1200, **cell) for s in range(90, 900, 60)]
    assert run(state(), [fix(0, 0)] + [fix(s, 1200, **cell) for s in range(30, 900, 60)]) == []
    # a jump 1.4 km beyond the cell fixes (plausible at 156 km/h, and no spike: the cell fixes
    # are not where the subject was before it either)
    assert run(state(), [fix(0, 0), fix(60, 2600)] + [fix(s, 1200, **cell) for s in range(120, 900, 60)]) == []
    events = run(state(), [fix(0, 0), fix(30, OUT)] + leaning)
    assert [(e.kind, e.alarm_type) for e in events] == [(EventKind.open, AlarmType.left_permitted_area)]
    # the dwell still counts from the crossing: the first cell fix at 90 s corroborates, the
    # one at 150 s completes two minutes from the crossing (placed between 0 s and 30 s)
    assert events[0].fix_time == T0 + timedelta(seconds=150)


def test_the_run_starts_at_the_estimated_crossing_only_from_a_recent_fix() -> None:
    """With the fix before the first violating one a minute older, the crossing is placed
    between them; after a longer gap (a reporting pause) it is the violating fix itself, so that
    one fix can never complete the dwell alone."""
    events = run(state(), [fix(0, 500), fix(60, 1500), fix(120, 1500), fix(180, 1500)])
    # 500 m inside and 500 m out: 480 m and 510 m as early as the 10 m accuracy allows
    assert (events[0].started_at - T0).total_seconds() == pytest.approx(60 * 480 / 990)
    assert events[0].fix_time == T0 + timedelta(seconds=180)
    events = run(state(), [fix(0, 500), fix(600, 1500), fix(660, 1500), fix(720, 1500)])
    assert events[0].started_at == T0 + timedelta(seconds=600) and events[0].fix_time == T0 + timedelta(seconds=720)


def test_a_leaning_fix_just_before_the_run_dates_its_start() -> None:
    """The fix just after the crossing is within its accuracy of the line: the run starts there,
    so the alarm does not wait a whole reporting interval more."""
    fixes = [fix(0, 0), fix(60, 1005), fix(120, OUT), fix(180, OUT), fix(240, OUT)]  # 5 m beyond, 10 m accuracy
    events = run(state(), fixes)
    assert [(e.kind, e.started_at, e.fix_time) for e in events] == \
        [(EventKind.open, T0 + timedelta(seconds=60), T0 + timedelta(seconds=180))]
    # nor does one on the inside of the line, within its accuracy: the subject may have been
    # across already
    events = run(state(), [fix(0, 0), fix(60, 995), fix(120, OUT), fix(180, OUT)])
    assert [(e.kind, e.started_at, e.fix_time) for e in events] == \
        [(EventKind.open, T0 + timedelta(seconds=60), T0 + timedelta(seconds=180))]
    # nor one that proves the inside by less than two radii (15 m in, 10 m accuracy): one fix
    # in a dozen reads more than its radius off, and the dwell would end a second after the
    # next fix (the alarm a whole interval late)
    events = run(state(), [fix(0, 0), fix(60, 985), fix(120, OUT), fix(180, OUT)])
    assert [(e.kind, e.started_at, e.fix_time) for e in events] == \
        [(EventKind.open, T0 + timedelta(seconds=60), T0 + timedelta(seconds=180))]
    # a fix more than two radii inside places the crossing strictly after it
    assert run(state(), [fix(0, 0), fix(60, 975), fix(120, OUT), fix(180, OUT)]) == []
    # nor can a leaning fix a whole dwell earlier make one violating fix enough
    assert run(state(), [fix(0, 0), fix(60, 1005), fix(180, OUT)]) == []


def test_a_noisy_fix_outside_an_exclusion_zone_does_not_reset_the_dwell() -> None:
    bar = Zone("bar", ZoneKind.exclusion, Circle(*east(500), 300.0), subject_id=1)
    cell = {"accuracy": 400.0, "source": FixSource.cell}
    fixes = [fix(0, 500), fix(60, 900, **cell), fix(120, 500)]  # the cell fix lands 100 m outside
    events = run(state(), fixes, default_index(bar))
    assert [(e.kind, e.started_at) for e in events] == [(EventKind.open, T0)]


def test_a_frozen_state_thaws_equal_and_replays_the_same() -> None:
    index = default_index()
    st = state()
    run(st, walk(0, 600, 60, 0.0), index)
    run(st, walk(600, 900, 60, 2000.0), index)  # outside, within the dwell: a run under way
    frozen = st.freeze()
    assert isinstance(frozen, bytes) and not gc.is_tracked(frozen)
    assert b"SubjectContext" not in frozen and b"RuleSettings" not in frozen  # shared, not copied
    thawed = SubjectRuleState.thaw(frozen, st.context, st.settings)
    # (equal as frozen: a thawed NaN is not the same object as math.nan, so == would not do)
    assert thawed.freeze() == frozen and thawed.context is st.context and thawed.settings is st.settings
    assert repr(thawed) == repr(st) and thawed._track == st._track and thawed._anchor == st._anchor
    assert thawed._device_machines[0] is thawed._machines[AlarmType.sos]  # one object, as live

    later = walk(900, 1800, 60, 2000.0, extras={"alarm_types": {"sos"}})  # still out, SOS held
    copied = st.copy()
    run(st, later, index)  # the live state goes on; what was frozen does not
    assert SubjectRuleState.thaw(frozen, st.context, st.settings).freeze() == copied.freeze() != st.freeze()
    zones = list(index.classify(later))
    replayed = [evaluate_window(c.context, later, c, zones).events
                for c in (SubjectRuleState.thaw(frozen, st.context, st.settings), copied)]
    assert replayed[0] == replayed[1]
    assert {e.alarm_type for e in replayed[0]} == {AlarmType.sos, AlarmType.left_permitted_area}
    assert pickle.loads(frozen)[0] == copied.high_water  # noqa: S301 - the format is a plain tuple


def test_changed_thresholds_apply_to_a_state_and_to_one_thawed() -> None:
    """A bureau lengthens the dwell to five minutes: four minutes out no longer alarm, for a
    subject already followed and for a state read back from a checkpoint."""
    longer = RuleSettings(dwell_s=300)
    four_minutes_out = walk(0, 300, 30, 0) + walk(300, 540, 30, OUT)
    live = state()
    frozen = live.freeze()
    live.retune(longer)
    assert run(live, four_minutes_out) == []
    assert run(SubjectRuleState.thaw(frozen, live.context, longer), four_minutes_out) == []
    assert [e.kind for e in run(state(), four_minutes_out)] == [EventKind.open]  # two minutes: it does


def test_local_minute_is_shanghai_time_whatever_the_time_zone_of_the_fix() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for k in range(0, 366 * 24 * 60, 97):  # a leap year, every 97 minutes
        t = start + timedelta(minutes=k, seconds=k % 60)
        local = t.astimezone(shanghai)
        expected = local.hour * 60 + local.minute
        assert _local_minute(t) == expected
        assert _local_minute(t.astimezone(timezone(timedelta(hours=-5)))) == expected
        assert _local_minute(t.astimezone(ZoneInfo("Europe/Berlin"))) == expected
