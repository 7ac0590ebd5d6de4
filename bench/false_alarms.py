"""Benchmark: false alarms and detection on a simulated day; prints one JSON line.

1,000 subjects live in 临淄区 (the packaged boundary), each with a 禁止令 exclusion circle of
their own and the district as the shared permitted area.  They sleep at home, go to one or two
places in the district and come home by 21:45.  Devices report every 60 s with realistic noise:

- GNSS fixes with 10 m RMS error (reported accuracy 10 m);
- indoors, 15 % of fixes are cell fixes, reported accuracy 200–500 m, error of that order;
- 0.2 % of GNSS fixes (``--jump-share``) are multipath jumps of 1–3 km (``--jump-m``) that
  still report 10–30 m accuracy;
- 30 % of devices lose coverage once for 10–60 min and upload the stored fixes afterwards
  (backfill), 3 % are switched off for 40–90 min (no fixes at all).

Injected real violations: 30 subjects drive out of the district and stay out 15–60 min (10 of
them out of coverage meanwhile, so the violation arrives as backfill), 20 go into their
exclusion zone for 20–60 min, 10 spend the night 3–6 km from home.  The fixes go through
the pipeline's own stages (``ingestion.stages``: filter → rules, with the pipeline's
``RulesEngine`` and its zone classification per batch), grouped by when they arrive (5-minute
windows), with the engine's ``tick`` after each window.  The rule events are what the alarms
stage would turn into alarms; no database is needed, since nothing arrives out of order here
(a backfill comes in before the device's next live fix), so the engine never replays.

Reported: false position alarms (越界, 进入禁区, 夜不归宿 opened where no real violation was
going on) per subject-day, the share of injected violations caught (an alarm overlapping the
violation; one that began in a shorter stretch just before, on a winding boundary, counts), the
worst detection delay beyond the dwell time (in fix time: when the opening fix was taken,
against the true moment plus dwell; for a device that was switched off when the violation
began, against its first fix after, counted as ``silent_starts``; likewise for one whose first
fixes in the violation were cell fixes too coarse to show it, the true position being no
deeper past the line than their accuracy radius, against its first fix that could, counted as
``blind_starts``; ``delays_over_target_without_blind_allowance`` counts without it), and
other alarms (lost contact) for information.  A violation during which the device was switched off throughout is
``unobservable`` by position: it is left out of the share, and listed with whether a lost-contact
alarm covered it.  An alarm's extent is that of its episode (the last of its events).

    PYTHONPATH=src python bench/false_alarms.py [--subjects 1000] [--seed 1]
        [--jump-m 1000 3000] [--jump-share 0.002]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import numpy as np
import shapely

from zhijiao.core import geo
from zhijiao.core.fix import Fix, FixSource
from zhijiao.ingestion import stages
from zhijiao.ingestion.rules_engine import RulesEngine
from zhijiao.monitoring.geofence import Circle, Zone, ZoneKind, linzi_boundary
from zhijiao.monitoring.rule_types import AlarmType, RuleEvent, RuleSettings, SubjectContext
from zhijiao.monitoring.zone_index import ZoneIndex

DAY_START = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # Tuesday 3 March 2026, 00:00 in Shanghai
DAY_S = 86_400
INTERVAL_S = 60
WINDOW_S = 300
NIGHT_RADIUS_M = RuleSettings().night_radius_m  # away from home at night, as the rules judge it
POSITION_ALARMS = (AlarmType.left_permitted_area, AlarmType.entered_exclusion_zone, AlarmType.night_absence)
H = 3600.0


@dataclass
class Subject:
    sid: int
    home: np.ndarray  # (lat, lon)
    exclusion: Circle
    knots_t: list[float] = field(default_factory=list)  # seconds of the local day
    knots_p: list[np.ndarray] = field(default_factory=list)
    injected: AlarmType | None = None
    no_coverage: tuple[float, float] | None = None  # forced coverage gap (seconds of the day)

    def stay(self, until: float) -> None:
        self.knots_t.append(until)
        self.knots_p.append(self.knots_p[-1])

    def go(self, to: np.ndarray, speed_ms: float) -> None:
        self.knots_t.append(self.knots_t[-1] + metres(self.knots_p[-1], to) / speed_ms)
        self.knots_p.append(to)

    def positions(self, t: np.ndarray) -> np.ndarray:
        p = np.array(self.knots_p)
        return np.column_stack([np.interp(t, self.knots_t, p[:, 0]), np.interp(t, self.knots_t, p[:, 1])])


class Jumps(NamedTuple):
    """Multipath jumps: the share of GNSS fixes, and how far from the truth they land."""

    share: float = 0.002
    min_m: float = 1000.0
    max_m: float = 3000.0


def metres(a: np.ndarray, b: np.ndarray) -> float:
    return geo.haversine_m(a[0], a[1], b[0], b[1])


def offset(p: np.ndarray, north: float, east: float) -> np.ndarray:
    k_lat, k_lon = geo.metres_per_degree(p[0])
    return np.array([p[0] + north / k_lat, p[1] + east / k_lon])


def sample_in(area: shapely.Geometry, rng: np.random.Generator) -> np.ndarray:
    min_lon, min_lat, max_lon, max_lat = area.bounds
    while True:
        lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
        if shapely.contains_xy(area, lon, lat):
            return np.array([lat, lon])


class World:
    def __init__(self, n: int, rng: np.random.Generator) -> None:
        self.rng = rng
        self.district = linzi_boundary()
        self.area = self.district.geometry
        self.safe = geo.buffer_m(self.area, -300.0)  # ordinary trips stay this far inside
        self.homes_area = geo.buffer_m(self.area, -150.0)
        self.zones_area = geo.buffer_m(self.area, -1000.0)  # 禁止令 places well inside
        self.outside_ring = geo.buffer_m(self.area, 8000.0).difference(geo.buffer_m(self.area, 3000.0))
        for g in (self.area, self.safe, self.homes_area, self.zones_area, self.outside_ring):
            shapely.prepare(g)
        self.subjects = [self.new_subject(i) for i in range(n)]

    def new_subject(self, sid: int) -> Subject:
        rng = self.rng
        home = sample_in(self.homes_area, rng)
        while True:
            bearing, dist = rng.uniform(0, 2 * np.pi), rng.uniform(1500, 5000)
            centre = offset(home, dist * np.sin(bearing), dist * np.cos(bearing))
            if shapely.contains_xy(self.zones_area, centre[1], centre[0]):
                break
        return Subject(sid, home, Circle(centre[0], centre[1], float(rng.uniform(150, 400))), [0.0], [home])

    def path_ok(self, s: Subject, a: np.ndarray, b: np.ndarray, *, inside: bool = True) -> bool:
        """A straight trip that stays clear of the subject's exclusion zone (and in the district)."""
        line = shapely.LineString([(a[1], a[0]), (b[1], b[0])])
        frame = geo.LocalProjection.at(s.exclusion.lat, s.exclusion.lon)
        if frame.project(line).distance(shapely.Point(0, 0)) < s.exclusion.radius_m + 400:
            return False
        return not inside or bool(self.safe.contains(line))

    def place_for(self, s: Subject, frm: np.ndarray, lo_m: float, hi_m: float, tries: int = 50) -> np.ndarray | None:
        for _ in range(tries):
            bearing, dist = self.rng.uniform(0, 2 * np.pi), self.rng.uniform(lo_m, hi_m)
            p = offset(frm, dist * np.sin(bearing), dist * np.cos(bearing))
            if self.path_ok(s, frm, p) and self.path_ok(s, p, s.home):
                return p
        return None

    def ordinary_day(self, s: Subject) -> None:
        """Out after 07:00 to one or two places for 1.5–4 h each; home long before 22:00."""
        rng = self.rng
        s.stay(rng.uniform(7 * H, 9 * H))
        here = s.home
        for _ in range(int(rng.integers(1, 3))):
            p = self.place_for(s, here, 800, 8000)
            if p is None:
                break
            s.go(p, rng.uniform(5, 12))
            s.stay(s.knots_t[-1] + rng.uniform(1.5 * H, 4 * H))
            here = p
        if here is not s.home:
            s.go(s.home, rng.uniform(5, 12))
        s.stay(DAY_S)

    def leave_district(self, s: Subject, *, out_of_coverage: bool = False) -> None:
        """Drive 3–8 km beyond the district line, stay 15–60 min, come back.

        With ``out_of_coverage`` the device loses the network five minutes after leaving home
        until it is back: the violation is only learnt from the backfilled fixes.
        """
        rng = self.rng
        s.stay(rng.uniform(9 * H, 15 * H))
        departure = s.knots_t[-1]
        for _ in range(500):
            target = sample_in(self.outside_ring, rng)
            if metres(target, s.home) < 25_000 and self.path_ok(s, s.home, target, inside=False):
                break
        else:
            raise RuntimeError("no way out of the district found")
        s.go(target, rng.uniform(10, 16))
        s.stay(s.knots_t[-1] + rng.uniform(15 * 60, 60 * 60))
        s.go(s.home, rng.uniform(10, 16))
        if out_of_coverage:
            s.no_coverage = (departure + 300, s.knots_t[-1])
        s.stay(DAY_S)
        s.injected = AlarmType.left_permitted_area

    def leave_district_out_of_coverage(self, s: Subject) -> None:
        self.leave_district(s, out_of_coverage=True)

    def enter_exclusion(self, s: Subject) -> None:
        rng = self.rng
        s.stay(rng.uniform(9 * H, 16 * H))
        s.go(np.array([s.exclusion.lat, s.exclusion.lon]), rng.uniform(5, 10))
        s.stay(s.knots_t[-1] + rng.uniform(20 * 60, 60 * 60))
        s.go(s.home, rng.uniform(5, 10))
        s.stay(DAY_S)
        s.injected = AlarmType.entered_exclusion_zone

    def night_away(self, s: Subject) -> bool:
        p = self.place_for(s, s.home, 3000, 6000, tries=500)
        if p is None:
            return False  # a home in a narrow part of the district: someone else stays out
        s.stay(self.rng.uniform(20.5 * H, 21.5 * H))
        s.go(p, 8.0)
        s.stay(DAY_S)
        s.injected = AlarmType.night_absence
        return True


