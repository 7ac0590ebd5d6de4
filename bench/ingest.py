"""End-to-end ingestion over loopback TCP: JT/T 808 terminals → gateway → store → rules → alarms.

The server (the same :class:`~zhijiao.ingestion.runtime.Ingestion` that ``zhijiao gateway`` and
``zhijiao serve`` run) lives in a child process; this process plays the terminals, so on a 2-core
machine the client's CPU is not taken from the server's event loop. Every terminal authenticates
with its preset code; then two phases on the same connections:

1. **closed loop** (throughput): each terminal keeps ``--window`` reports unanswered.
   ``fixes_per_s`` = fixes acknowledged (0x8001 result 0, i.e. committed) and evaluated by the
   rules, over the time from the first report sent to the last fix leaving the rules stage;
   ``ack_per_s`` up to the last acknowledgement only. Server CPU per fix, and the CPU of its two
   worker-thread stages (store, rules).
2. **paced** (latency): every terminal sends at a fixed rate, ``--rate`` in all (capped at 80 %
   of what phase 1 sustained: latency under an overload is only the queue). Injected: 1 % of the
   terminals press SOS (alarm at once), 1 % leave the district (alarm after the 2-minute dwell of
   fix time). ``alarm_latency_ms``: from the receipt of the fix that opened an alarm (its
   ``received_at``) to the alarm's publication on the event bus; ``fix_latency_ms``: receipt →
   rules done, over every fix. Timed by the client too (its clock, the same machine's), so the
   time a report waits in the sockets before the server reads it is in them:
   ``alarm_latency_from_send_ms``, from the write of the report that opened an alarm to the
   alarm's publication; ``ack_latency_ms``, from each report's write to its 0x8001 (committed)
   coming back. ``achieved_per_s``: fixes through the rules a second, from the
   first to leave them to the last (a server that keeps up shows the offer);
   ``with_drain_per_s`` from the first report sent, so with one latency in it.

With ``--stream nats://127.0.0.1:4222`` the deployment past one process is measured instead: the
gateway in one process acknowledges after the JetStream PubAck, a ``FixWorker`` with the pipeline
in another stores and evaluates (``server_cpu_us_per_fix`` is then the worker's; the gateway's
CPU is in ``cpu_s.gateway``).

On PostgreSQL also ``copy_rows_per_s``: the same rows ``COPY``'d into a copy of the fixes table
(raw bytes, and rows written from Python), the physical limit of the storage path.

The server sets CPython's garbage collector as ``zhijiao serve`` does (``core.heap``);
``--default-gc`` leaves the defaults, to compare. ``gc_cpu_us_per_fix``: the collector's share.

    PYTHONPATH=src python bench/ingest.py [--terminals 2000] [--fixes 60] [--paced-fixes 150]
        [--window 16] [--rate 12000] [--backends sqlite,postgresql] [--profile DIR]
        [--stream nats://127.0.0.1:4222] [--default-gc]

Prints one JSON line. ``--profile DIR`` writes the server's cProfile stats (event-loop thread).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
PG_ADMIN = os.environ.get("ZHIJIAO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
# BENCH_SRC: run the server from another checkout's src (to compare before/after a change)
SRC = os.environ.get("BENCH_SRC") or str(Path(__file__).resolve().parent.parent / "src")
DISTRICT_OUTSIDE = (36.60, 118.05)  # ~20 km south-west of 临淄区, in 张店/淄川
SOS_AT, LEAVE_AT = 0.5, 0.1  # share of a terminal's reports before it presses SOS / leaves


def _env(tmp: Path, url: str) -> dict[str, str]:
    from _common import free_port

    # the gateway listens on a free port (port 0 below); the setting too, never a demo's 6808
    return {**os.environ, "ZHIJIAO_JT808_PORT": str(free_port()),
            "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "ZHIJIAO_DATA_DIR": str(tmp), "ZHIJIAO_DEMO_MODE": "true", "ZHIJIAO_DATABASE_URL": url,
            "ZHIJIAO_SECRET_KEY": "bench-" + uuid.uuid4().hex, "ZHIJIAO_MQTT_URL": "",
            "ZHIJIAO_JT808_ENABLED": "true"}


def code_for(n: int) -> str:
    return f"bench-code-{n}"


def ident_for(n: int) -> str:
    return f"1380{n:07d}"


def terminal_of(ident: str) -> int:
    """The ``n`` of :func:`ident_for`."""
    return int(ident[4:])


# --------------------------------------------------------------------------------------------
# Database set-up (parent process)


def setup_database(url: str, terminals: int, rng: random.Random) -> list[tuple[float, float]]:
    """Bureau, offices, the district zone, and one subject + bracelet + order per terminal."""
    from sqlalchemy import insert, text

    from zhijiao.core import clock
    from zhijiao.db import migrate
    from zhijiao.db import session as dbsession
    from zhijiao.demo import seed as demo_seed
    from zhijiao.monitoring.geofence import linzi_boundary
    from zhijiao.monitoring.models import Device, DeviceBinding, PositioningOrder
    from zhijiao.security.crypto import get_keyring
    from zhijiao.subjects import idcard
    from zhijiao.subjects.models import Subject

    import shapely

    migrate.upgrade(url)
    engine = dbsession.configure(url)
    demo_seed.seed(subjects=0)  # bureau, offices, staff and the district boundary zone
    with engine.connect() as conn:
        office_ids = [r[0] for r in conn.execute(text("SELECT id FROM offices"))]
    boundary = linzi_boundary().geometry.buffer(-0.01)
    shapely.prepare(boundary)
    centres = list(demo_seed.TOWN_CENTRES.values())
    homes: list[tuple[float, float]] = []
    while len(homes) < terminals:
        lat, lon = rng.choice(centres)
        lat, lon = lat + rng.uniform(-0.02, 0.02), lon + rng.uniform(-0.02, 0.02)
        if shapely.contains_xy(boundary, lon, lat):
            homes.append((lat, lon))
    ring = get_keyring()
    now = clock.now()
    today = clock.today_local()
    subjects = []
    for n in range(terminals):
        number = idcard.generate_id_number("370305", date(1980, 1, 1) + timedelta(days=n % 9000), "male", n % 500)
        subjects.append(dict(
            office_id=office_ids[n % len(office_ids)], name=f"测试{n}", gender="male", ethnicity="汉族",
            birth_date=date(1980, 1, 1), id_number=number, id_number_index=ring.blind_index(number),
            id_number_masked=idcard.mask_id_number(number), correction_type="probation", crime="盗窃罪",
            sentence="有期徒刑一年，缓刑二年", deciding_organ="淄博市临淄区人民法院",
            judgment_effective_date=today - timedelta(days=30), correction_start_date=today - timedelta(days=25),
            supervision_level="ordinary", is_minor=False, status="under_correction", version=1,
            home_lat=homes[n][0], home_lon=homes[n][1], created_at=now, updated_at=now,
        ))
    with engine.begin() as conn:
        sids = [r[0] for r in conn.execute(insert(Subject.__table__).returning(Subject.__table__.c.id), subjects)]
        dids = [r[0] for r in conn.execute(insert(Device.__table__).returning(Device.__table__.c.id), [
            dict(kind="bracelet", protocol="jt808", ident=ident_for(n), model_profile="default_bracelet",
                 secret_hash=hashlib.sha256(code_for(n).encode()).hexdigest(), active=True,
                 created_at=now, updated_at=now) for n in range(terminals)])]
        conn.execute(insert(DeviceBinding.__table__), [
            dict(device_id=d, subject_id=s, start_at=now - timedelta(days=1), bound_by="bench")
            for d, s in zip(dids, sids, strict=True)])
        conn.execute(insert(PositioningOrder.__table__), [
            dict(subject_id=s, trigger="left_without_approval", kind="initial", start_date=today - timedelta(days=1),
                 end_date=today + timedelta(days=60), approved_by_name="bench", approved_at=now, reason="基准测试")
            for s in sids])
    engine.dispose()
    return homes


# --------------------------------------------------------------------------------------------
# Frames (parent process, before the clock starts)


def build_frames(homes, fixes: int, paced: int, rng: random.Random):
    """Per terminal: auth, phase-1 reports (plain), phase-2 reports (with the injected violations).

    Fix times are one second apart, ending about now, so nothing counts as late data.
    """
    from zhijiao.ingestion.protocols.jt808.codec import LocationReport, TerminalAuth, Version, encode_message

    total = fixes + paced
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=total + 5)
    auth, phase1, phase2 = [], [], []
    kinds = {"sos": 0, "leave": 0}
    for n, (lat, lon) in enumerate(homes):
        phone = ident_for(n)
        auth.append(encode_message(TerminalAuth(code_for(n)), phone=phone, serial=0, version=Version.V2013))
        kind = "sos" if n % 100 == 1 else "leave" if n % 100 == 2 else None
        if kind:
            kinds[kind] += 1
        out = []
        for k in range(total):
            j = k - fixes  # index inside phase 2
            alarm = 1 if kind == "sos" and j == int(paced * SOS_AT) else 0
            if kind == "leave" and j >= int(paced * LEAVE_AT):
                p = (DISTRICT_OUTSIDE[0] + rng.uniform(-0.0002, 0.0002), DISTRICT_OUTSIDE[1] + rng.uniform(-0.0002, 0.0002))
            else:
                p = (lat + rng.uniform(-0.0002, 0.0002), lon + rng.uniform(-0.0002, 0.0002))
            report = LocationReport.build(lat=p[0], lon=p[1], time=base + timedelta(seconds=k), alarm=alarm,
                                          speed_kmh=round(rng.uniform(0, 5), 1), course_deg=rng.randrange(360),
                                          satellites=9)
            out.append(encode_message(report, phone=phone, serial=k + 1, version=Version.V2013))
        phase1.append(out[:fixes])
        phase2.append(out[fixes:])
    return auth, phase1, phase2, kinds, base + timedelta(seconds=fixes)


# --------------------------------------------------------------------------------------------
# Terminals (parent process)


class Tally:
    def __init__(self) -> None:
        self.ok = 0
        self.refused = 0
        self.first_sent = 0.0
        self.last_ack = 0.0


class Terminal(asyncio.Protocol):
    """One connection, as a protocol: writes pre-encoded frames, counts the 0x8001 results
    coming back as they are read (no task per terminal: the client's CPU is taken from the
    server's on a 2-core machine)."""

    def __init__(self) -> None:
        from zhijiao.ingestion.protocols.jt808.frame import FrameDecoder

        self.decoder = FrameDecoder()
        self.transport: asyncio.Transport | None = None
        self.acked = 0
        self.progress = asyncio.Event()
        self.waiting = False  # someone waits on progress
        self.tally: Tally | None = None
        self.logged_in: asyncio.Future[bool] | None = None
        self.lost = asyncio.get_running_loop().create_future()
        # paced phase: when each report was written, and each answer's wait (answers come in order)
        self.sent: list[float] | None = None
        self.answered = 0
        self.waits: list[float] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.logged_in is not None and not self.logged_in.done():
            self.logged_in.set_exception(RuntimeError("gateway closed during auth"))
        if not self.lost.done():
            self.lost.set_result(None)
        self.progress.set()

    def results(self, data: bytes) -> list[int]:
        """Result bytes of the 0x8001 replies (2013 header: 12 bytes, then 5 body bytes)."""
        return [p[16] for p in self.decoder.feed(data) if p[0] == 0x80 and p[1] == 0x01 and len(p) >= 17]

    def data_received(self, data: bytes) -> None:
        results = self.results(data)
        if not results:
            return
        if self.logged_in is not None and not self.logged_in.done():
            self.logged_in.set_result(results[0] == 0)
            results = results[1:]
        tally = self.tally
        if tally is None or not results:
            return
        self.acked += len(results)
        sent = self.sent
        if sent is not None:
            now = time.time()
            first, self.answered = self.answered, self.answered + len(results)
            self.waits.extend(now - at for at in sent[first:self.answered])
        ok = results.count(0)
        tally.ok += ok
        tally.refused += len(results) - ok
        tally.last_ack = time.time()
        if self.waiting:
            self.progress.set()

    async def login(self, auth: bytes) -> None:
        self.logged_in = asyncio.get_running_loop().create_future()
        self.transport.write(auth)
        if not await self.logged_in:
            raise RuntimeError("authentication refused")

    async def until_acked(self, count: int) -> None:
        self.waiting = True
        while self.acked < count and not self.lost.done():
            self.progress.clear()
            await self.progress.wait()
        self.waiting = False
        if self.acked < count:
            raise RuntimeError("gateway closed the connection")

    async def closed_loop(self, frames: list[bytes], window: int) -> None:
        """Phase 1: keep ``window`` reports unanswered, as fast as the gateway answers."""
        sent, start = 0, self.acked
        self.waiting = True
        while self.acked - start < len(frames):
            if sent < len(frames) and sent - (self.acked - start) < window:
                end = min(len(frames), self.acked - start + window)
                self.transport.write(b"".join(frames[sent:end]))
                sent = end
            if self.lost.done():
                raise RuntimeError("gateway closed the connection")
            self.progress.clear()
            await self.progress.wait()
        self.waiting = False


async def pace(terminals: list[Terminal], frames: list[list[bytes]], interval: float, t0: float) -> None:
    """Phase 2: terminal ``i`` sends report ``k`` at ``t0 + (k + i / n) * interval``, whatever the
    answers: one timer for all terminals, waking every millisecond or so to send what is due."""
    loop = asyncio.get_running_loop()
    n = len(terminals)
    step = interval / n
    total = n * min(len(f) for f in frames)
    for t in terminals:
        t.sent, t.answered = [], 0
    m = 0
    while m < total:
        due = min(total, int((loop.time() - t0) / step) + 1)  # reports whose time has come
        now = time.time()  # (taken before the writes: a wait counted from it is never too short)
        while m < due:
            k, i = divmod(m, n)
            terminal = terminals[i]
            terminal.transport.write(frames[i][k])
            terminal.sent.append(now)
            m += 1
        if m < total:
            # (the loop's timers have a resolution of a millisecond: shorter sleeps would spin)
            await asyncio.sleep(max(0.001, t0 + m * step - loop.time()))


async def drive(host: str, port: int, auth, phase1, phase2, window: int, control) -> dict:
    """Connect and log in every terminal, then the two phases; ``control`` talks to the server."""
    loop = asyncio.get_running_loop()
    terminals: list[Terminal] = []
    for i in range(0, len(auth), 200):  # connect in waves
        conns = await asyncio.gather(*(loop.create_connection(Terminal, host, port) for _ in auth[i:i + 200]))
        batch = [protocol for _transport, protocol in conns]
        await asyncio.gather(*(t.login(a) for t, a in zip(batch, auth[i:i + 200], strict=True)))
        terminals.extend(batch)
    out: dict = {}
    await loop.run_in_executor(None, control, "START")
    one = Tally()
    for t in terminals:
        t.tally = one
    one.first_sent = time.time()
    await asyncio.gather(*(t.closed_loop(f, window) for t, f in zip(terminals, phase1, strict=True)))
    out["closed"] = one
    out["closed_client_cpu_s"] = time.process_time()
    out["closed_done"] = json.loads(await loop.run_in_executor(None, control, f"MARK {one.ok}"))
    elapsed = out["closed_done"]["done_at"] - one.first_sent
    # Offered load of phase 2: the target, or 80 % of what phase 1 sustained if that is less.
    rate = out["rate"] = min(control.rate, 0.8 * one.ok / elapsed)
    await loop.run_in_executor(None, control, "RESET")
    two = Tally()
    starts = []
    for t in terminals:
        t.tally = two
        starts.append(t.acked)
    interval = len(terminals) / rate
    t0 = loop.time() + 0.2
    two.first_sent = time.time() + 0.2
    await pace(terminals, phase2, interval, t0)
    await asyncio.gather(*(t.until_acked(s + len(f)) for t, s, f in zip(terminals, starts, phase2, strict=True)))
    out["paced"] = two
    out["paced_client_cpu_s"] = time.process_time() - out["closed_client_cpu_s"]
    out["ack_waits"] = sorted(w for t in terminals for w in t.waits)
    out["sent"] = [t.sent for t in terminals]
    for t in terminals:
        t.transport.close()
    return out


# --------------------------------------------------------------------------------------------
# The server (child process): ``python bench/ingest.py serve``


class _GcClock:
    """CPU seconds the cyclic garbage collector took since the last reset, all threads."""

    def __init__(self) -> None:
        self.seconds, self._started = 0.0, 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, _info: dict) -> None:
        # a collection starts and stops in the thread that triggered it
        if phase == "start":
            self._started = time.thread_time()
        else:
            self.seconds += time.thread_time() - self._started

    def take(self) -> float:
        seconds, self.seconds = self.seconds, 0.0
        return round(seconds, 2)


