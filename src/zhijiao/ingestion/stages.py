"""The stages a batch of stored fixes goes through, in :attr:`Pipeline.stages
<zhijiao.ingestion.pipeline.Pipeline.stages>` order: filter → rules → alarms → notify.

Each stage is called once per batch (never per fix: the pipeline was tuned on that), on the
rules worker thread, inside the batch's database session; each reads what the stages before it
left on the :class:`Batch` and adds its own. Decoding (each input's codec) and storing
(:class:`~zhijiao.ingestion.store.FixStore`, after which the device is acknowledged) come
before, on the input's side of the hand-off.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from zhijiao.core import clock, events, topics
from zhijiao.core.fix import Fix
from zhijiao.ingestion.rules_engine import UNUSABLE_ACCURACY_M, RulesEngine
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.monitoring.models import FLAG_NOISY, Alarm
from zhijiao.monitoring.rule_types import RuleEvent

log = logging.getLogger(__name__)

# Rule events kept while the database cannot take them (a subject-day makes a handful).
MAX_UNAPPLIED = 100_000


@dataclass(slots=True)
class Batch:
    """One pass of the stages: the fixes the store found new, and what each stage made of them."""

    fixes: list[Fix]  # as stored (and as the screens are shown them)
    db: Session
    for_rules: list[Fix] = field(default_factory=list)  # filter: the fixes the rules may judge
    rule_events: list[RuleEvent] = field(default_factory=list)  # rules
    alarms: list[tuple[Alarm, topics.AlarmChange]] = field(default_factory=list)  # alarms: what changed


class Stage(Protocol):
    def run(self, batch: Batch) -> None: ...


class Filter:
    """What the rules may judge: fixes of a subject, a noisy one with an accuracy they reject
    (the store already flagged it, by the device's accuracy and whether it was positioned)."""

    def run(self, batch: Batch) -> None:
        batch.for_rules = [for_rules(f) for f in batch.fixes if f.subject_id is not None]


def for_rules(fix: Fix) -> Fix:
    if fix.extras.get("flags", 0) & FLAG_NOISY and fix.effective_accuracy_m < UNUSABLE_ACCURACY_M:
        return dataclasses.replace(fix, accuracy_m=UNUSABLE_ACCURACY_M)
    return fix


class Rules:
    """Per-subject state machines in fix-time order, late data replayed (:class:`RulesEngine`)."""

    def __init__(self, engine: RulesEngine) -> None:
        self.engine = engine

    def run(self, batch: Batch) -> None:
        batch.rule_events = self.engine.process(batch.db, batch.for_rules)


class Alarms:
    """Rule events become alarms (``monitoring.alarms.apply_rule_events``), which publishes them.

    The rules' state has moved on already (an episode the database never heard of stays open in
    it), so events that could not be written, the database being down, are kept and tried again
    with the next batch or tick rather than lost."""

    def __init__(self, counters: collections.Counter[str]) -> None:
        self.counters = counters  # the rules engine's: one set of counters for the operators
        self.unapplied: list[RuleEvent] = []

    def run(self, batch: Batch) -> None:
        batch.alarms = self.apply(batch.db, batch.rule_events)

    def apply(self, db: Session, rule_events: list[RuleEvent]) -> list[tuple[Alarm, topics.AlarmChange]]:
        """Apply the events, after any a failed attempt left."""
        pending = self.unapplied + rule_events
        if not pending:
            return []
        self.unapplied = []
        try:
            return alarm_service.apply_rule_events(db_session=db, rule_events=pending)
        except SQLAlchemyError:
            db.rollback()
            dropped = max(0, len(pending) - MAX_UNAPPLIED)
            self.unapplied = pending[dropped:]
            self.counters["events_retried"] += len(self.unapplied)
            self.counters["events_dropped"] += dropped
            log.exception("%d rule events not applied; kept to try again (%d dropped)", len(pending), dropped)
            return []


class Notify:
    """The ``positions`` topic (the live map), and how long fixes took from receipt to here."""

    def __init__(self) -> None:
        self.latency_s: collections.deque[float] = collections.deque(maxlen=100_000)  # receipt → rules done
        self.processed = 0

    def run(self, batch: Batch) -> None:
        fixes = batch.fixes
        done = clock.now().timestamp()  # receipt times come from the same clock
        for f in fixes:
            if f.received_at is not None:
                self.latency_s.append(done - f.received_at.timestamp())
        self.processed += len(fixes)
        if not events.listened(topics.POSITIONS):
            return  # no live map in this process (a gateway or worker alone): nothing to build
        # "t" as epoch seconds: a sixth of an ISO string's cost, for every fix
        payload: topics.PositionsEvent = {"fixes": [
            {"subject_id": f.subject_id, "device_id": f.device_id, "t": f.fix_time.timestamp(), "lat": f.lat,
             "lon": f.lon, "acc": f.effective_accuracy_m, "flags": f.extras.get("flags", 0),
             "battery": f.battery_pct} for f in fixes if f.subject_id is not None]}
        events.publish(topics.POSITIONS, payload)