def truth(world: World, s: Subject, t: np.ndarray) -> dict[AlarmType, np.ndarray]:
    """Whether each rule is really broken at times t (seconds of the local day)."""
    p = s.positions(t)
    frame = geo.LocalProjection.at(s.exclusion.lat, s.exclusion.lon)
    x, y = frame.to_xy(p[:, 0], p[:, 1])
    at_night = (t >= 22 * H) | (t < 6 * H)
    from_home = geo.haversine_m_array(s.home[0], s.home[1], p[:, 0], p[:, 1])
    return {
        AlarmType.left_permitted_area: ~shapely.contains_xy(world.area, p[:, 1], p[:, 0]),
        AlarmType.entered_exclusion_zone: np.hypot(x, y) < s.exclusion.radius_m,
        AlarmType.night_absence: at_night & (from_home > NIGHT_RADIUS_M),
    }


def depth_m(world: World, s: Subject, alarm: AlarmType, t: float) -> float:
    """How far past the line of ``alarm`` the subject really was at ``t`` (negative: on the
    right side), the distance a fix must exceed its accuracy by to show the violation."""
    p = s.positions(np.array([t]))[0]
    if alarm is AlarmType.entered_exclusion_zone:
        return s.exclusion.radius_m - metres(p, np.array([s.exclusion.lat, s.exclusion.lon]))
    if alarm is AlarmType.night_absence:
        return metres(p, s.home) - NIGHT_RADIUS_M
    frame = geo.LocalProjection.at(float(p[0]), float(p[1]))
    away = float(shapely.distance(frame.project(world.area.boundary), shapely.Point(0.0, 0.0)))
    return away if not shapely.contains_xy(world.area, p[1], p[0]) else -away