def serve(profile_dir: str | None, role: str = "serve", stream: str | None = None,
          default_gc: bool = False) -> None:
    """``serve``: gateway and pipeline in one process (the default deployment). With a NATS
    ``stream``: ``gateway`` (acks after the JetStream PubAck) or ``worker`` (the pipeline behind
    it), each a process of its own; the worker answers the measurement commands."""
    import logging

    logging.basicConfig(level=logging.WARNING)
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    profiler = None
    if profile_dir:
        import cProfile

        profiler = cProfile.Profile(time.thread_time)
    asyncio.run(_serve(profiler, profile_dir, role, stream, default_gc))


async def _serve(profiler, profile_dir: str | None, role: str = "serve", stream: str | None = None,
                 default_gc: bool = False) -> None:
    from zhijiao.core import events, topics
    from zhijiao.ingestion.runtime import Ingestion

    alarms: list[tuple[float, dict]] = []
    events.on(topics.ALARMS, lambda p: alarms.append((time.time(), p)) if p.get("change") == topics.AlarmChange.opened
              else None)
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str] = asyncio.Queue()
    threading.Thread(target=lambda: [loop.call_soon_threadsafe(lines.put_nowait, line) for line in sys.stdin],
                     daemon=True).start()
    if role == "gateway":
        ingestion = Ingestion(jt808_port=0, host="127.0.0.1", event_stream=stream)
        await ingestion.start()
        if not default_gc:
            from zhijiao.core import heap

            heap.tune_for_service()  # as ``zhijiao gateway`` does
        print(f"READY {ingestion.gateway.port}", flush=True)
        while (await lines.get()).split()[:1] != ["STOP"]:
            pass
        await ingestion.stop()
        return
    if role == "worker":
        from zhijiao.ingestion import nats as zj_nats
        from zhijiao.ingestion.pipeline import Pipeline

        pipeline = Pipeline()
        ingestion = type("WorkerOnly", (), {"pipeline": pipeline, "gateway": None})()
        stages = _time_stages(ingestion, profile_dir)
        await pipeline.start()
        worker = zj_nats.FixWorker(stream, pipeline)
        await worker.start()
        print("READY 0", flush=True)
    else:
        ingestion = Ingestion(jt808_port=0, host="127.0.0.1")
        stages = _time_stages(ingestion, profile_dir)
        await ingestion.start()
        pipeline = ingestion.pipeline
        print(f"READY {ingestion.gateway.port}", flush=True)
    if not default_gc:
        from zhijiao.core import heap

        heap.tune_for_service()  # as ``zhijiao serve`` and ``zhijiao worker`` do
    gc_clock = _GcClock()
    cpu0 = time.process_time()
    first_done: list[float] = []  # paced phase: when the first fixes left the rules, and how many
    watchers: set[asyncio.Task] = set()  # (a task nothing refers to may be collected while it runs)

    async def processed(expected: int) -> float:
        deadline = time.time() + 600
        while pipeline.processed < expected and time.time() < deadline:
            await asyncio.sleep(0.002)
        return time.time()

    while True:
        line = (await lines.get()).split()
        if not line:
            continue
        if line[0] == "START":
            cpu0 = time.process_time()
            gc_clock.take()
            for k in stages:
                stages[k] = 0.0
            if profiler is not None:
                profiler.enable()
            print("OK", flush=True)
        elif line[0] == "MARK":
            done_at = await processed(int(line[1]))
            print(json.dumps({"done_at": done_at, "cpu_s": round(time.process_time() - cpu0, 2),
                              "gc_cpu_s": gc_clock.take(),
                              "stage_cpu_s": {k: round(v, 2) for k, v in stages.items()}}), flush=True)
        elif line[0] == "RESET":
            await pipeline.drain()
            first_done.clear()
            watchers.add(asyncio.create_task(_first_done(pipeline, first_done)))
            pipeline.latency_s.clear()
            alarms.clear()
            cpu0 = time.process_time()
            gc_clock.take()
            for k in stages:
                stages[k] = 0.0
            print("OK", flush=True)
        elif line[0] == "DRAIN":
            done_at = await processed(int(line[1]))
            await pipeline.drain()
            paced_cpu_s = time.process_time() - cpu0
            if profiler is not None:
                profiler.disable()
                Path(profile_dir).mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(str(Path(profile_dir) / f"server-{os.getpid()}.prof"))
            await asyncio.sleep(0.5)  # alarms published by the last batches
            lat, alarm_events = await asyncio.to_thread(_alarm_latencies, alarms)
            print(json.dumps({
                "done_at": done_at, "processed": pipeline.processed, "cpu_s": round(paced_cpu_s, 2),
                "first_done": first_done,
                "gc_cpu_s": gc_clock.take(),
                "stage_cpu_s": dict(stages),
                "fix_latency_s": sorted(pipeline.latency_s), "alarm_latency_s": lat,
                "alarm_events": alarm_events,
                "alarm_types": _count(p["type"] for _, p in alarms),
                "gateway": {k: v for k, v in ingestion.gateway.counters.items() if v} if ingestion.gateway else {},
                "store": dict(pipeline.store.counters), "rules": dict(pipeline.rules.counters),
            }), flush=True)
        elif line[0] == "STOP":
            if role == "worker":
                await worker.stop()
                await pipeline.stop()
            else:
                await ingestion.stop()
            return


