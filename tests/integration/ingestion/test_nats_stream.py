"""Gateways → NATS JetStream → workers, against the real NATS server (and SQLite / PostgreSQL)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from types import SimpleNamespace

import nats
import pytest
from bound_devices import INSIDE, OUTSIDE, bind_device
from sqlalchemy import select

from zhijiao.core import clock
from zhijiao.core.fix import Fix
from zhijiao.ingestion.nats import FixWorker, JetStreamSink, StreamOptions, decode_fixes, encode_fixes, shard_of
from zhijiao.ingestion.pipeline import Pipeline
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import LocationReport
from zhijiao.ingestion.runtime import Ingestion
from zhijiao.monitoring.models import Alarm, FixRecord
from zhijiao.security.actor import Actor


@pytest.fixture
def stream_url(nats_server, unique):
    url = f"{nats_server}?stream=ZJ_{unique.upper()}&prefix={unique}.fixes"
    yield url

    async def cleanup() -> None:
        nc = await nats.connect(nats_server)
        try:
            await nc.jetstream().delete_stream(f"ZJ_{unique.upper()}")
        except Exception:  # noqa: BLE001 - the test may not have created it
            pass
        await nc.close()

    asyncio.run(cleanup())


async def _until(predicate, timeout: float = 8.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


def test_wire_format_round_trip():
    fix = Fix(device_ident="139", fix_time=clock.now().replace(microsecond=0), lat=36.8, lon=118.3, speed_kmh=3.5,
              alarm_bits=1, backfill=True, received_at=clock.now(), extras={"alarm_types": ["sos"], "positioned": True})
    [back] = decode_fixes(encode_fixes([fix]))
    assert back == fix
    assert shard_of("13900000001") == shard_of("13900000001") < 16


def test_gateway_to_worker(client, db, stream_url, unique):
    bracelet = bind_device(client, db, protocol="jt808", ident="13900008001")
    now = clock.now().replace(microsecond=0)
    options = StreamOptions.from_url(stream_url)

    async def scenario() -> tuple[list, dict]:
        gateway = Ingestion(jt808_port=0, host="127.0.0.1", event_stream=stream_url, mqtt_url="")
        pipeline = Pipeline()
        worker = FixWorker(stream_url, pipeline, fetch_timeout=0.2)
        await gateway.start()
        await pipeline.start()
        await worker.start()
        watcher = await nats.connect(stream_url.split("?")[0])
        bridged: list[dict] = []

        async def collect(msg) -> None:
            bridged.append(json.loads(msg.data)["p"])

        await watcher.subscribe(f"{options.events_prefix}.alarms", cb=collect)
        try:
            async with Jt808Client("127.0.0.1", gateway.gateway.port, "13900008001") as c:
                reg = await c.register()
                assert (await c.authenticate(reg.auth_code)).result == 0
                acks = [(await c.send_location(LocationReport.build(
                    lat=OUTSIDE[0], lon=OUTSIDE[1], time=now - timedelta(seconds=s)))).result for s in (300, 200, 100)]
                acks.append((await c.send_location(LocationReport.build(
                    lat=INSIDE[0], lon=INSIDE[1], time=now, alarm=1))).result)  # SOS
                late = [LocationReport.build(lat=INSIDE[0], lon=INSIDE[1], time=now - timedelta(hours=1, minutes=i))
                        for i in range(3)]
                acks.append((await c.send_batch(late, backfill=True)).result)
            assert acks == [0, 0, 0, 0, 0]  # each after the JetStream PubAck
            await _until(lambda: worker.counters["fixes"] == 7)
            await pipeline.drain()
            await _until(lambda: len(bridged) >= 2)
        finally:
            await worker.stop()
            await pipeline.stop()
            await gateway.stop()
            await watcher.close()
        return bridged, dict(worker.counters)

    bridged, counters = asyncio.run(scenario())
    assert counters.get("poison", 0) == 0
    db.info["actor"] = Actor.system("test")
    rows = db.execute(select(FixRecord)).scalars().all()
    assert len(rows) == 7 and sum(1 for r in rows if r.flags & 1) == 3
    types = {a.type for a in db.execute(select(Alarm)).scalars()}
    assert types == {"sos", "left_permitted_area"}
    assert {e["type"] for e in bridged} == types  # the worker's alarms reach other processes' screens
    assert all(e["subject_id"] == bracelet["subject"].id for e in bridged)


class _FlakyPipeline:
    """Stands in for Pipeline: the first ``fail`` commits raise, ``hold`` blocks them."""

    def __init__(self, fail: int = 0, hold: bool = False) -> None:
        self.fail, self.fixes = fail, []
        self.calls: list[int] = []  # fixes per submit
        self.hold = asyncio.Event() if hold else None
        self.entered = asyncio.Event()
        self.rules = SimpleNamespace(subject_filter=None)
        self.directory = SimpleNamespace(version=0, entries=lambda: [])

    async def submit(self, fixes):
        self.calls.append(len(fixes))
        self.entered.set()
        if self.hold is not None:
            await self.hold.wait()
        if self.fail:
            self.fail -= 1
            raise RuntimeError("database down")
        self.fixes.extend(fixes)
        return fixes


def _fixes(n: int) -> list[Fix]:
    t = clock.now().replace(microsecond=0)
    return [Fix(device_ident="13900000001", fix_time=t - timedelta(seconds=i), lat=36.8, lon=118.3,
                received_at=t) for i in range(n)]


def test_worker_acks_only_after_commit(stream_url):
    options = StreamOptions.from_url(stream_url)
    shard = shard_of("13900000001")

    async def pending() -> int:
        nc = await nats.connect(options.servers)
        try:
            return (await nc.jetstream().stream_info(options.stream)).state.messages
        finally:
            await nc.close()

    async def scenario() -> None:
        sink = JetStreamSink(stream_url)
        await sink.start()
        await sink.submit(_fixes(3))  # returns after the PubAck
        await sink.stop()
        assert await pending() == 1

        # a worker that dies in the middle of its commit: the message stays in the stream
        held = _FlakyPipeline(hold=True)
        first = FixWorker(stream_url, held, shards=[shard], ack_wait=1.0, fetch_timeout=0.2)
        await first.start()
        await asyncio.wait_for(held.entered.wait(), 5)
        await first.stop()
        assert await pending() == 1

        # a commit that fails is nak'ed and comes back; once committed it is acked and gone
        flaky = _FlakyPipeline(fail=1)
        second = FixWorker(stream_url, flaky, shards=[shard], ack_wait=1.0, fetch_timeout=0.2)
        await second.start()
        try:
            await _until(lambda: len(flaky.fixes) == 3)
            await _until(lambda: second.counters["messages"] == 1)
        finally:
            await second.stop()
        assert second.counters["commit_failed"] == 1
        assert await pending() == 0

    asyncio.run(scenario())


def test_worker_commits_the_fetches_of_its_shards_together(stream_url):
    """What the shards deliver while a commit runs goes to the database as one batch, not as
    a small commit per shard and fetch (which held a worker to a few hundred fixes a second)."""
    idents: dict[int, str] = {}
    n = 0
    while len(idents) < 8:
        ident = f"1390000{n:04d}"
        idents.setdefault(shard_of(ident), ident)
        n += 1
    first, *others = idents.values()
    t = clock.now().replace(microsecond=0)

    def fixes_of(ident: str, count: int) -> list[Fix]:
        return [Fix(device_ident=ident, fix_time=t - timedelta(seconds=i), lat=36.8, lon=118.3, received_at=t)
                for i in range(count)]

    async def scenario() -> list[int]:
        sink = JetStreamSink(stream_url)
        await sink.start()
        pipeline = _FlakyPipeline(hold=True)
        worker = FixWorker(stream_url, pipeline, fetch_timeout=0.2)
        try:
            await sink.submit(fixes_of(first, 1))
            await worker.start()
            async with asyncio.timeout(5):
                await pipeline.entered.wait()  # the first commit runs, and hangs
            await sink.submit([f for ident in others for f in fixes_of(ident, 2)])  # seven shards
            await _until(lambda: worker.batcher.pending == 14)
            pipeline.hold.set()
            await _until(lambda: worker.counters["messages"] == 8)
        finally:
            await worker.stop()
            await sink.stop()
        return pipeline.calls

    assert asyncio.run(scenario()) == [1, 14]


def test_stop_ends_a_worker_whose_fetch_swallowed_the_cancel():
    """On Python 3.11 asyncio.wait_for (inside nats-py's fetch) can swallow a cancel that lands
    as its wait ends: the worker's loop then fetched on and stop() waited forever."""

    class SwallowingFetch:
        calls = swallowed = 0

        async def fetch(self, batch, timeout):
            SwallowingFetch.calls += 1
            try:
                await asyncio.sleep(timeout)
            except asyncio.CancelledError:
                if SwallowingFetch.swallowed:
                    raise
                SwallowingFetch.swallowed += 1  # the first one only, as the race does
            raise TimeoutError

    async def scenario() -> bool:
        worker = FixWorker("nats://127.0.0.1:4222", _FlakyPipeline(), shards=[0], fetch_timeout=0.05)
        worker._tasks = [asyncio.create_task(worker._consume(0, SwallowingFetch()))]
        await asyncio.sleep(0.12)
        stopping = asyncio.ensure_future(worker.stop())
        done, _ = await asyncio.wait({stopping}, timeout=2)
        return stopping in done

    assert asyncio.run(scenario()), "stop() still waits for the worker's loop"
    assert SwallowingFetch.swallowed == 1 and SwallowingFetch.calls >= 2


def test_gateway_refuses_when_the_stream_is_gone(stream_url):
    options = StreamOptions.from_url(stream_url)

    async def scenario() -> int:
        sink = JetStreamSink(stream_url, publish_timeout=1.0)
        await sink.start()
        nc = await nats.connect(options.servers)
        await nc.jetstream().delete_stream(options.stream)
        await nc.close()
        try:
            await sink.submit(_fixes(1))
        except Exception:  # noqa: BLE001
            return sink.counters["publish_failed"]
        finally:
            await sink.stop()
        return 0

    assert asyncio.run(scenario()) == 1  # raised: the gateway answers the terminal "failure"
