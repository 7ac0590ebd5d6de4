"""Beyond one machine: fixes through NATS JetStream, from gateways to workers.

With ``ZHIJIAO_EVENT_STREAM=nats://host:4222`` a gateway process (``zhijiao gateway``, or the
device inputs of ``zhijiao serve``) does not store fixes itself. Its sink is
:class:`JetStreamSink`: the fixes of a gateway batch are grouped by shard and published to the
durable stream ``ZHIJIAO_FIXES`` on ``zhijiao.fixes.<shard>``, shard = CRC-32 of the device
identifier mod 16, so one device always lands on one shard and its fixes stay in order.

**Ack to the device after the JetStream PubAck.** ``JetStreamSink.submit`` returns only when
every shard's publish was acknowledged by the server (file storage: the message is on disk, and
on a quorum of replicas in a cluster); if any publish fails it raises, and the gateway answers
the terminal 0x8001 result 1 so that it resends. Each message carries a ``Nats-Msg-Id`` (hash of
its content), so a resend inside the stream's duplicate window is stored once.

**Ack to JetStream after the commit.** ``zhijiao worker`` processes (:class:`FixWorker`) pull
from one durable consumer per shard (``zhijiao-fixes-<shard>``, explicit acks). A worker fetches
a batch, commits it through :class:`~.pipeline.Pipeline` (``submit`` returns after the
:class:`~.store.FixStore` commit) and only then acknowledges each message. The fetches of all
its shards meet in one :class:`~.batcher.FixBatcher`, as a gateway's connections do: one commit
for what arrived meanwhile, not one small commit per shard and fetch. If the commit fails
the messages are nak'ed with a delay; if the worker dies they are redelivered after ``ack_wait``.
Delivery is at least once and the store is idempotent. The stream uses work-queue retention:
a message is gone once a worker has acknowledged it.

Workers sharing the consumers of a shard form a queue group: each message goes to one of them.
The rules keep per-subject state in memory, so a subject's fixes should reach one worker: give
each worker its own shards (``zhijiao worker --shards 0-7`` and ``--shards 8-15``); a second
worker on the same shards is a warm standby that also takes part of the load, and only the
worker owning a subject's shard judges its silence (lost contact). The worker that owns shard 0
also runs the escalation of unacknowledged alarms.

Events: :class:`EventBridge` carries the ``alarms`` and ``positions`` topics of the in-process
event bus over core NATS (``zhijiao.events.<topic>``), so alarms raised by a worker reach the
screens of every ``serve`` process.

The URL may carry ``?stream=NAME&prefix=SUBJECT.PREFIX`` (defaults ``ZHIJIAO_FIXES`` and
``zhijiao.fixes``), for tests and for several bureaus on one NATS.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import hashlib
import json
import logging
import threading
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from zhijiao.config import MissingExtra

try:
    import nats
    from nats.aio.client import Client as NatsClient
    from nats.js import JetStreamContext, api
    from nats.js.errors import BadRequestError, NotFoundError
except ImportError as exc:  # the optional extra zhijiao[nats]
    raise MissingExtra("nats") from exc

from zhijiao.core import events, topics
from zhijiao.core.fix import Fix, FixSource
from zhijiao.ingestion.pipeline import Pipeline
from zhijiao.ingestion.batcher import FixBatcher

log = logging.getLogger(__name__)

SHARDS = 16
BRIDGED_TOPICS = (topics.ALARMS, topics.POSITIONS)


@dataclass(frozen=True)
class StreamOptions:
    servers: str
    stream: str = "ZHIJIAO_FIXES"
    prefix: str = "zhijiao.fixes"
    events_prefix: str = "zhijiao.events"

    @classmethod
    def from_url(cls, url: str) -> StreamOptions:
        parts = urlsplit(url)
        if parts.scheme not in ("nats", "tls"):
            raise ValueError(f"event stream must be nats://host:port, got {url!r}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        prefix = query.get("prefix", "zhijiao.fixes").strip(".")
        return cls(servers=urlunsplit((parts.scheme, parts.netloc, "", "", "")),
                   stream=query.get("stream", "ZHIJIAO_FIXES"), prefix=prefix,
                   events_prefix=query.get("events", prefix.rsplit(".", 1)[0] + ".events"))

    def subject(self, shard: int) -> str:
        return f"{self.prefix}.{shard}"

    def consumer(self, shard: int) -> str:
        return f"{self.stream.lower().replace('_', '-')}-{shard}"


def shard_of(device_ident: str, shards: int = SHARDS) -> int:
    """Stable across processes and restarts (Python's own hash is salted per process)."""
    return zlib.crc32(device_ident.encode()) % shards


def parse_shards(spec: str, shards: int = SHARDS) -> list[int]:
    """``"0-7,12"`` → [0, …, 7, 12]; ``"all"`` or empty → every shard."""
    if not spec or spec == "all":
        return list(range(shards))
    out: set[int] = set()
    for part in spec.split(","):
        lo, _, hi = part.strip().partition("-")
        first, last = int(lo), int(hi or lo)
        if not 0 <= first <= last < shards:
            raise ValueError(f"shards are 0..{shards - 1}: {part!r}")
        out.update(range(first, last + 1))
    return sorted(out)


# --- wire format ------------------------------------------------------------------------------


def _fix_to_json(f: Fix) -> dict[str, Any]:
    return {"d": f.device_ident, "t": f.fix_time.timestamp(), "r": f.received_at.timestamp() if f.received_at else None,
            "lat": f.lat, "lon": f.lon, "src": str(f.source), "acc": f.accuracy_m, "spd": f.speed_kmh,
            "crs": f.course_deg, "alt": f.altitude_m, "bat": f.battery_pct, "al": f.alarm_bits, "bf": f.backfill,
            "x": f.extras}


def _fix_from_json(d: dict[str, Any]) -> Fix:
    return Fix(device_ident=str(d["d"]), fix_time=datetime.fromtimestamp(d["t"], UTC), lat=float(d["lat"]),
               lon=float(d["lon"]), source=FixSource(d.get("src", "gnss")), accuracy_m=d.get("acc"),
               speed_kmh=d.get("spd"), course_deg=d.get("crs"), altitude_m=d.get("alt"), battery_pct=d.get("bat"),
               alarm_bits=int(d.get("al") or 0), backfill=bool(d.get("bf")),
               received_at=datetime.fromtimestamp(d["r"], UTC) if d.get("r") is not None else None,
               extras=dict(d.get("x") or {}))


def encode_fixes(fixes: list[Fix]) -> bytes:
    return json.dumps([_fix_to_json(f) for f in fixes], separators=(",", ":")).encode()


def decode_fixes(data: bytes) -> list[Fix]:
    """Raises ``ValueError`` (or ``KeyError``/``TypeError``) on a message that is not ours."""
    items = json.loads(data)
    if not isinstance(items, list):
        raise ValueError("a fixes message is a JSON array")
    return [_fix_from_json(d) for d in items]


# --- connection and stream --------------------------------------------------------------------


async def connect(options: StreamOptions, *, name: str) -> tuple[NatsClient, JetStreamContext]:
    nc = await nats.connect(options.servers, name=name, max_reconnect_attempts=-1, reconnect_time_wait=1)
    return nc, nc.jetstream(timeout=10)


async def ensure_stream(js: JetStreamContext, options: StreamOptions, *, replicas: int = 1) -> None:
    config = api.StreamConfig(
        name=options.stream, subjects=[f"{options.prefix}.*"], retention=api.RetentionPolicy.WORK_QUEUE,
        storage=api.StorageType.FILE, num_replicas=replicas, duplicate_window=120.0, max_age=7 * 86400.0,
    )
    try:
        await js.stream_info(options.stream)
    except NotFoundError:
        with contextlib.suppress(BadRequestError):  # another process created it meanwhile
            await js.add_stream(config)


# --- the gateway side -------------------------------------------------------------------------


class JetStreamSink:
    """The FixSink of a gateway in a scaled deployment: ``submit`` returns after every PubAck."""

    def __init__(self, url: str, *, publish_timeout: float = 5.0) -> None:
        self.options = StreamOptions.from_url(url)
        self.publish_timeout = publish_timeout
        self.counters: collections.Counter[str] = collections.Counter()
        self._nc: NatsClient | None = None
        self._js: JetStreamContext | None = None

    async def start(self) -> None:
        self._nc, self._js = await connect(self.options, name="zhijiao-gateway")
        await ensure_stream(self._js, self.options)

    async def stop(self) -> None:
        if self._nc is not None:
            await self._nc.close()
            self._nc = None

    async def submit(self, fixes: list[Fix]) -> None:
        assert self._js is not None, "start() first"
        by_shard: dict[int, list[Fix]] = collections.defaultdict(list)
        for fix in fixes:
            by_shard[shard_of(fix.device_ident)].append(fix)
        results = await asyncio.gather(*(self._publish(shard, part) for shard, part in by_shard.items()),
                                       return_exceptions=True)
        failed = [r for r in results if isinstance(r, BaseException)]
        if failed:
            self.counters["publish_failed"] += len(failed)
            raise failed[0]
        self.counters["published"] += len(fixes)

    async def _publish(self, shard: int, fixes: list[Fix]) -> None:
        assert self._js is not None
        payload = encode_fixes(fixes)
        msg_id = hashlib.blake2b(payload, digest_size=16).hexdigest()
        await self._js.publish(self.options.subject(shard), payload, timeout=self.publish_timeout,
                               stream=self.options.stream, headers={"Nats-Msg-Id": msg_id})


# --- the worker side --------------------------------------------------------------------------


class FixWorker:
    """Pulls fixes of its shards, commits them through the pipeline, then acks JetStream."""

    def __init__(self, url: str, pipeline: Pipeline, *, shards: list[int] | None = None, batch: int = 128,
                 ack_wait: float = 30.0, fetch_timeout: float = 1.0) -> None:
        self.options = StreamOptions.from_url(url)
        self.pipeline = pipeline
        self.shards = list(range(SHARDS)) if shards is None else shards
        self.batch, self.ack_wait, self.fetch_timeout = batch, ack_wait, fetch_timeout
        self.counters: collections.Counter[str] = collections.Counter()
        self._nc: NatsClient | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.batcher: FixBatcher | None = None
        owned = set(self.shards)
        # Lost contact is judged only for subjects whose devices hash to this worker's shards.
        pipeline.rules.subject_filter = lambda sid: self._owns_subject(sid, owned)
        self._owned_cache: tuple[int, frozenset[int]] = (-1, frozenset())

    def _owns_subject(self, subject_id: int, owned: set[int]) -> bool:
        directory = self.pipeline.directory
        version = directory.version
        if self._owned_cache[0] != version:
            subjects = frozenset(e.subject_id for e in directory.entries()
                                 if e.subject_id is not None and shard_of(e.ident) in owned)
            self._owned_cache = (version, subjects)
        return subject_id in self._owned_cache[1]

    async def start(self) -> None:
        self._stopping = False
        self._nc, js = await connect(self.options, name="zhijiao-worker")
        await ensure_stream(js, self.options)
        self.batcher = FixBatcher(self.pipeline)
        await self.batcher.start()
        for shard in self.shards:
            config = api.ConsumerConfig(
                durable_name=self.options.consumer(shard), ack_policy=api.AckPolicy.EXPLICIT,
                ack_wait=self.ack_wait, max_ack_pending=self.batch * 4, filter_subject=self.options.subject(shard),
            )
            sub = await js.pull_subscribe(self.options.subject(shard), durable=self.options.consumer(shard),
                                          stream=self.options.stream, config=config)
            self._tasks.append(asyncio.create_task(self._consume(shard, sub), name=f"nats-shard-{shard}"))
        log.info("worker consuming shards %s of %s", self.shards, self.options.stream)

    async def stop(self) -> None:
        # The flag as well as the cancel: nats-py's fetch waits in asyncio.wait_for, which on
        # Python 3.11 swallows a cancel that lands as a message arrives (gh-86296), and the loop
        # would fetch on forever; with the flag it ends at its next fetch timeout.
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self.batcher is not None:
            batcher, self.batcher = self.batcher, None
            # What is pending may still commit; nothing of it is acked any more, so JetStream
            # redelivers it after ack_wait anyway (and the store skips what it already has):
            # waiting longer than that for a stuck database is pointless.
            try:
                await asyncio.wait_for(batcher.stop(), min(self.ack_wait, 5.0))
            except TimeoutError:
                await batcher.abort()
        if self._nc is not None:
            await self._nc.close()
            self._nc = None

    async def _consume(self, shard: int, sub: JetStreamContext.PullSubscription) -> None:
        while not self._stopping:
            try:
                msgs = await sub.fetch(self.batch, timeout=self.fetch_timeout)
            except TimeoutError:
                continue
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - connection trouble: nats-py reconnects, we retry
                log.exception("fetch from shard %d failed", shard)
                await asyncio.sleep(1.0)
                continue
            await self._handle(shard, msgs)

    async def _handle(self, shard: int, msgs: list) -> None:
        fixes: list[Fix] = []
        good = []
        for msg in msgs:
            try:
                fixes.extend(decode_fixes(msg.data))
                good.append(msg)
            except (ValueError, KeyError, TypeError):
                self.counters["poison"] += 1
                log.error("shard %d: dropping a message that is not a fixes batch", shard)
                await msg.term()
        if not good:
            return
        assert self.batcher is not None, "start() first"
        if not await self.batcher.submit(fixes):  # (the batcher logged why)
            log.error("shard %d: commit of %d fixes failed; will retry", shard, len(fixes))
            self.counters["commit_failed"] += len(good)
            for msg in good:
                await msg.nak(delay=2.0)
            return
        # Committed: only now may JetStream forget them.
        for msg in good:
            await msg.ack()
        self.counters["messages"] += len(good)
        self.counters["fixes"] += len(fixes)


# --- events over core NATS --------------------------------------------------------------------


class EventBridge:
    """Relays the bridged topics of the in-process bus to NATS and back, skipping its own echo."""

    def __init__(self, url: str, topics: tuple[str, ...] = BRIDGED_TOPICS) -> None:
        self.options = StreamOptions.from_url(url)
        self.topics = topics
        self.origin = uuid.uuid4().hex
        self._nc: NatsClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._offs: list = []
        self._relaying = threading.local()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._nc = await nats.connect(self.options.servers, name="zhijiao-events", max_reconnect_attempts=-1)
        await self._nc.subscribe(f"{self.options.events_prefix}.>", cb=self._incoming)
        for topic in self.topics:
            self._offs.append(events.on(topic, lambda payload, topic=topic: self._outgoing(topic, payload)))

    async def stop(self) -> None:
        for off in self._offs:
            off()
        self._offs = []
        if self._nc is not None:
            await self._nc.close()
            self._nc = None

    def _outgoing(self, topic: str, payload: dict) -> None:
        if getattr(self._relaying, "on", False) or self._nc is None or self._loop is None:
            return
        data = json.dumps({"o": self.origin, "p": payload}, default=str, separators=(",", ":")).encode()
        subject = f"{self.options.events_prefix}.{topic}"
        with contextlib.suppress(RuntimeError):  # loop closed at shutdown
            self._loop.call_soon_threadsafe(self._send, subject, data)

    def _send(self, subject: str, data: bytes) -> None:
        if self._nc is not None and not self._nc.is_closed:
            asyncio.ensure_future(self._nc.publish(subject, data))

    async def _incoming(self, msg) -> None:
        try:
            envelope = json.loads(msg.data)
        except ValueError:
            return
        if envelope.get("o") == self.origin:
            return
        topic = msg.subject[len(self.options.events_prefix) + 1:]
        self._relaying.on = True
        try:
            events.publish(topic, envelope.get("p") or {})
        finally:
            self._relaying.on = False