async def _first_done(pipeline, out: list[float]) -> None:
    base = pipeline.processed
    while pipeline.processed == base:
        await asyncio.sleep(0.001)
    out.extend([time.time(), pipeline.processed - base])


def _time_stages(ingestion, profile_dir: str | None = None) -> dict[str, float]:
    """CPU seconds of the two worker-thread stages (store, rules), for the report; with
    ``profile_dir``, each stage's cProfile stats too (written at exit)."""
    import atexit
    import cProfile

    stages = {"store": 0.0, "rules": 0.0}
    pipeline = ingestion.pipeline

    def timed(name, fn):
        profiler = cProfile.Profile(time.thread_time) if profile_dir else None
        if profiler is not None:
            def dump():
                Path(profile_dir).mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(str(Path(profile_dir) / f"{name}-{os.getpid()}.prof"))
            atexit.register(dump)

        def wrapper(*args):
            t = time.thread_time()
            if profiler is not None:
                profiler.enable()
            try:
                return fn(*args)
            finally:
                if profiler is not None:
                    profiler.disable()
                stages[name] += time.thread_time() - t
        return wrapper

    pipeline.store.store = timed("store", pipeline.store.store)
    pipeline._process = timed("rules", pipeline._process)
    return stages


def _count(items) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items:
        out[item] = out.get(item, 0) + 1
    return out


