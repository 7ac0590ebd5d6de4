"""Simulated bracelets: real JT/T 808 over TCP, moving around 临淄区, with the usual troubles.

Each device is a :class:`~zhijiao.ingestion.protocols.jt808.client.Jt808Client` on its own
connection. It registers (0x0100) and authenticates (0x0102): a fresh registration returns an auth
code, kept in ``<data_dir>/simulator-codes.json``; result 3 ("already registered") means the
platform gave this terminal a code before, so the stored one is used — restarts re-authenticate.

Movement (:class:`Walker`, pure and seeded): a subject lives at home, now and then walks to a
place nearby or drives to another town of the district and comes back, along straight legs that
stay inside the district boundary (through the district centre when a direct leg would cut
outside). Reports carry GPS noise (~10 m), and now and then a cell-tower fix (~300 m, marked
unpositioned). Devices drop out of coverage for a few minutes: they keep recording and send the
backlog as 0x0704 type 1 (补传) when back; reports not acknowledged (connection lost, gateway
restarting) are kept and sent the same way. Battery drains, raises the low-battery bit below
15 % and recharges at home.

Scripted violations, one every few minutes in turn (:data:`SCENARIOS`): a device leaves the
district for a while, one enters its own exclusion zone (known from the database), one presses
SOS, and at night one stays away from home.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import os
import random
import tempfile
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import shapely
from sqlalchemy import select

from zhijiao.config import get_settings
from zhijiao.core import clock
from zhijiao.db.session import session_scope
from zhijiao.demo.seed import BRACELETS, device_ident
from zhijiao.ingestion.protocols.jt808.client import Jt808Client
from zhijiao.ingestion.protocols.jt808.codec import (
    GeneralResult,
    LocationItem,
    LocationReport,
    RegisterResult,
    TerminalRegister,
    Version,
)
from zhijiao.monitoring.geofence import linzi_boundary
from zhijiao.monitoring.models import Device, DeviceBinding, Zone
from zhijiao.org.towns import TOWN_CENTRES
from zhijiao.security.actor import Actor
from zhijiao.subjects.models import Subject

log = logging.getLogger(__name__)

M_PER_DEG_LAT = 111_320.0
ALARM_SOS, ALARM_LOW_BATTERY = 1 << 0, 1 << 7
BATTERY_ITEM = 0xE1  # vendor item: battery percent (read when the device profile names it)
BATCH_ITEMS = 25  # 0x0704 items per message: stays under the 1023-byte body limit
SCENARIOS = ("leave", "exclusion", "sos", "night")


def _m_per_deg_lon(lat: float) -> float:
    return M_PER_DEG_LAT * math.cos(math.radians(lat))


def _distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (b[0] - a[0]) * M_PER_DEG_LAT
    dx = (b[1] - a[1]) * _m_per_deg_lon(a[0])
    return math.hypot(dx, dy)


def _offset(p: tuple[float, float], east_m: float, north_m: float) -> tuple[float, float]:
    return p[0] + north_m / M_PER_DEG_LAT, p[1] + east_m / _m_per_deg_lon(p[0])


class District:
    """The 临淄区 boundary and its town centres, for planning legs that stay inside."""

    def __init__(self, margin_deg: float = 0.003) -> None:

        self.boundary = linzi_boundary().geometry
        self.inner = self.boundary.buffer(-margin_deg)
        shapely.prepare(self.inner)
        c = self.inner.representative_point()
        self.centre = (c.y, c.x)
        # two of the approximate town centres lie just outside the packaged boundary
        self.towns = [self.pull_inside(t) for t in TOWN_CENTRES.values()]
        self.edge = list(self.boundary.exterior.coords) if hasattr(self.boundary, "exterior") else list(
            self.boundary.geoms[0].exterior.coords)

    def inside(self, p: tuple[float, float]) -> bool:
        return bool(shapely.contains_xy(self.inner, p[1], p[0]))

    def leg_inside(self, a: tuple[float, float], b: tuple[float, float]) -> bool:
        return bool(self.inner.contains(shapely.LineString([(a[1], a[0]), (b[1], b[0])])))

    def route(self, a: tuple[float, float], b: tuple[float, float]) -> list[tuple[float, float]] | None:
        """Waypoints from a to b inside the district (direct, or through the centre)."""
        if self.leg_inside(a, b):
            return [b]
        if self.leg_inside(a, self.centre) and self.leg_inside(self.centre, b):
            return [self.centre, b]
        return None

    def pull_inside(self, p: tuple[float, float]) -> tuple[float, float]:
        while not self.inside(p):
            p = (p[0] + 0.3 * (self.centre[0] - p[0]), p[1] + 0.3 * (self.centre[1] - p[1]))
        return p

    def outside_point(self, rng: random.Random, beyond_m: float = 4000.0) -> tuple[tuple[float, float], tuple[float, float]]:
        """A point on the boundary and one ``beyond_m`` farther out, away from the centre."""
        lon, lat = rng.choice(self.edge)
        edge = (lat, lon)
        dy = (lat - self.centre[0]) * M_PER_DEG_LAT
        dx = (lon - self.centre[1]) * _m_per_deg_lon(lat)
        norm = math.hypot(dx, dy) or 1.0
        return edge, _offset(edge, dx / norm * beyond_m, dy / norm * beyond_m)


@dataclass
class Sample:
    lat: float
    lon: float
    speed_kmh: float
    course_deg: int
    positioned: bool
    alarm: int
    battery_pct: int


@dataclass
class Walker:
    """One subject's day: pure, seeded, driven by the time it is asked about (``advance``)."""

    home: tuple[float, float]
    district: District
    rng: random.Random
    pos: tuple[float, float] = (0.0, 0.0)
    legs: deque = field(default_factory=deque)  # (target, speed m/s, dwell s after arriving)
    speed: float = 0.0
    dwell_until: float = 0.0
    battery: float = 100.0
    charging: bool = False
    sos_left: int = 0
    scenario: str | None = None
    last_t: float | None = None

    def __post_init__(self) -> None:
        self.pos = self.home
        self.battery = self.rng.uniform(35, 100)

    # planning --------------------------------------------------------------------------------

    def _trip(self, t: float) -> None:
        rng = self.rng
        if rng.random() < 0.4:
            target = rng.choice(self.district.towns)
            target = self.district.pull_inside(_offset(target, rng.uniform(-800, 800), rng.uniform(-800, 800)))
        else:
            angle, dist = rng.uniform(0, 2 * math.pi), rng.uniform(300, 1500)
            target = self.district.pull_inside(_offset(self.home, dist * math.cos(angle), dist * math.sin(angle)))
        there = self.district.route(self.pos, target)
        back = self.district.route(target, self.home)
        if there is None or back is None:
            self.dwell_until = t + rng.uniform(300, 900)
            return
        speed = 1.3 if _distance_m(self.pos, target) < 2000 else rng.uniform(8, 14)
        for p in there[:-1]:
            self.legs.append((p, speed, 0.0))
        self.legs.append((there[-1], speed, rng.uniform(600, 2400)))
        for p in back:
            self.legs.append((p, speed, 0.0))
        self.legs.append((self.home, 0.0, rng.uniform(600, 3600)))  # marker: at home, then dwell

    def script(self, scenario: str, *, exclusion: tuple[float, float] | None = None, now_local_hour: int = 12) -> bool:
        """Start a violation; False when it cannot happen for this device now."""
        rng = self.rng
        self.legs.clear()
        if scenario == "sos":
            self.sos_left = 3
        elif scenario == "leave":
            edge, out = self.district.outside_point(rng)
            self.legs.extend([(self.district.pull_inside(edge), 12.0, 0.0), (out, 12.0, rng.uniform(600, 1200)),
                              (edge, 12.0, 0.0), (self.home, 12.0, 0.0), (self.home, 0.0, 1800.0)])
        elif scenario == "exclusion" and exclusion is not None:
            self.legs.extend([(exclusion, 1.3, rng.uniform(600, 900)), (self.home, 1.3, 0.0), (self.home, 0.0, 1800.0)])
        elif scenario == "night" and (now_local_hour >= 22 or now_local_hour < 6):
            away = self.district.pull_inside(_offset(self.home, rng.uniform(1500, 2500), rng.uniform(-500, 500)))
            self.legs.extend([(away, 8.0, rng.uniform(1200, 1800)), (self.home, 8.0, 0.0), (self.home, 0.0, 1800.0)])
        else:
            return False
        self.scenario = scenario
        self.dwell_until = 0.0
        return True

    # motion ------------------------------------------------------------------------------------

    def advance(self, t: float) -> Sample:
        """Where the subject is at time ``t`` (seconds, monotone), with what the device reports."""
        dt = 0.0 if self.last_t is None else max(0.0, t - self.last_t)
        self.last_t = t
        self._move(t, dt)
        at_home = _distance_m(self.pos, self.home) < 50 and self.speed == 0.0
        if at_home and self.battery < 20:
            self.charging = True
        if self.charging and at_home:
            self.battery = min(100.0, self.battery + dt * 100 / 3600)  # an hour on the charger
            self.charging = self.battery < 100.0
        else:
            self.charging = False
            self.battery = max(0.0, self.battery - dt * self.rng.uniform(4, 8) / 3600)
        alarm = ALARM_LOW_BATTERY if self.battery < 15 else 0
        if self.sos_left:
            self.sos_left -= 1
            alarm |= ALARM_SOS
        cell = self.rng.random() < 0.03
        sigma = 300.0 if cell else 7.0
        lat, lon = _offset(self.pos, self.rng.gauss(0, sigma), self.rng.gauss(0, sigma))
        course = 0
        if self.legs:
            target = self.legs[0][0]
            course = int(math.degrees(math.atan2((target[1] - self.pos[1]) * _m_per_deg_lon(self.pos[0]),
                                                 (target[0] - self.pos[0]) * M_PER_DEG_LAT))) % 360
        return Sample(lat, lon, round(self.speed * 3.6, 1), course, not cell, alarm, int(self.battery))

    def _move(self, t: float, dt: float) -> None:
        while dt > 0:
            if t - dt < self.dwell_until:
                used = min(dt, self.dwell_until - (t - dt))
                dt -= used
                self.speed = 0.0
                continue
            if not self.legs:
                self.scenario = None
                self._trip(t - dt)
                if not self.legs:
                    continue
            target, speed, dwell = self.legs[0]
            if speed == 0.0:  # arrived home: stay a while
                self.legs.popleft()
                self.pos, self.speed = target, 0.0
                self.dwell_until = t - dt + dwell
                continue
            remaining = _distance_m(self.pos, target)
            step = speed * dt
            self.speed = speed
            if step < remaining:
                f = step / remaining
                self.pos = (self.pos[0] + (target[0] - self.pos[0]) * f, self.pos[1] + (target[1] - self.pos[1]) * f)
                return
            dt -= remaining / speed
            self.pos = target
            self.legs.popleft()
            if dwell:
                self.speed = 0.0
                self.dwell_until = t - dt + dwell