def intervals(flags: np.ndarray, t: np.ndarray) -> list[tuple[float, float]]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], flags.astype(np.int8), [0]])))
    return [(float(t[a]), float(t[b - 1])) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def observe(world: World, s: Subject, rng: np.random.Generator, jumps: Jumps) -> list[Fix]:
    """The device's fixes for a day, with noise, coverage gaps and a power-off period."""
    t = rng.uniform(0, INTERVAL_S) + np.arange(0, DAY_S - INTERVAL_S, INTERVAL_S)
    p = s.positions(t)
    moving = np.linalg.norm(np.diff(s.positions(np.concatenate([t, [t[-1] + 1]])), axis=0), axis=1) > 1e-6
    n = len(t)
    k_lat, k_lon = geo.metres_per_degree(p[:, 0])
    cell = ~moving & (rng.random(n) < 0.15)
    accuracy = np.where(cell, rng.uniform(200, 500, n), 10.0)
    sigma = np.where(cell, accuracy / 2.0, 10.0 / np.sqrt(2.0))  # per axis
    err = rng.normal(0, 1, (n, 2)) * sigma[:, None]
    jump = ~cell & (rng.random(n) < jumps.share)
    angle, dist = rng.uniform(0, 2 * np.pi, n), rng.uniform(jumps.min_m, jumps.max_m, n)
    err[jump] = np.column_stack([dist * np.sin(angle), dist * np.cos(angle)])[jump]
    accuracy[jump] = rng.uniform(10, 30, jump.sum())
    lat = p[:, 0] + err[:, 0] / k_lat
    lon = p[:, 1] + err[:, 1] / k_lon
    received = t + rng.uniform(1, 5, n)
    backfill = np.zeros(n, dtype=bool)
    gap = np.zeros(n, dtype=bool)
    if s.no_coverage is not None:
        gap = (t >= s.no_coverage[0]) & (t < s.no_coverage[1])
    elif rng.random() < 0.30:  # out of coverage: stored and uploaded when back
        a = rng.uniform(0, DAY_S - H)
        gap = (t >= a) & (t < a + rng.uniform(600, 3600))
    if gap.any():
        backfill[gap] = True
        received[gap] = t[gap].max() + 30  # uploaded together once back in coverage
    keep = np.ones(n, dtype=bool)
    if rng.random() < 0.03:  # switched off: nothing at all
        a = rng.uniform(H, DAY_S - 2 * H)
        keep = ~((t >= a) & (t < a + rng.uniform(2400, 5400)))
    start, device = DAY_START.timestamp(), f"bracelet-{s.sid}"
    columns = (start + t, lat, lon, cell, accuracy, backfill, start + received)
    return [
        Fix(
            device_ident=device,
            fix_time=datetime.fromtimestamp(at, UTC),
            lat=la,
            lon=lo,
            source=FixSource.cell if c else FixSource.gnss,
            accuracy_m=acc,
            backfill=late,
            received_at=datetime.fromtimestamp(got, UTC),
            subject_id=s.sid,
        )
        for at, la, lo, c, acc, late, got in zip(*(col[keep].tolist() for col in columns), strict=True)
    ]


def run_pipeline(world: World, fixes: list[Fix], settings: RuleSettings) -> list[RuleEvent]:
    engine = RulesEngine(settings)
    engine.load(
        ZoneIndex([world.district] + [Zone(f"x{s.sid}", ZoneKind.exclusion, s.exclusion, s.sid) for s in world.subjects]),
        {s.sid: SubjectContext(s.sid, home=(float(s.home[0]), float(s.home[1])), monitoring_since=DAY_START)
         for s in world.subjects},
    )
    chain = (stages.Filter(), stages.Rules(engine))  # the pipeline's stages up to the alarms
    fixes.sort(key=lambda f: (f.received_at, f.fix_time))
    window_of = np.array([(f.received_at - DAY_START).total_seconds() // WINDOW_S for f in fixes], dtype=np.int64)
    bounds = np.searchsorted(window_of, np.arange(window_of.max() + 2))
    events: list[RuleEvent] = []
    for w in range(len(bounds) - 1):
        batch = stages.Batch(fixes[bounds[w] : bounds[w + 1]], db=None)  # type: ignore[arg-type]
        for stage in chain:
            stage.run(batch)
        events.extend(batch.rule_events)
        events.extend(engine.tick(DAY_START + timedelta(seconds=(w + 1) * WINDOW_S)))
    assert not engine.counters["replays"], "a replay needs the store's fixes: this bench has none"
    return events


def simulate(subjects: int, seed: int, jumps: Jumps = Jumps()) -> tuple[World, list[Fix]]:
    """The world and its day of fixes, the same for the same seed."""
    rng = np.random.default_rng(seed)
    world = World(subjects, rng)
    order = rng.permutation(subjects)
    plans = [world.leave_district] * 20 + [world.leave_district_out_of_coverage] * 10
    plans += [world.enter_exclusion] * 20 + [world.night_away] * 10
    for s in (world.subjects[i] for i in order):
        # a plan that does not fit this subject (returns False) passes to the next one
        if not plans or plans[0](s) is False:
            world.ordinary_day(s)
        else:
            plans.pop(0)
    if plans:
        raise RuntimeError(f"{len(plans)} violations found no subject to play them")
    return world, [f for s in world.subjects for f in observe(world, s, rng, jumps)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jump-m", type=float, nargs=2, default=(Jumps().min_m, Jumps().max_m), metavar=("MIN", "MAX"),
                    help="how far multipath jumps land from the true position")
    ap.add_argument("--jump-share", type=float, default=Jumps().share,
                    help="share of GNSS fixes that are multipath jumps")
    args = ap.parse_args()
    started = time.perf_counter()
    settings = RuleSettings()
    jumps = Jumps(args.jump_share, *args.jump_m)
    world, fixes = simulate(args.subjects, args.seed, jumps)
    simulated = time.perf_counter()

    events = run_pipeline(world, fixes, settings)
    processed = time.perf_counter()
    print(json.dumps(score(world, events, settings, fixes) | {
        "subjects": args.subjects,
        "jumps": jumps._asdict(),
        "fixes": len(fixes),
        "pipeline_fixes_per_s": round(len(fixes) / (processed - simulated)),
        "simulate_s": round(simulated - started, 1),
        "pipeline_s": round(processed - simulated, 1),
        "runtime_s": round(time.perf_counter() - started, 1),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }))


def score(world: World, events: list[RuleEvent], settings: RuleSettings, fixes: list[Fix]) -> dict[str, object]:
    # One entry per episode: a replayed batch may report an episode only by its close event.
    episodes: dict[tuple[int, AlarmType, datetime], RuleEvent] = {}
    last_seen: dict[tuple[int, AlarmType, datetime], datetime] = {}  # over all of its events
    for e in events:
        episodes.setdefault(e.key, e)
        last_seen[e.key] = max(last_seen.get(e.key, e.last_at), e.last_at)
    opened = list(episodes.values())
    real: dict[tuple[int, AlarmType], list[tuple[float, float]]] = {}
    for s in world.subjects:
        # to the second where a violation was injected; every 10 s is plenty for the others
        grid = np.arange(0, DAY_S, 1.0 if s.injected else 10.0)
        for alarm, flags in truth(world, s, grid).items():
            real[s.sid, alarm] = intervals(flags, grid)

    def local_s(at: datetime) -> float:
        return (at - DAY_START).total_seconds()

    false_alarms = 0
    for e in opened:
        if e.alarm_type in POSITION_ALARMS:
            start, end = local_s(e.started_at), local_s(last_seen[e.key])
            if not any(a - 60 <= end and start <= b + 60 for a, b in real[e.subject_id, e.alarm_type]):
                false_alarms += 1
    caught, delays, proof_delays, retrospective, missed = 0, [], [], 0, []
    silent_starts, blind_starts, unobservable, strict_delays = 0, 0, [], []
    by_kind: dict[str, list[float]] = defaultdict(list)
    injected = [s for s in world.subjects if s.injected is not None]
    fix_times = defaultdict(list)
    by_time: dict[tuple[int, float], Fix] = {}
    for f in fixes:
        fix_times[f.subject_id].append(local_s(f.fix_time))
        by_time[f.subject_id, fix_times[f.subject_id][-1]] = f
    for s in injected:
        # The injected trip may cross a winding boundary several times: it counts from the first
        # stretch that really lasted the dwell time to the end of the last one. An alarm that
        # began in an earlier, shorter stretch (a return of seconds that no fix saw) is a hit.
        spans = [(a, b) for a, b in real[s.sid, s.injected] if b - a >= settings.dwell_s]
        start, end = spans[0][0], spans[-1][1]
        # A device switched off when the violation began shows it only once it is back on:
        # the delay then counts from its first fix (reported apart, as silent starts).
        times = np.sort(np.array(fix_times[s.sid]))
        k = int(np.searchsorted(times, start))
        if k == len(times) or times[k] > end:
            # Switched off throughout: no position rule can see it; lost contact must have.
            lost = any(e.subject_id == s.sid and e.alarm_type is AlarmType.lost_contact
                       and local_s(e.started_at) <= end and local_s(last_seen[e.key]) >= start - 3600
                       for e in opened)
            unobservable.append({"subject": s.sid, "type": str(s.injected), "lost_contact_alarm": lost})
            continue
        baseline = start
        if k < len(times) and (k == 0 or times[k] - times[k - 1] > 2 * INTERVAL_S):
            baseline = max(start, float(times[k]) - INTERVAL_S)
            silent_starts += int(baseline > start)
        # Likewise cell fixes too coarse to show it (at most their radius past the line): the
        # delay counts from the first fix that could (reported apart, as blind starts).
        j = k
        if baseline == start:
            while j < len(times) and times[j] <= end:
                f = by_time[s.sid, float(times[j])]
                if f.source is FixSource.gnss or depth_m(world, s, s.injected, float(times[j])) > f.accuracy_m:
                    break
                j += 1
        seen_from = baseline
        if k < j < len(times) and times[j] <= end:
            baseline = max(start, float(times[j]) - INTERVAL_S)
            blind_starts += int(baseline > start)
        hits = [
            e for e in opened
            if e.subject_id == s.sid and e.alarm_type is s.injected
            and local_s(e.started_at) <= end and local_s(last_seen[e.key]) >= start - 60
        ]
        if hits:
            first = min(hits, key=lambda e: e.confirmed_at)
            caught += 1
            retrospective += first.retrospective
            delays.append(local_s(first.confirmed_at) - (baseline + settings.dwell_s))
            strict_delays.append(local_s(first.confirmed_at) - (seen_from + settings.dwell_s))
            by_kind[f"{s.injected}{'_retrospective' if first.retrospective else ''}"].append(delays[-1])
            # the rules' own wait: from the start they estimated (the crossing), beyond the dwell;
            # more than one reporting interval only when the fix at the dwell's end proved nothing
            proof_delays.append((first.confirmed_at - first.started_at).total_seconds() - settings.dwell_s)
        else:
            missed.append({"subject": s.sid, "type": str(s.injected), "from_s": start, "to_s": end})
    unplanned = sum(
        1 for s in world.subjects if s.injected is None
        for alarm in POSITION_ALARMS
        if any(b - a >= settings.dwell_s for a, b in real[s.sid, alarm])
    )
    other: dict[str, int] = defaultdict(int)
    for e in opened:
        if e.alarm_type not in POSITION_ALARMS:
            other[str(e.alarm_type)] += 1
    return {
        "bench": "false_alarms",
        "false_alarms_per_subject_day": round(false_alarms / len(world.subjects), 4),
        "false_alarms": false_alarms,
        "target_false_alarms_per_subject_day": 0.05,
        "injected_violations": len(injected),
        "share_caught": round(caught / (len(injected) - len(unobservable)), 3),
        "unobservable": unobservable,
        "caught_retrospectively": retrospective,
        "silent_starts": silent_starts,
        "blind_starts": blind_starts,
        "missed": missed,
        "max_delay_beyond_dwell_s": round(max(delays), 1) if delays else None,
        "median_delay_beyond_dwell_s": round(float(np.median(delays)), 1) if delays else None,
        "max_delay_beyond_dwell_s_by_kind": {k: round(max(v), 1) for k, v in sorted(by_kind.items())},
        "target_max_delay_s": 60,
        "delays_over_target": sum(d > 60 for d in delays),
        "delays_over_target_without_blind_allowance": sum(d > 60 for d in strict_delays),
        "max_wait_beyond_dwell_from_estimated_crossing_s": round(max(proof_delays), 1) if proof_delays else None,
        "unplanned_real_violations": unplanned,
        "other_alarms_opened": dict(other),
        "events": len(events),
    }


if __name__ == "__main__":
    sys.exit(main())