def _alarm_latencies(alarms: list[tuple[float, dict]]) -> tuple[list[float], list[tuple[str, str, float]]]:
    """Publication time minus the receipt of the fix that opened the alarm (its last_at); and,
    for the client to time from its own send, each alarm's (terminal, fix time, publication)."""
    from sqlalchemy import select

    from zhijiao.db import session as dbsession
    from zhijiao.monitoring.models import Device, FixRecord

    out, events = [], []
    with dbsession.get_engine().connect() as conn:
        for published, p in alarms:
            at = datetime.fromisoformat(p["last_at"])
            row = conn.execute(select(FixRecord.received_at, Device.ident).join(
                Device, Device.id == FixRecord.device_id).where(
                FixRecord.subject_id == p["subject_id"], FixRecord.fix_time == at)).first()
            if row is not None:
                received = row[0] if row[0].tzinfo else row[0].replace(tzinfo=UTC)
                out.append(published - received.timestamp())
                events.append((row[1], at.astimezone(UTC).isoformat(), published))
    return sorted(out), events


# --------------------------------------------------------------------------------------------
# One backend


def _pct_ms(values: list[float], p: float) -> float | None:
    if not values:
        return None
    from _common import pct

    return round(pct(values, p) * 1000, 1)


class Control:
    """The server's stdin/stdout: one command line, one answer line."""

    def __init__(self, server: subprocess.Popen, rate: float) -> None:
        self.server, self.rate = server, rate

    def __call__(self, command: str) -> str:
        self.server.stdin.write(command + "\n")
        self.server.stdin.flush()
        return self.server.stdout.readline()


