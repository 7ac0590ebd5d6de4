"""The states kept to replay late data from: few, thinning with age, never far before a late fix."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from zhijiao.ingestion.rules_engine import checkpoint_slot, thin_checkpoints

START = datetime(2026, 3, 2, 0, 7, tzinfo=UTC)


def _day(gaps: list[tuple[float, float]] = ()) -> list[list[datetime]]:
    """Checkpoint times as the engine takes them (before the first fix of each half hour) over a
    day of fixes every 55–65 s, and what is kept after each one; ``gaps``: hours without fixes."""
    rng = random.Random(7)
    kept: list[tuple[datetime, object]] = []
    history = []
    t = START
    while t < START + timedelta(days=1):
        hours = (t - START).total_seconds() / 3600
        if not any(a <= hours < b for a, b in gaps) and (not kept or checkpoint_slot(t) > checkpoint_slot(kept[-1][0])):
            kept = thin_checkpoints([*kept, (t, object())])
            history.append([at for at, _ in kept])
        t += timedelta(seconds=rng.uniform(55, 65))
    return history


def _before(times: list[datetime], t: datetime) -> datetime:
    return max(at for at in times if at <= t)


def test_a_day_keeps_at_most_eight_states_and_one_near_before_any_late_fix() -> None:
    history = _day()
    assert len(history) == 49  # one per half hour the day touches (00:07 to 00:07)
    assert max(len(times) for times in history) <= 8
    for times in history[16:]:  # from eight hours on, the whole horizon is there
        newest = times[-1]
        assert newest - times[0] >= timedelta(hours=6)
        for minutes in range(0, 6 * 60, 5):
            late = newest - timedelta(minutes=minutes)
            # how much more than needed a replay from there reruns: at most an hour in the last
            # hour, two hours before that (and the minute a half hour's first fix may come late)
            allowed = timedelta(hours=1 if minutes < 60 else 2, minutes=2)
            assert late - _before(times, late) <= allowed, (newest, minutes, times)


def test_a_checkpoint_once_dropped_is_never_needed_back() -> None:
    history = _day()
    for older, newer in zip(history, history[1:]):
        assert set(newer) - set(older) == {newer[-1]}  # only the new one appears


def test_a_silent_device_keeps_what_it_had() -> None:
    history = _day(gaps=[(5.0, 9.0)])  # four hours out of coverage, its fixes uploaded later
    after_gap = next(times for times in history if times[-1] - START >= timedelta(hours=9))
    # a state from before the gap is still there to replay the upload from
    assert after_gap[0] <= START + timedelta(hours=5)
    assert max(len(times) for times in history) <= 8
