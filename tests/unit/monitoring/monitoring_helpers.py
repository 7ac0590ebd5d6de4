"""Shared builders for the rule tests: a subject at home in 临淄区 with a permitted circle."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from zhijiao.core import geo
from zhijiao.core.fix import Fix, FixSource
from zhijiao.monitoring.geofence import Circle, Zone, ZoneKind
from zhijiao.monitoring.zone_index import ZoneIndex
from zhijiao.monitoring.rule_types import RuleEvent, SubjectContext
from zhijiao.monitoring.rules import SubjectRuleState

HOME = (36.8260, 118.3090)
T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # Monday 12:00 in Shanghai
SUBJECT = 1
PERMITTED_RADIUS_M = 1000.0


def east(metres: float, north: float = 0.0) -> tuple[float, float]:
    """A point this many metres east (and north) of home."""
    k_lat, k_lon = geo.metres_per_degree(HOME[0])
    return HOME[0] + north / float(k_lat), HOME[1] + metres / float(k_lon)


def default_index(*extra: Zone) -> ZoneIndex:
    return ZoneIndex([Zone("area", ZoneKind.permitted, Circle(*HOME, PERMITTED_RADIUS_M), SUBJECT), *extra])


def fix(
    seconds: float,
    east_m: float = 0.0,
    *,
    north_m: float = 0.0,
    accuracy: float | None = 10.0,
    source: FixSource = FixSource.gnss,
    start: datetime = T0,
    **kwargs: object,
) -> Fix:
    lat, lon = east(east_m, north_m)
    at = start + timedelta(seconds=seconds)
    return Fix(
        "dev1", at, lat, lon, source=source, accuracy_m=accuracy, subject_id=SUBJECT, **kwargs  # type: ignore[arg-type]
    )


def state(**context: object) -> SubjectRuleState:
    return SubjectRuleState(SubjectContext(SUBJECT, **context))  # type: ignore[arg-type]


def run(st: SubjectRuleState, fixes: Iterable[Fix], index: ZoneIndex | None = None) -> list[RuleEvent]:
    """Feed fixes one by one, classified by the index, like the live pipeline."""
    index = index or default_index()
    out: list[RuleEvent] = []
    for f in fixes:
        out.extend(st.feed(f, index.classify([f])[0]))
    return out


def walk(start_s: float, end_s: float, step_s: float, east_m: float, **kwargs: object) -> list[Fix]:
    """Fixes every step_s seconds from start_s (inclusive) to end_s (exclusive) at one place."""
    n = int((end_s - start_s) // step_s)
    return [fix(start_s + i * step_s, east_m, **kwargs) for i in range(n)]  # type: ignore[arg-type]
