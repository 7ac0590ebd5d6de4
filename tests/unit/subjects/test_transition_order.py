"""Lifecycle steps recorded at the same moment are shown in lifecycle order (issue 19)."""

from datetime import UTC, datetime

from zhijiao.subjects import rules


def test_same_moment_steps_follow_the_lifecycle() -> None:
    at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    steps = [("reported", "under_correction", 2), ("pending_reception", "reported", 9)]
    ordered = sorted(steps, key=lambda s: rules.transition_order(at, s[0], s[1], s[2]))
    assert [s[0] for s in ordered] == ["pending_reception", "reported"]
    earlier = datetime(2026, 11, 30, tzinfo=UTC)
    assert rules.transition_order(earlier, "reported", "under_correction") < rules.transition_order(
        at, "pending_reception", "reported")  # time first
