"""Pluggable numbers for the big screen and duty metrics for 工作督察.

Modules that land later add their own without touching the command center:

    from zhijiao.command import registry
    registry.register_stat("checkins", "今日签到", lambda db, day: (done, due))
    registry.register_duty_metric(registry.DutyMetric("tasks_overdue", "逾期任务", 2.0, provider))

A stat provider gets the actor-bound session (so scoping applies) and the local day, and returns
``(done, due)``. A duty metric provider gets the session and "now" and yields
:class:`~zhijiao.command.schemas.DutyItem` rows, each attributed to an office and an officer;
the board counts them, weights them and ranks the offices.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from zhijiao.command.schemas import DutyItem

StatFn = Callable[[Session, date], tuple[int, int]]
DutyFn = Callable[[Session, datetime], Iterable[DutyItem]]


@dataclass(frozen=True, slots=True)
class StatProvider:
    key: str
    label: str
    compute: StatFn | None  # None: the module providing it has not landed yet


@dataclass(frozen=True, slots=True)
class DutyMetric:
    key: str
    label: str
    weight: float  # how much one item counts in the ranking
    items: DutyFn


_lock = threading.Lock()
_stats: dict[str, StatProvider] = {}
_duty: dict[str, DutyMetric] = {}


def register_stat(key: str, label: str, compute: StatFn | None) -> None:
    """Add or replace a stat (same key replaces: a module swaps in for its placeholder)."""
    with _lock:
        _stats[key] = StatProvider(key, label, compute)


def stat_providers() -> list[StatProvider]:
    with _lock:
        return list(_stats.values())


def register_duty_metric(metric: DutyMetric) -> None:
    with _lock:
        _duty[metric.key] = metric


def unregister_duty_metric(key: str) -> None:
    with _lock:
        _duty.pop(key, None)


def duty_metrics() -> list[DutyMetric]:
    with _lock:
        return list(_duty.values())


# Placeholders, replaced by ``command.service`` once the check-in module is imported.
register_stat("checkins", "今日签到", None)
register_stat("rollcalls", "视频点名应答", None)
