"""The demo's past: N days of a bureau's work replayed through the services, clock set back.

Every step calls the same service a screen calls, as the person who would do it (the
responsible officer, the bureau, the leader, the operator on duty), with :mod:`zhijiao.core.clock`
frozen at the moment it happened. Rules, tasks, documents and audit rows are therefore real.
The workflows of the files are in :mod:`zhijiao.demo.cases`, the daily routine (records,
check-ins, roll calls, alarms, cameras) in :mod:`zhijiao.demo.activity`.

A refusal by a rule (a :class:`DomainError`) skips that one step and is counted; the demo goes on.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import random
import time as _time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhijiao.core import clock
from zhijiao.core.errors import DomainError
from zhijiao.db.session import session_scope
from zhijiao.org.models import Staff
from zhijiao.security.actor import Actor, ActorKind
from zhijiao.security.permissions import Role

log = logging.getLogger(__name__)

MAX_DAYS = 365
DEFAULT_DAYS = 90

Step = Callable[["World"], None]


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=clock.SHANGHAI).astimezone(UTC)


@dataclass
class World:
    """Who works in the demo bureau, and the calendar of what they do."""

    rng: random.Random
    today: date
    start: date
    actors: dict[str, Actor]  # username -> actor
    office_officers: dict[int, list[str]]  # office id -> usernames
    names: dict[str, str]  # username -> display name
    end_at: datetime  # the real present: the history stops there
    skipped: Counter = field(default_factory=Counter)
    done: Counter = field(default_factory=Counter)
    reasons: Counter = field(default_factory=Counter)
    _queue: list = field(default_factory=list)
    _seq: Iterator[int] = field(default_factory=itertools.count)

    def at(self, when: datetime, step: Step) -> None:
        """Schedule ``step`` at ``when`` (UTC), never before the clock (time runs forward); steps
        after the present are dropped."""
        when = max(when, clock.now() + timedelta(minutes=1))
        if when <= self.end_at:
            heapq.heappush(self._queue, (when, next(self._seq), step))

    def on(self, day: date, hour: int, minute: int, step: Step) -> None:
        self.at(local(day, hour, minute), step)

    @contextlib.contextmanager
    def as_(self, username: str) -> Iterator[Session]:
        with session_scope(self.actors[username]) as db:
            yield db

    def officer(self, office_id: int, other_than: str | None = None) -> str:
        people = self.office_officers[office_id]
        return next((p for p in people if p != other_than), people[0])

    def run(self, name: str, fn: Callable[[], object]) -> object | None:
        """One step: done, or refused by a rule (counted, logged) without stopping the demo."""
        try:
            out = fn()
        except DomainError as exc:
            self.skipped[name] += 1
            self.reasons[f"{name}:{exc.code}"] += 1
            log.debug("demo step %s refused: %s", name, exc)
            return None
        self.done[name] += 1
        return out


def _actors(db: Session) -> tuple[dict[str, Actor], dict[int, list[str]], dict[str, str]]:
    actors: dict[str, Actor] = {}
    by_office: dict[int, list[str]] = {}
    names: dict[str, str] = {}
    for s in db.execute(select(Staff).order_by(Staff.id)).scalars():
        kind = ActorKind.kiosk if s.role == Role.kiosk.value else ActorKind.staff
        actors[s.username] = Actor(kind=kind, username=s.username, staff_id=s.id, role=s.role,
                                   office_id=s.office_id)
        names[s.username] = s.display_name
        if s.role == Role.office_officer.value and s.office_id is not None:
            by_office.setdefault(s.office_id, []).append(s.username)
    return actors, by_office, names


def build(days: int, *, random_seed: int = 370305, progress: Callable[[str], None] = print) -> World:
    """Replay ``days`` days up to now. Returns the world with its counts of steps done and refused."""
    from zhijiao.demo import activity, cases

    days = max(0, min(MAX_DAYS, days))
    real_now = clock.now()
    today = clock.to_local(real_now).date()
    with session_scope(Actor.system("demo-history")) as db:
        actors, by_office, names = _actors(db)
    world = World(rng=random.Random(random_seed + 1), today=today, start=today - timedelta(days=days),
                  actors=actors, office_officers=by_office, names=names, end_at=real_now)
    t0 = _time.monotonic()
    with clock.frozen(local(world.start, 8, 0)) as frozen:
        activity.plan(world)
        cases.plan(world)
        progress(f"  历史数据：{days} 天，通过业务服务逐日生成（时钟回拨）…")
        shown_day = None
        n = 0
        while world._queue:
            when, _seq, step = heapq.heappop(world._queue)
            frozen.set(when)
            step(world)
            n += 1
            day = clock.to_local(when).date()
            if shown_day is None or (day - shown_day).days >= 15:
                shown_day = day
                progress(f"    {day.isoformat()}  已完成 {n} 步，用时 {_time.monotonic() - t0:.0f} 秒")
    # the last scan at the real present, so today's tasks are those of today
    activity.finish(world)
    progress(f"  历史数据完成：{sum(world.done.values())} 步，规则拒绝 {sum(world.skipped.values())} 步，"
             f"用时 {_time.monotonic() - t0:.0f} 秒")
    if world.reasons:
        log.info("demo steps refused by rules: %s", dict(world.reasons))
    return world
