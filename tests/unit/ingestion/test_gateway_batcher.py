"""FixBatcher: group commit without sockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from zhijiao.core.fix import Fix
from zhijiao.ingestion.batcher import COUNTERS, FixBatcher

T0 = datetime(2024, 5, 1, tzinfo=UTC)


def fixes(n: int, ident: str = "1") -> list[Fix]:
    return [Fix(device_ident=ident, fix_time=T0, lat=36.8, lon=118.3) for _ in range(n)]


class RecordingSink:
    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[Fix]] = []
        self.fail = fail

    async def submit(self, batch: list[Fix]) -> None:
        await asyncio.sleep(0)
        if self.fail:
            raise RuntimeError("down")
        self.batches.append(batch)


async def test_concurrent_requests_share_one_commit() -> None:
    sink = RecordingSink()
    batcher = FixBatcher(sink, max_fixes=1000, max_delay=0.02)
    await batcher.start()
    results = await asyncio.gather(*(batcher.submit(fixes(3, str(i))) for i in range(10)))
    await batcher.stop()
    assert results == [True] * 10
    assert [len(b) for b in sink.batches] == [30]
    # Order of requests is kept inside the batch.
    assert [f.device_ident for f in sink.batches[0]][::3] == [str(i) for i in range(10)]


async def test_full_batch_does_not_wait_for_the_delay() -> None:
    sink = RecordingSink()
    batcher = FixBatcher(sink, max_fixes=4, max_delay=10.0)
    await batcher.start()
    async with asyncio.timeout(1):
        assert await asyncio.gather(batcher.submit(fixes(2)), batcher.submit(fixes(2)), batcher.submit(fixes(5)))
    await batcher.stop()
    # Requests are never split; the oversize one went alone.
    assert [len(b) for b in sink.batches] == [4, 5]


async def test_failed_submit_resolves_false() -> None:
    batcher = FixBatcher(RecordingSink(fail=True), max_delay=0.001)
    await batcher.start()
    assert await batcher.submit(fixes(2)) is False
    await batcher.stop()


async def test_stop_commits_pending_and_refuses_later_requests() -> None:
    sink = RecordingSink()
    batcher = FixBatcher(sink, max_delay=10.0)
    await batcher.start()
    pending = batcher.enqueue(fixes(3))
    await batcher.stop()
    assert pending.result() is True and len(sink.batches[0]) == 3
    assert await batcher.submit(fixes(1)) is False


class Waiter:
    """Records, when called, whether each of its requests was done and how."""

    def __init__(self, fail: bool = False) -> None:
        self.requests: list[asyncio.Future[bool]] = []
        self.calls: list[list[bool | None]] = []
        self.fail = fail

    def committed(self) -> None:
        self.calls.append([f.result() if f.done() else None for f in self.requests])
        if self.fail:
            raise RuntimeError("bug in a connection")


async def test_waiters_are_called_once_per_batch_after_it_is_done() -> None:
    sink = RecordingSink()
    counters = dict.fromkeys(COUNTERS, 0)
    batcher = FixBatcher(sink, max_fixes=4, max_delay=0.01, counters=counters)
    await batcher.start()
    a, b = Waiter(fail=True), Waiter()
    for waiter, n in ((a, 1), (a, 1), (b, 1), (a, 1), (b, 2)):  # the last request opens batch two
        waiter.requests.append(batcher.enqueue(fixes(n), waiter))
    async with asyncio.timeout(2):
        await asyncio.gather(*a.requests, *b.requests)
    await batcher.stop()
    assert [len(batch) for batch in sink.batches] == [4, 2]
    # a was listed twice in batch one (b came between its requests): called twice then; its
    # raising neither kept b from being called nor stopped the batcher
    assert a.calls == [[True, True, True], [True, True, True]]
    assert b.calls == [[True, None], [True, True]]
    assert counters["internal_errors"] == 2


async def test_waiters_hear_of_a_failed_commit() -> None:
    batcher = FixBatcher(RecordingSink(fail=True), max_delay=0.001)
    await batcher.start()
    waiter = Waiter()
    waiter.requests.append(batcher.enqueue(fixes(2), waiter))
    async with asyncio.timeout(2):
        assert await waiter.requests[0] is False
    await batcher.stop()
    assert waiter.calls == [[False]]


class StuckSink:
    """A database that never answers: its submit waits until cancelled."""

    def __init__(self) -> None:
        self.entered = asyncio.Event()
        self.cancelled = False

    async def submit(self, batch: list[Fix]) -> None:
        self.entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


async def test_abort_fails_the_commit_under_way_and_what_waits() -> None:
    sink = StuckSink()
    counters = dict.fromkeys(COUNTERS, 0)
    batcher = FixBatcher(sink, max_fixes=3, max_delay=0.001, counters=counters)
    await batcher.start()
    under_way = batcher.enqueue(fixes(3))  # a full batch: its commit starts and hangs
    async with asyncio.timeout(2):
        await sink.entered.wait()
    waiter = Waiter()
    waiter.requests.append(batcher.enqueue(fixes(2), waiter))
    assert batcher.pending == 2  # the hung batch is with the sink, no longer pending
    async with asyncio.timeout(2):
        await batcher.abort()
    assert sink.cancelled
    assert under_way.result() is False and waiter.requests[0].result() is False
    assert waiter.calls == [[False]]
    assert batcher.pending == 0 and counters["fixes_failed"] == 5 and counters["fixes_committed"] == 0
    assert await batcher.submit(fixes(1)) is False
