"""FixBatcher: group commit without sockets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from zhijiao.ingestion.fix import Fix
from zhijiao.ingestion.server import FixBatcher

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