def report_of(sample: Sample, when: datetime) -> LocationReport:
    return LocationReport.build(
        lat=sample.lat, lon=sample.lon, time=when, alarm=sample.alarm, positioned=sample.positioned,
        speed_kmh=sample.speed_kmh, course_deg=sample.course_deg, altitude_m=45,
        satellites=9 if sample.positioned else 0, signal_strength=25,
        extra_items=(LocationItem(BATTERY_ITEM, bytes((sample.battery_pct,))),),
    )


# --- auth codes -------------------------------------------------------------------------------


class CodeBook:
    """Auth codes the platform handed out, kept across restarts (a small JSON file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._codes: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            self._codes = {}

    def get(self, ident: str) -> str | None:
        return self._codes.get(ident)

    def put(self, ident: str, code: str) -> None:
        self._codes[ident] = code
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".codes-")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self._codes, fh, indent=0, sort_keys=True)
        os.replace(tmp, self.path)


# --- devices on the wire ----------------------------------------------------------------------


class Disabled(Exception):
    """The platform will not let this terminal in (unknown, or registered without a code we know)."""


class SimDevice:
    def __init__(self, sim: Simulator, ident: str, walker: Walker, rng: random.Random) -> None:
        self.sim, self.ident, self.walker, self.rng = sim, ident, walker, rng
        self.backlog: deque[LocationReport] = deque(maxlen=2000)
        self.client: Jt808Client | None = None
        self.retry_at = 0.0
        self.dropout_until = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.sim.interval_s
        await asyncio.sleep(self.rng.uniform(0, min(interval, 10.0)))  # do not all start at once
        try:
            while True:
                t = loop.time()
                sample = self.walker.advance(t)
                self.backlog.append(report_of(sample, clock.now().replace(microsecond=0)))
                if t >= self.dropout_until and self.rng.random() < self.sim.dropout_chance:
                    self.dropout_until = t + self.rng.uniform(300, 900)
                    self.sim.counters["dropouts"] += 1
                if t >= self.dropout_until:
                    await self._deliver(t)
                await asyncio.sleep(max(1.0, interval * self.rng.uniform(0.8, 1.2)))
        except Disabled as exc:
            log.warning("simulated terminal %s stopped: %s", self.ident, exc)
            self.sim.counters["disabled"] += 1
        finally:
            await self._drop()

    async def _drop(self) -> None:
        if self.client is not None:
            client, self.client = self.client, None
            await client.close()

    async def _connect(self) -> Jt808Client:
        timeout = max(2.0, min(10.0, self.sim.interval_s))
        client = Jt808Client(self.sim.host, self.sim.port, self.ident, version=self.sim.version, timeout=timeout)
        await client.connect()
        try:
            reg = await client.register(TerminalRegister(province_id=37, city_id=305, maker_id="ZJSIM",
                                                         model="ZJ-B1", terminal_id=self.ident[-7:]))
            book = self.sim.codes
            if reg.result == RegisterResult.ok and reg.auth_code:
                book.put(self.ident, reg.auth_code)
            elif reg.result in (RegisterResult.terminal_registered, RegisterResult.vehicle_registered):
                if book.get(self.ident) is None:
                    raise Disabled("already registered, but its auth code is not in " + str(book.path))
            else:
                raise Disabled(f"registration refused (result {reg.result})")
            auth = await client.authenticate(book.get(self.ident) or "")
            if auth.result != GeneralResult.ok:
                raise Disabled("the stored auth code was refused")
        except BaseException:
            await client.close()
            raise
        self.sim.counters["logins"] += 1
        return client

    async def _deliver(self, t: float) -> None:
        if self.client is None or self.client.closed:
            await self._drop()
            if t < self.retry_at:
                return
            try:
                self.client = await self._connect()
            except (OSError, TimeoutError, AssertionError) as exc:
                self.retry_at = t + self.rng.uniform(*self.sim.retry_s)
                self.sim.counters["connect_failures"] += 1
                log.debug("terminal %s cannot connect: %s", self.ident, exc)
                return
        try:
            while len(self.backlog) > 1:  # the older ones as 补传, oldest first
                chunk = [self.backlog[i] for i in range(min(BATCH_ITEMS, len(self.backlog) - 1))]
                ack = await self.client.send_batch(chunk, backfill=True)
                if ack.result != GeneralResult.ok:
                    raise ConnectionError(f"backfill refused ({ack.result})")
                for _ in chunk:
                    self.backlog.popleft()
                self.sim.counters["backfilled"] += len(chunk)
            ack = await self.client.send_location(self.backlog[0])
            if ack.result != GeneralResult.ok:
                raise ConnectionError(f"report refused ({ack.result})")
            self.backlog.popleft()
            self.sim.counters["acked"] += 1
        except (OSError, TimeoutError, ConnectionError, AssertionError) as exc:
            self.sim.counters["delivery_failures"] += 1
            log.debug("terminal %s: %s; will resend", self.ident, exc)
            await self._drop()
            self.retry_at = t + self.rng.uniform(*self.sim.retry_s) / 2


class Simulator:
    """``devices`` terminals against a gateway; ``await run()`` until cancelled."""

    def __init__(self, host: str, port: int, idents: list[str], *, interval_s: float = 45.0, seed: int = 370305,
                 codes_path: Path | None = None, homes: dict[str, tuple[float, float]] | None = None,
                 exclusions: dict[str, tuple[float, float]] | None = None, violation_every_s: float = 900.0,
                 first_violation_s: float = 90.0, dropout_chance: float = 1 / 150,
                 retry_s: tuple[float, float] = (2.0, 10.0), version: Version = Version.V2013) -> None:

        self.host, self.port, self.interval_s, self.version = host, port, interval_s, version
        self.codes = CodeBook(codes_path or get_settings().data_dir / "simulator-codes.json")
        self.violation_every_s, self.first_violation_s = violation_every_s, first_violation_s
        self.dropout_chance = dropout_chance
        self.retry_s = retry_s
        self.exclusions = exclusions or {}
        self.counters: Counter[str] = Counter()
        self.rng = random.Random(seed)
        self.district = District()
        homes = homes or {}
        self.devices = []
        for n, ident in enumerate(idents):
            rng = random.Random(f"{seed}:{ident}")
            home = homes.get(ident) or self._home(n, rng)
            self.devices.append(SimDevice(self, ident, Walker(home, self.district, rng), rng))
        self._tasks: list[asyncio.Task[None]] = []

    def _home(self, n: int, rng: random.Random) -> tuple[float, float]:
        town = self.district.towns[n % len(self.district.towns)]
        return self.district.pull_inside(_offset(town, rng.uniform(-1200, 1200), rng.uniform(-1200, 1200)))

    async def run(self) -> None:
        self._tasks = [asyncio.create_task(d.run(), name=f"sim-{d.ident}") for d in self.devices]
        self._tasks.append(asyncio.create_task(self._violations(), name="sim-violations"))
        try:
            await asyncio.gather(*self._tasks)
        finally:
            for task in self._tasks:
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _violations(self) -> None:
        """One scripted violation every ``violation_every_s``, the kinds in turn."""
        await asyncio.sleep(self.first_violation_s)
        turn = 0
        while True:
            for _ in range(len(SCENARIOS)):
                scenario = SCENARIOS[turn % len(SCENARIOS)]
                turn += 1
                if self._script(scenario):
                    break
            await asyncio.sleep(self.violation_every_s * self.rng.uniform(0.7, 1.3))

    def _script(self, scenario: str) -> bool:
        hour = clock.to_local(clock.now()).hour
        candidates = [d for d in self.devices if d.walker.scenario is None]
        if scenario == "exclusion":
            candidates = [d for d in candidates if d.ident in self.exclusions]
        self.rng.shuffle(candidates)
        for device in candidates[:5]:
            if device.walker.script(scenario, exclusion=self.exclusions.get(device.ident), now_local_hour=hour):
                self.counters[f"scripted_{scenario}"] += 1
                log.info("simulator: %s scripted for terminal %s", scenario, device.ident)
                return True
        return False


class DemoSimulator:
    """Handle returned by :func:`start_demo`."""

    def __init__(self, task: asyncio.Task[None], holder: dict) -> None:
        self._task, self._holder = task, holder

    @property
    def simulator(self) -> Simulator | None:
        return self._holder.get("sim")

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def load_demo_world(count: int) -> tuple[list[str], dict[str, tuple[float, float]], dict[str, tuple[float, float]]]:
    """The demo bracelets bound in the database: their homes and exclusion-zone centres."""


    idents = [device_ident(n) for n in range(1, count + 1)]
    homes: dict[str, tuple[float, float]] = {}
    exclusions: dict[str, tuple[float, float]] = {}
    with session_scope(Actor.system("simulator")) as db:
        rows = db.execute(
            select(Device.ident, Subject.id, Subject.home_lat, Subject.home_lon)
            .join(DeviceBinding, DeviceBinding.device_id == Device.id)
            .join(Subject, Subject.id == DeviceBinding.subject_id)
            .where(Device.ident.in_(idents), DeviceBinding.end_at.is_(None))
            .execution_options(skip_scope=True)
        ).all()
        by_subject = {}
        for ident, sid, lat, lon in rows:
            by_subject[sid] = ident
            if lat is not None:
                homes[ident] = (lat, lon)
        for zone in db.execute(select(Zone).where(Zone.kind == "exclusion", Zone.subject_id.in_(list(by_subject)))
                               .execution_options(skip_scope=True)).scalars():
            geometry = (zone.geojson or {}).get("geometry") or {}
            if geometry.get("type") == "Point":
                lon, lat = geometry["coordinates"][:2]
                exclusions[by_subject[zone.subject_id]] = (lat, lon)
    known = set(r[0] for r in rows)
    return [i for i in idents if i in known] or idents, homes, exclusions


def start_demo(port: int, host: str = "127.0.0.1", *, devices: int | None = None, interval_s: float = 40.0,
               loader: Callable[[int], tuple] = load_demo_world, **options: object) -> DemoSimulator:
    """Run the demo's bracelets as a task of the running loop (the server's); ``await stop()``."""

    holder: dict = {}

    async def main() -> None:
        idents, homes, exclusions = await asyncio.to_thread(loader, devices or BRACELETS)
        holder["sim"] = sim = Simulator(host, port, idents, interval_s=interval_s, homes=homes, exclusions=exclusions,
                                        **options)  # type: ignore[arg-type]
        log.info("demo simulator: %d bracelets reporting every ~%.0f s to %s:%d", len(idents), interval_s, host, port)
        await sim.run()

    return DemoSimulator(asyncio.get_running_loop().create_task(main(), name="demo-simulator"), holder)
