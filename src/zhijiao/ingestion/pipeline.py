"""The fix pipeline, as an ordered list of small stages (after Traccar's handler chain).

decode (each input's protocol codec) → store (:class:`FixStore`: resolve, dedupe, flag and one
batched commit; the device is acknowledged after it) → then :attr:`Pipeline.stages`, once per
batch: filter (what the rules may judge) → rules (:class:`RulesEngine`, per-subject state
machines in fix-time order, late data replayed) → alarms (``monitoring.alarms``) → notify (the
event stream's ``positions``; alarms are published by the alarm service).

Everything after the commit runs on one worker thread fed by a queue, so each subject's
fixes are evaluated in order and the device never waits for rules. After a crash the rules'
state is rebuilt from the stored fixes of the last ``rebuild_window``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from datetime import timedelta

from zhijiao.core import clock
from zhijiao.core.fix import Fix
from zhijiao.db import session as dbsession
from zhijiao.ingestion import stages
from zhijiao.ingestion.directory import Directory
from zhijiao.ingestion.protocols.jt808.profiles import DEFAULT_BRACELET, DeviceProfile, get_profile
from zhijiao.ingestion.rules_engine import RulesEngine
from zhijiao.ingestion.store import FixStore
from zhijiao.monitoring import alarms as alarm_service
from zhijiao.security.actor import Actor

log = logging.getLogger(__name__)


class Pipeline:
    """The FixSink of every input: ``await submit(fixes)`` returns once they are committed."""

    def __init__(self, directory: Directory | None = None, *, rules: RulesEngine | None = None,
                 tick_every: float = 30.0, escalate_every: float = 60.0) -> None:
        self.directory = directory or Directory()
        self.store = FixStore(self.directory)  # before the hand-off: the device waits for it
        self.rules = rules or RulesEngine()
        self.rules.profile_of = self._profile_of
        self.alarms = stages.Alarms(self.rules.counters)
        self.notify = stages.Notify()
        # After the hand-off, on the rules worker, once per batch and in this order.
        self.stages: tuple[stages.Stage, ...] = (
            stages.Filter(), stages.Rules(self.rules), self.alarms, self.notify)
        self.latency_s = self.notify.latency_s  # receipt → rules done
        self.tick_every, self.escalate_every = tick_every, escalate_every
        self._queue: asyncio.Queue[list[Fix] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []
        self._rules_lock = threading.Lock()  # the rules state has one owner at a time
        self._rebuilt = False

    @property
    def processed(self) -> int:
        """Fixes that went through every stage."""
        return self.notify.processed

    def _profile_of(self, device_id: int) -> DeviceProfile:
        entry = self.directory.by_device_id(device_id)
        try:
            return get_profile(entry.profile) if entry is not None else DEFAULT_BRACELET
        except KeyError:
            return DEFAULT_BRACELET

    async def submit(self, fixes: list[Fix]) -> list[Fix]:
        """Commit; returns the fixes that were new (they go on to the rules, after this returns)."""
        new = await asyncio.to_thread(self.store.store, fixes)
        if new:
            self._queue.put_nowait(new)
        return new

    def process_now(self, fixes: list[Fix], *, rebuild_window: timedelta = timedelta(minutes=30)) -> list[Fix]:
        """Commit and evaluate in the caller's thread, for a process where :meth:`start` never ran
        (the HTTP input of an API process without device gateways). Blocking; returns the new fixes."""
        with self._rules_lock:
            if not self._rebuilt:
                self._rebuild(rebuild_window)
        new = self.store.store(fixes)
        if new:
            self._process(new)
        return new

    async def start(self, *, rebuild_window: timedelta = timedelta(minutes=30)) -> None:
        def _rebuild() -> None:
            with self._rules_lock:
                self._rebuild(rebuild_window)

        await asyncio.to_thread(_rebuild)
        self._tasks = [asyncio.create_task(self._work(), name="pipeline-rules"),
                       asyncio.create_task(self._clock(), name="pipeline-clock")]

    def _rebuild(self, window: timedelta) -> None:
        with dbsession.session_scope(Actor.system("pipeline-rebuild")) as db:
            found = self.rules.rebuild(db, window)
            if found:
                alarm_service.apply_rule_events(db_session=db, rule_events=found, recovered=True)
        self._rebuilt = True

    async def stop(self) -> None:
        await self._queue.put(None)
        for task in self._tasks[1:]:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.rules.close()
        self.store.close()
        self.directory.close()

    async def drain(self) -> None:
        """Wait until every stored fix went through the rules (tests, benchmarks)."""
        while not self._queue.empty() or self._busy:
            await asyncio.sleep(0.005)

    _busy = False

    async def _work(self) -> None:
        while True:
            batch = await self._queue.get()
            if batch is None:
                return
            # Merge what queued up meanwhile: one rules pass and one commit for all of it.
            while not self._queue.empty():
                more = self._queue.get_nowait()
                if more is None:
                    self._queue.put_nowait(None)
                    break
                batch.extend(more)
            self._busy = True
            try:
                await asyncio.to_thread(self._process, batch)
            except Exception:  # noqa: BLE001 - keep the pipeline alive; the fixes are stored
                log.exception("rules stage failed for %d fixes", len(batch))
            finally:
                self._busy = False

    def _process(self, fixes: list[Fix]) -> None:
        with self._rules_lock, dbsession.session_scope(Actor.system("pipeline")) as db:
            batch = stages.Batch(fixes, db)
            for stage in self.stages:
                stage.run(batch)

    async def _clock(self) -> None:
        last_escalation = 0.0
        while True:
            await asyncio.sleep(self.tick_every)
            try:
                await asyncio.to_thread(self._tick)
                if time.monotonic() - last_escalation >= self.escalate_every:
                    last_escalation = time.monotonic()
                    await asyncio.to_thread(self._escalate)
            except Exception:  # noqa: BLE001
                log.exception("pipeline clock failed")

    def _tick(self) -> None:
        with self._rules_lock, dbsession.session_scope(Actor.system("pipeline-tick")) as db:
            self.rules.refresh(db)
            found = self.rules.retry_deferred(db)
            self.alarms.apply(db, found + self.rules.tick(clock.now()))

    def _escalate(self) -> None:
        with dbsession.session_scope(Actor.system("alarm-escalation")) as db:
            alarm_service.escalate_overdue(db_session=db)
