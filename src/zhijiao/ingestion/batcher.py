"""Group commit: fixes from many senders reach a sink in few, large batches.

Every input that acknowledges after the commit uses it: the JT/T 808 gateway's connections, the
MQTT input, a NATS worker's shards. One submit runs at a time and what arrives meanwhile forms the
next batch, so a database sink commits thousands of rows per transaction under load; when it is
quiet a batch waits a few milliseconds at most for company.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from typing import Protocol

from zhijiao.core.fix import Fix

log = logging.getLogger(__name__)

COUNTERS = ("batches", "fixes_committed", "fixes_failed", "internal_errors")


class FixSink(Protocol):
    async def submit(self, fixes: list[Fix]) -> object:
        """Return only once ``fixes`` are durably stored (committed, or acknowledged by a durable
        stream); raise if they are not. The value is the sink's own (the pipeline returns the
        fixes that were new); the batcher only needs the return."""


class CommitWaiter(Protocol):
    def committed(self) -> None:
        """A batch holding this waiter's fixes was committed, or failed (see the batch's future)."""


class _Batch:
    __slots__ = ("first_at", "fixes", "future", "waiters")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.fixes: list[Fix] = []
        self.future: asyncio.Future[bool] = loop.create_future()
        self.first_at = loop.time()
        self.waiters: list[CommitWaiter] = []


class FixBatcher:
    """Collects fixes from all its senders and hands them to the sink in large batches.

    Each :meth:`enqueue` gets a future that resolves to ``True`` once the batch holding its fixes
    was committed, ``False`` if ``sink.submit`` raised; requests in one batch share its future. One
    submit runs at a time: fixes arriving meanwhile form the next batch, so batches grow by
    themselves under load, and fixes of one sender reach the sink in the order they were
    enqueued. A request is never split; it opens a new batch when it would not fit.

    A ``waiter`` given to :meth:`enqueue` is called as soon as its batch is done, once per batch
    however many of its requests the batch holds: a terminal connection sends its acks then,
    without a future callback and a scheduled flush per connection and batch.

    A failed submit fails every request in the batch (their senders resend); a sink that can
    meet a poison row should isolate it itself rather than raise for the whole batch.
    """

    def __init__(
        self,
        sink: FixSink,
        *,
        max_fixes: int = 2000,
        max_delay: float = 0.005,
        counters: dict[str, int] | None = None,
    ) -> None:
        self._sink = sink
        self._max_fixes = max_fixes
        self._max_delay = max_delay
        self._counters = counters if counters is not None else dict.fromkeys(COUNTERS, 0)
        self._batches: collections.deque[_Batch] = collections.deque()  # the last one takes new fixes
        self._wakeup = asyncio.Event()
        self._full = asyncio.Event()  # the oldest batch is ready to go before its delay is up
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    async def start(self) -> None:
        if self._task is None:
            self._closed = False
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(self._run(), name="fix-batcher")

    async def stop(self) -> None:
        """Commit what is pending, then stop; later requests resolve to ``False``."""
        self._closed = True
        self._wakeup.set()
        self._full.set()
        if self._task is not None:
            await self._task
            self._task = None

    @property
    def pending(self) -> int:
        """Fixes enqueued and not yet handed to the sink (the queue's depth)."""
        return sum(len(batch.fixes) for batch in self._batches)

    async def abort(self) -> None:
        """Stop now, for a caller whose senders resend what was not confirmed (a stream
        consumer): a submit under way is cancelled, and it and every request still waiting
        resolve to ``False``."""
        self._closed = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while self._batches:
            self._finish(self._batches.popleft(), False)

    def enqueue(self, fixes: list[Fix], waiter: CommitWaiter | None = None) -> asyncio.Future[bool]:
        loop = self._loop
        if self._closed or self._task is None or loop is None:
            future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
            future.set_result(False)
            return future
        batches = self._batches
        batch = batches[-1] if batches else None
        if batch is None or (batch.fixes and len(batch.fixes) + len(fixes) > self._max_fixes):
            if batch is not None:
                self._full.set()  # the open batch cannot take this request: it is complete
            batch = _Batch(loop)
            batches.append(batch)
        batch.fixes.extend(fixes)
        if waiter is not None:
            waiters = batch.waiters
            if not waiters or waiters[-1] is not waiter:  # a waiter's requests come in a row
                waiters.append(waiter)
        self._wakeup.set()
        if len(batch.fixes) >= self._max_fixes:
            self._full.set()
        return batch.future

    async def submit(self, fixes: list[Fix]) -> bool:
        """Enqueue and wait: ``True`` once committed."""
        return await self.enqueue(fixes)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        batches = self._batches
        while True:
            await self._wakeup.wait()
            if batches:
                first = batches[0]
                linger = first.first_at + self._max_delay - loop.time()
                if (not self._closed and linger > 0 and len(batches) == 1
                        and len(first.fixes) < self._max_fixes):
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(linger):
                            await self._full.wait()
                batch = batches.popleft()
                if not batches:
                    self._wakeup.clear()
                if len(batches) <= 1 and not (batches and len(batches[0].fixes) >= self._max_fixes):
                    self._full.clear()
                await self._commit(batch)
            elif not self._closed:
                self._wakeup.clear()
            if self._closed and not batches:
                return

    async def _commit(self, batch: _Batch) -> None:
        fixes = batch.fixes
        ok = False
        try:
            await self._sink.submit(fixes)
            ok = True
        except Exception:
            log.exception("fix sink failed on a batch of %d fixes", len(fixes))
        finally:
            # Also on cancellation: nobody may wait forever on a batch that will not finish.
            self._finish(batch, ok)

    def _finish(self, batch: _Batch, ok: bool) -> None:
        self._counters["batches"] += 1
        self._counters["fixes_committed" if ok else "fixes_failed"] += len(batch.fixes)
        if not batch.future.done():
            batch.future.set_result(ok)
        for waiter in batch.waiters:
            try:
                waiter.committed()
            except Exception:  # one connection's bug must not stop the acks of the others
                log.exception("fix batch waiter failed")
                self._counters["internal_errors"] += 1
