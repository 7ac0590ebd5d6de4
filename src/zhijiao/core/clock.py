"""The one clock of the application.

Everything that needs "now" calls :func:`now`; tests freeze it with :func:`frozen`.
Times are timezone-aware UTC in storage and code, shown in Asia/Shanghai.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Shanghai has kept UTC+8 without daylight saving since 1991: code that needs the local minute of
# many fix times (zone schedules, the night window) does arithmetic with this instead of a
# time-zone conversion per fix (their tests compare it with SHANGHAI).
SHANGHAI_OFFSET_S = 8 * 3600

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def today_local() -> date:
    """Today's date in Asia/Shanghai (legal deadlines count local calendar days)."""
    return now().astimezone(SHANGHAI).date()


def to_local(value: datetime) -> datetime:
    return ensure_utc(value).astimezone(SHANGHAI)


def ensure_utc(value: datetime) -> datetime:
    """Treat a naive datetime as UTC (SQLite returns naive values) and convert aware ones."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def format_local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if value is None else to_local(value).strftime(fmt)


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Freeze :func:`now` at ``at`` (aware); the yielded handle can move it forward."""
    global _frozen
    previous = _frozen
    _frozen = ensure_utc(at)
    try:
        yield FrozenClock()
    finally:
        _frozen = previous


class FrozenClock:
    def tick(self, delta: timedelta) -> datetime:
        global _frozen
        assert _frozen is not None
        _frozen = _frozen + delta
        return _frozen

    def set(self, at: datetime) -> None:
        global _frozen
        _frozen = ensure_utc(at)