def run_backend(label: str, url: str, args, tmp: Path) -> dict:
    rng = random.Random(808)
    t0 = time.perf_counter()
    homes = setup_database(url, args.terminals, rng)
    auth, phase1, phase2, kinds, paced_base = build_frames(homes, args.fixes, args.paced_fixes, rng)
    setup_s = time.perf_counter() - t0
    cmd = [sys.executable, __file__, "serve"] + (["--profile", args.profile] if args.profile else [])
    cmd += ["--default-gc"] if args.default_gc else []
    gateway = None
    if args.stream:
        # a stream of its own per run, so that nothing of an earlier run is redelivered
        tag = uuid.uuid4().hex[:8]
        stream = f"{args.stream}?stream=BENCH_{tag}&prefix=bench.{tag}"
        cmd += ["--role", "worker", "--stream", stream]
        gateway = subprocess.Popen([sys.executable, __file__, "serve", "--role", "gateway", "--stream", stream]
                                   + (["--default-gc"] if args.default_gc else []),
                                   env=_env(tmp, url), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    server = subprocess.Popen(cmd, env=_env(tmp, url), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    control = Control(server, args.rate)
    try:
        ready = server.stdout.readline().split()
        assert ready and ready[0] == "READY", ready
        if gateway is not None:
            ready = gateway.stdout.readline().split()
            assert ready and ready[0] == "READY", ready
            gateway_cpu0 = _process_cpu(gateway.pid)
        try:
            import uvloop

            runner = uvloop.run
        except ImportError:
            runner = asyncio.run
        pg0, cpu0 = _postgres_cpu(), time.process_time()
        run = runner(drive("127.0.0.1", int(ready[1]), auth, phase1, phase2, args.window, control))
        client_cpu = time.process_time() - cpu0
        one, two = run["closed"], run["paced"]
        stats = json.loads(control(f"DRAIN {one.ok + two.ok}"))
        pg_cpu = _postgres_cpu() - pg0
        gateway_cpu = _process_cpu(gateway.pid) - gateway_cpu0 if gateway is not None else None
        control("STOP")
        server.wait(timeout=60)
        if gateway is not None:
            gateway.stdin.write("STOP\n")
            gateway.stdin.flush()
            gateway.wait(timeout=60)
    finally:
        for process in (server, gateway):
            if process is not None and process.poll() is None:
                process.kill()
    closed = run["closed_done"]
    elapsed = closed["done_at"] - one.first_sent
    fixes = one.ok + two.ok
    out = {
        "backend": label,
        "terminals": args.terminals,
        "fixes_per_s": round(one.ok / elapsed),
        "ack_per_s": round(one.ok / (one.last_ack - one.first_sent)),
        "closed_loop": {"fixes": one.ok, "refused": one.refused, "window": args.window,
                        "server_cpu_us_per_fix": round(closed["cpu_s"] / one.ok * 1e6, 1),
                        "gc_cpu_us_per_fix": round(closed["gc_cpu_s"] / one.ok * 1e6, 1),
                        "stage_cpu_us_per_fix": {k: round(v / one.ok * 1e6, 1) for k, v in closed["stage_cpu_s"].items()}},
        "paced": {"fixes": two.ok, "refused": two.refused, "offered_per_s": round(run["rate"]),
                  "achieved_per_s": _sustained(two.ok, stats),
                  "with_drain_per_s": round(two.ok / (stats["done_at"] - two.first_sent)),
                  "server_cpu_us_per_fix": round(stats["cpu_s"] / max(two.ok, 1) * 1e6, 1),
                  "gc_cpu_us_per_fix": round(stats["gc_cpu_s"] / max(two.ok, 1) * 1e6, 1),
                  "client_cpu_us_per_fix": round(run["paced_client_cpu_s"] / max(two.ok, 1) * 1e6, 1),
                  "stage_cpu_us_per_fix": {k: round(v / max(two.ok, 1) * 1e6, 1) for k, v in stats["stage_cpu_s"].items()},
                  "alarm_latency_ms": {"p50": _pct_ms(stats["alarm_latency_s"], 50),
                                       "p99": _pct_ms(stats["alarm_latency_s"], 99),
                                       "n": len(stats["alarm_latency_s"])},
                  "alarm_latency_from_send_ms": _from_send(stats["alarm_events"], run["sent"], paced_base),
                  "ack_latency_ms": {"p50": _pct_ms(run["ack_waits"], 50), "p99": _pct_ms(run["ack_waits"], 99),
                                     "max": _pct_ms(run["ack_waits"], 100)},
                  "fix_latency_ms": {"p50": _pct_ms(stats["fix_latency_s"], 50),
                                     "p99": _pct_ms(stats["fix_latency_s"], 99)},
                  "alarms": stats["alarm_types"], "injected": kinds},
        "cpu_s": {"client": round(client_cpu, 1), "postgres": round(pg_cpu, 1) if label == "postgresql" else None,
                  **({"gateway": round(gateway_cpu, 1)} if gateway_cpu is not None else {})},
        "stream": "nats" if args.stream else "embedded",
        "collector": "default" if args.default_gc else "service",
        "setup_s": round(setup_s, 1),
        "stored": stats["store"].get("stored"), "evaluated": stats["rules"].get("evaluated"),
        "all_fixes": fixes,
    }
    if label == "postgresql":
        out["copy_rows_per_s"] = copy_rate(url)
    return out


def _from_send(events: list, sent: list[list[float]], paced_base: datetime) -> dict:
    """Alarm latency as a terminal would see it: from the write of the report that opened the
    alarm (the client's clock, the same machine's) to the alarm's publication. Unlike
    ``alarm_latency_ms`` it includes the time the report waited in the sockets before the
    server read it."""
    waits = []
    for ident, fix_time, published in events:
        k = round((datetime.fromisoformat(fix_time) - paced_base).total_seconds())
        times = sent[terminal_of(ident)]
        if 0 <= k < len(times):
            waits.append(published - times[k])
    waits.sort()
    return {"p50": _pct_ms(waits, 50), "p99": _pct_ms(waits, 99), "n": len(waits)}


def _sustained(fixes: int, stats: dict) -> int | None:
    """Fixes a second through the rules, from the first to leave them to the last: a server that
    keeps up with a steady offer shows that offer, whatever its latency (``with_drain_per_s``
    counts from the first report sent, so one latency is in it and it stays under the offer)."""
    if not stats.get("first_done"):
        return None
    at, first = stats["first_done"]
    return round((fixes - first) / max(stats["done_at"] - at, 1e-9))


def _process_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as fh:
        parts = fh.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> float:
    """CPU seconds used so far by the local PostgreSQL server processes (Linux /proc), 0 if unknown."""
    total = 0.0
    for pid in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/comm") as fh:
                if fh.read().strip() != "postgres":
                    continue
            total += _process_cpu(int(pid))
        except OSError:
            continue
    return total


def copy_rate(url: str) -> dict:
    """The same rows COPY'd into a copy of the fixes table: raw bytes, and rows from Python."""
    import psycopg

    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo, autocommit=True) as conn, conn.cursor() as cur:
        cols = ("device_id, subject_id, fix_time, received_at, lat, lon, accuracy_m, source, speed_kmh, "
                "course_deg, battery_pct, alarm_bits, flags")
        buf = bytearray()
        with cur.copy(f"COPY fixes ({cols}) TO STDOUT") as copy:
            for chunk in copy:
                buf += chunk
        rows = cur.execute(f"SELECT {cols} FROM fixes").fetchall()
        results = {}
        for name, write in (("raw", lambda c: c.write(buf)), ("rows", lambda c: [c.write_row(r) for r in rows])):
            cur.execute("DROP TABLE IF EXISTS bench_copy")
            cur.execute("CREATE TABLE bench_copy (LIKE fixes INCLUDING ALL)")
            t = time.perf_counter()
            with conn.transaction(), cur.copy(f"COPY bench_copy ({cols}) FROM STDIN") as copy:
                write(copy)
            results[name] = round(len(rows) / (time.perf_counter() - t))
        cur.execute("DROP TABLE bench_copy")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("mode", nargs="?", default="run", choices=["run", "serve"])
    parser.add_argument("--terminals", type=int, default=int(os.environ.get("BENCH_TERMINALS", "2000")))
    parser.add_argument("--fixes", type=int, default=int(os.environ.get("BENCH_FIXES", "60")),
                        help="reports per terminal in the closed-loop (throughput) phase")
    parser.add_argument("--paced-fixes", type=int, default=int(os.environ.get("BENCH_PACED_FIXES", "150")),
                        help="reports per terminal in the paced (latency) phase; the leave violation needs > 120")
    parser.add_argument("--rate", type=float, default=12000.0,
                        help="offered fixes/s of the paced phase (capped at 80 %% of the closed-loop rate)")
    parser.add_argument("--window", type=int, default=16, help="unanswered reports per connection")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--profile", default=None, help="directory for the server's cProfile stats")
    parser.add_argument("--stream", default=None,
                        help="nats://127.0.0.1:4222: the gateway publishes to JetStream, a worker process stores")
    parser.add_argument("--default-gc", action="store_true",
                        help="leave CPython's collector as it is in the server, to compare with the service's setting")
    parser.add_argument("--role", default="serve", choices=["serve", "gateway", "worker"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "serve":
        serve(args.profile, args.role, args.stream, args.default_gc)
        return
    tmp = Path(tempfile.mkdtemp(prefix="zhijiao-bench-ingest-"))
    os.environ.update(_env(tmp, f"sqlite:///{tmp / 'bench.db'}"))
    from sqlalchemy import create_engine, text

    from _common import machine

    results = []
    for label in args.backends.split(","):
        if label == "sqlite":
            results.append(run_backend("sqlite", f"sqlite:///{tmp / 'bench.db'}", args, tmp))
            continue
        name = f"zhijiao_bench_{uuid.uuid4().hex[:8]}"
        try:
            admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001
            results.append({"backend": "postgresql", "skipped": str(exc).splitlines()[0]})
            continue
        try:
            results.append(run_backend("postgresql", PG_ADMIN.rsplit("/", 1)[0] + "/" + name, args, tmp))
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(json.dumps({"bench": "ingest", "target_fixes_per_s": 12000, "target_alarm_p99_ms": 1000,
                      "results": results, "machine": machine()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
