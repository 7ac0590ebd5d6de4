"""Device alarms, lost contact, compliance, late data and replay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from monitoring_helpers import T0, default_index, fix, run, state, walk

from zhijiao.monitoring.rule_types import AlarmType, EventKind, RuleSettings
from zhijiao.monitoring.rules import SubjectRuleState, coalesce, evaluate_window

OUT = 1500.0


def alarmed(types: set[str], seconds: float, **kwargs: object):  # type: ignore[no-untyped-def]
    return fix(seconds, 0, extras={"alarm_types": types}, **kwargs)


@pytest.mark.parametrize("alarm", [AlarmType.sos, AlarmType.tamper, AlarmType.power_off, AlarmType.low_battery])
def test_device_alarm_opens_at_once_and_closes_after_hysteresis(alarm: AlarmType) -> None:
    st = state()
    opened = run(st, [alarmed({str(alarm)}, 0), alarmed({str(alarm)}, 30)])
    assert [(e.kind, e.alarm_type) for e in opened] == [(EventKind.open, alarm)]
    assert run(st, [alarmed(set(), 60)]) == []  # the flag dropped, but only just
    closed = run(st, [alarmed(set(), 90), alarmed(set(), 120)])
    assert [(e.kind, e.ended_at) for e in closed] == [(EventKind.close, T0 + timedelta(seconds=60))]


def test_unknown_alarm_types_are_ignored() -> None:
    assert run(state(), [alarmed({"gnss_antenna_open"}, 0)]) == []


def test_low_battery_from_percentage_with_a_clear_threshold() -> None:
    st = state()
    events = run(st, [fix(0, battery_pct=14)])
    assert [(e.kind, e.details["battery_pct"]) for e in events] == [(EventKind.open, 14)]
    assert run(st, [fix(60, battery_pct=17), fix(600, battery_pct=18)]) == []  # not yet charged
    closed = run(st, [fix(700, battery_pct=25), fix(800, battery_pct=30)])
    assert [e.kind for e in closed] == [EventKind.close]


def test_device_alarms_come_even_from_noisy_fixes() -> None:
    events = run(state(), [fix(0, 30_000, accuracy=5000.0, extras={"alarm_types": {"sos"}})])
    assert [e.alarm_type for e in events] == [AlarmType.sos]


def test_lost_contact_by_tick_and_closed_by_the_next_fix() -> None:
    st = state()
    run(st, [fix(0)])
    assert st.tick(T0 + timedelta(minutes=29)) == []
    opened = st.tick(T0 + timedelta(minutes=30))
    assert [(e.kind, e.alarm_type, e.started_at) for e in opened] == [(EventKind.open, AlarmType.lost_contact, T0)]
    assert st.tick(T0 + timedelta(minutes=45)) == []  # one episode, not one per tick
    closed = run(st, [fix(3600)])
    assert [(e.kind, e.alarm_type) for e in closed] == [(EventKind.close, AlarmType.lost_contact)]
    assert closed[0].ended_at == T0 + timedelta(seconds=3600)


def test_lost_contact_counts_from_monitoring_start_without_any_fix() -> None:
    st = state(monitoring_since=T0)
    assert [e.alarm_type for e in st.tick(T0 + timedelta(hours=1))] == [AlarmType.lost_contact]


def test_no_lost_contact_for_inactive_device_or_after_power_off() -> None:
    st = state(device_active=False)
    run(st, [fix(0)])
    assert st.tick(T0 + timedelta(hours=2)) == []
    st = state()
    run(st, [alarmed({"power_off"}, 0)])
    assert st.tick(T0 + timedelta(hours=2)) == []  # the device said why it went quiet


def test_compliance_only_when_no_order_is_in_force() -> None:
    st = state(positioning_order_in_force=False, home=(0.0, 0.0))
    fixes = [fix(s, OUT, extras={"alarm_types": {"sos"}}) for s in range(0, 600, 30)]
    events = run(st, fixes)
    assert [(e.kind, e.alarm_type) for e in events] == [(EventKind.open, AlarmType.compliance)]
    assert events[0].details["reason"] == "no_positioning_order"
    assert st.tick(T0 + timedelta(hours=2)) != []  # lost contact does not apply; quiet closes it
    assert st.open_episodes() == []


def test_order_ending_closes_supervision_episodes_and_resuming_closes_compliance() -> None:
    st = state()
    assert [e.kind for e in run(st, walk(0, 300, 30, OUT))] == [EventKind.open]
    st.context = state(positioning_order_in_force=False).context
    events = run(st, [fix(330, OUT)])
    assert [(e.kind, e.alarm_type) for e in events] == [
        (EventKind.close, AlarmType.left_permitted_area),
        (EventKind.open, AlarmType.compliance),
    ]
    assert events[0].details["reason"] == "positioning_order_ended"
    st.context = state().context
    assert [(e.kind, e.alarm_type) for e in run(st, [fix(400, 0)])] == [(EventKind.close, AlarmType.compliance)]


def test_late_batch_gives_one_retrospective_event_per_episode() -> None:
    """A device out of coverage for an hour uploads its stored fixes (补传) at once."""
    live = state()
    run(live, [fix(0, 0)])
    live.tick(T0 + timedelta(minutes=40))  # lost contact was raised meanwhile
    received = T0 + timedelta(hours=1, minutes=5)
    batch = (
        walk(30, 900, 30, 0, backfill=True, received_at=received)
        + walk(900, 1800, 30, OUT, backfill=True, received_at=received)  # 15 min out
        + walk(1800, 3600, 30, 0, backfill=True, received_at=received)
    )
    index = default_index()
    before = live.copy()
    result = evaluate_window(live.context, batch, live, index.classify(batch))
    by_type = {e.alarm_type: e for e in result.events}
    assert len(result.events) == 2 and set(by_type) == {AlarmType.left_permitted_area, AlarmType.lost_contact}
    left = by_type[AlarmType.left_permitted_area]
    assert (left.kind, left.retrospective) == (EventKind.close, True)
    # between the fixes at 870 and 900 s (1 km in, 500 m out; as early as 10 m accuracy allows:
    # 980 m and 510 m)
    assert (left.started_at - T0).total_seconds() == pytest.approx(870 + 30 * 980 / 1490)
    assert left.ended_at == T0 + timedelta(seconds=1800)
    assert by_type[AlarmType.lost_contact].kind is EventKind.close
    assert repr(live) == repr(before)  # the prior state is not touched
    assert result.state.high_water == batch[-1].fix_time


def test_received_late_counts_as_late_without_the_backfill_flag() -> None:
    received = T0 + timedelta(hours=2)
    events = run(state(), walk(0, 600, 30, OUT, received_at=received))
    assert events[0].retrospective
    events = run(state(), walk(0, 600, 30, OUT, received_at=T0 + timedelta(seconds=5)))
    assert not events[0].retrospective


def test_out_of_order_fix_asks_for_a_replay() -> None:
    st = state()
    run(st, [fix(600, 0)])
    assert st.feed(fix(300, OUT), None) == []
    assert st.replay_from == T0 + timedelta(seconds=300)


def test_replay_of_a_window_with_late_fixes_merged_in() -> None:
    """Live fixes said little; late ones fill the gap and show a long excursion."""
    index = default_index()
    checkpoint = state()
    run(checkpoint, [fix(0, 0)])
    live_fixes = [fix(60, 0), fix(2000, 0), fix(2100, 0)]
    live = checkpoint.copy()
    assert run(live, live_fixes, index) == []
    late = walk(120, 1500, 30, OUT, backfill=True)
    window = sorted(live_fixes + late, key=lambda f: f.fix_time)
    result = evaluate_window(checkpoint.context, window, checkpoint, index.classify(window))
    assert [(e.kind, e.retrospective) for e in result.events] == [(EventKind.close, True)]


def test_evaluate_window_refuses_unsorted_input() -> None:
    with pytest.raises(ValueError):
        evaluate_window(state().context, [fix(60), fix(0)], state())


def test_coalesce_keeps_open_when_the_episode_is_still_running() -> None:
    st = state()
    events = run(st, walk(0, 2400, 30, OUT, backfill=True))
    assert [e.kind for e in events] == [EventKind.open, EventKind.update, EventKind.update, EventKind.update]
    (merged,) = coalesce(events)
    assert merged.kind is EventKind.open and merged.last_at == events[-1].last_at and merged.retrospective


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        RuleSettings(dwell_s=-1)
    assert SubjectRuleState(state().context, RuleSettings(dwell_s=0)).settings.dwell == timedelta(0)


def test_a_copy_is_independent_of_the_original() -> None:
    original = state()
    run(original, [alarmed({"sos"}, 0)])
    twin = original.copy()
    assert [e.kind for e in run(twin, [alarmed(set(), 30), alarmed(set(), 120)])] == [EventKind.close]
    assert [e.alarm_type for e in original.open_episodes()] == [AlarmType.sos]
    assert twin.open_episodes() == []
    assert run(original, [alarmed(set(), 30), alarmed(set(), 120)])[0].kind is EventKind.close


def test_a_copy_mid_excursion_continues_like_the_original() -> None:
    """Checkpoints copy the state by hand: a copy taken mid-run (dwell counting, an episode
    open, contact lost) must evolve exactly as the original would."""
    index = default_index()
    original = state()
    run(original, walk(0, 300, 30, OUT), index)  # outside long enough: the episode is open
    run(original, walk(330, 390, 30, OUT), index)
    original.tick(T0 + timedelta(hours=1))  # and contact lost since
    twin = original.copy()
    assert repr(twin) == repr(original)
    assert {e.alarm_type for e in original.open_episodes()} == {AlarmType.left_permitted_area, AlarmType.lost_contact}
    assert twin.open_episodes() == original.open_episodes()
    for episode in twin.open_episodes():
        episode.details["touched"] = True
    assert all("touched" not in e.details for e in original.open_episodes())
    rest = walk(3700, 4000, 30, 0)
    closed = [(e.kind, e.alarm_type, e.ended_at) for e in run(original, rest, index)]
    assert closed and [(e.kind, e.alarm_type, e.ended_at) for e in run(twin, rest, index)] == closed
    assert original.open_episodes() == [] and twin.open_episodes() == []
