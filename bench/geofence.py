"""Benchmark: classify fixes against 10,000 fences; prints one JSON line.

Scenario: 10,000 subjects living in 临淄区 around twelve town centres, each with one fence of
their own (a 禁止令 exclusion circle or polygon, or a permitted workplace polygon on weekday
hours, some of them in the neighbouring districts) plus five shared fences: the district as the
permitted area, three exclusion circles and one exclusion polygon that applies at night.
200,000 fixes over a week, mostly near home, some at work, some anywhere in the district.

Reported: fixes/s (wall clock, and per CPU second of this process) through
``ZoneIndex.classify`` (from ``Fix`` objects) and ``classify_arrays`` (from columns), median of
several runs, and, for comparison, the bare shapely STRtree query rates of the same points
against a tree of all 10,000 zones (bounding boxes only, and with the ``within`` predicate).

    PYTHONPATH=src python bench/geofence.py [--fixes 200000] [--zones 10000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from datetime import time as dtime

import numpy as np
import shapely

from zhijiao.core import geo
from zhijiao.core.fix import Fix, FixSource
from zhijiao.monitoring.geofence import Circle, Zone, ZoneKind, linzi_boundary
from zhijiao.monitoring.zone_index import ZoneIndex

WEEKDAYS_9_TO_6 = ((frozenset(range(5)), dtime(8, 0), dtime(18, 0)),)
NIGHTS = ((frozenset(range(7)), dtime(22, 0), dtime(6, 0)),)
WEEK_START = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday


def random_points_in(polygon: shapely.Geometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """n (lat, lon) points uniformly inside a lon/lat polygon (rejection sampling)."""
    min_lon, min_lat, max_lon, max_lat = polygon.bounds
    out: list[np.ndarray] = []
    shapely.prepare(polygon)
    while sum(len(o) for o in out) < n:
        lat = rng.uniform(min_lat, max_lat, 2 * n)
        lon = rng.uniform(min_lon, max_lon, 2 * n)
        ok = shapely.contains_xy(polygon, lon, lat)
        out.append(np.column_stack([lat[ok], lon[ok]]))
    return np.concatenate(out)[:n]


def jitter(points: np.ndarray, sigma_m: np.ndarray | float, rng: np.random.Generator) -> np.ndarray:
    k_lat, k_lon = geo.metres_per_degree(points[:, 0])
    d = rng.normal(0.0, 1.0, points.shape) * np.asarray(sigma_m, dtype=float).reshape(-1, 1)
    return points + np.column_stack([d[:, 0] / k_lat, d[:, 1] / k_lon])


def small_polygon(lat: float, lon: float, size_m: float, rng: np.random.Generator) -> shapely.Polygon:
    """A random convex-ish polygon of 5–12 vertices about size_m across."""
    k = int(rng.integers(5, 13))
    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
    radii = size_m / 2 * rng.uniform(0.6, 1.0, k)
    frame = geo.LocalProjection.at(lat, lon)
    ring = shapely.Polygon(np.column_stack([radii * np.cos(angles), radii * np.sin(angles)]))
    return frame.unproject(ring.convex_hull if not ring.is_valid else ring)


def build_scenario(n_zones: int, n_fixes: int, seed: int = 7) -> tuple[list[Zone], list[Fix]]:
    rng = np.random.default_rng(seed)
    district = linzi_boundary()
    towns = random_points_in(geo.buffer_m(district.geometry, -3000), 12, rng)
    n_subjects = n_zones - 5
    homes = jitter(towns[rng.integers(0, len(towns), n_subjects)], 2000.0, rng)
    zones = [district, *shared_zones(towns)]
    for s in range(n_subjects):
        zones.append(own_zone(s, homes[s], rng))
    return zones, make_fixes(zones, homes, n_fixes, rng)


def shared_zones(towns: np.ndarray) -> list[Zone]:
    out = [Zone(f"shared-x{i}", ZoneKind.exclusion, Circle(*towns[i], 400.0)) for i in range(3)]
    lat, lon = towns[3]
    bars = geo.circle_polygon(lat + 0.005, lon, 600.0, quad_segs=4)
    out.append(Zone("shared-night", ZoneKind.exclusion, bars, schedule=NIGHTS))
    return out


def own_zone(subject: int, home: np.ndarray, rng: np.random.Generator) -> Zone:
    """One fence per subject: 50 % exclusion circle, 30 % exclusion polygon, 20 % workplace."""
    bearing = rng.uniform(0, 2 * np.pi)
    dist = rng.uniform(1000, 8000)
    k_lat, k_lon = geo.metres_per_degree(home[0])
    lat = home[0] + dist * np.sin(bearing) / k_lat
    lon = home[1] + dist * np.cos(bearing) / k_lon
    r = rng.random()
    if r < 0.5:
        return Zone(f"z{subject}", ZoneKind.exclusion, Circle(lat, lon, rng.uniform(100, 500)), subject)
    if r < 0.8:
        poly = small_polygon(lat, lon, rng.uniform(200, 800), rng)
        return Zone(f"z{subject}", ZoneKind.exclusion, poly, subject)
    # a workplace, a third of them over the district line (张店区 is to the west)
    lon_work = lon - 0.25 if rng.random() < 0.33 else lon
    poly = small_polygon(lat, lon_work, rng.uniform(500, 1500), rng)
    return Zone(f"z{subject}", ZoneKind.permitted, poly, subject, schedule=WEEKDAYS_9_TO_6)


def make_fixes(zones: list[Zone], homes: np.ndarray, n: int, rng: np.random.Generator) -> list[Fix]:
    subjects = rng.integers(0, len(homes), n)
    where = rng.random(n)
    pos = jitter(homes[subjects], 300.0, rng)  # mostly around home
    near_zone = where > 0.8  # 20 %: near their own fence (work, or the forbidden place)
    for i in np.flatnonzero(near_zone):
        g = zones[5 + subjects[i]].geometry
        c = (g.lat, g.lon) if isinstance(g, Circle) else (g.centroid.y, g.centroid.x)
        pos[i] = c
    pos[near_zone] = jitter(pos[near_zone], 400.0, rng)
    cell = rng.random(n) < 0.1
    accuracy = np.where(cell, rng.uniform(200, 500, n), 10.0)
    pos = jitter(pos, np.where(cell, accuracy / 2, 10.0), rng)
    seconds = np.sort(rng.uniform(0, 7 * 86400, n))
    return [
        Fix(
            device_ident=f"dev{s}",
            fix_time=WEEK_START + timedelta(seconds=float(t)),
            lat=float(la),
            lon=float(lo),
            source=FixSource.cell if c else FixSource.gnss,
            accuracy_m=float(a),
            subject_id=int(s),
        )
        for s, t, (la, lo), c, a in zip(subjects, seconds, pos, cell, accuracy, strict=True)
    ]


def rates(fn, n: int, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Items per second, median of runs: by wall clock and by this process's CPU time.

    The CPU-time figure is what an uncontended core reaches; on a shared machine the wall
    clock also counts time spent waiting for one.
    """
    wall, cpu = [], []
    for _ in range(runs):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return n / statistics.median(wall), n / statistics.median(cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixes", type=int, default=200_000)
    ap.add_argument("--zones", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    started = time.perf_counter()

    zones, fixes = build_scenario(args.zones, args.fixes)
    t0 = time.perf_counter()
    index = ZoneIndex(zones)
    build_s = time.perf_counter() - t0

    n = len(fixes)
    lat = np.array([f.lat for f in fixes])
    lon = np.array([f.lon for f in fixes])
    subject = np.array([f.subject_id for f in fixes], dtype=np.int64)
    epoch = np.array([f.fix_time.timestamp() for f in fixes])
    result = index.classify(fixes)
    points = shapely.points(lon, lat)
    tree = shapely.STRtree([z.geometry if not isinstance(z.geometry, Circle) else
                            geo.circle_polygon(*z.geometry, quad_segs=8) for z in zones])
    margin = result.permitted_margin_m
    sample = points[:20_000]  # the predicate query is slow: a sample gives its rate
    measured = {
        "classify": rates(lambda: index.classify(fixes), n, args.runs),
        "classify_arrays": rates(lambda: index.classify_arrays(lat, lon, subject, epoch), n, args.runs),
        "bare_strtree_bbox_query": rates(lambda: tree.query(points), n, args.runs),
        "bare_strtree_within_query": rates(
            lambda: tree.query(sample, predicate="within"), len(sample), args.runs
        ),
    }
    print(json.dumps({
        "bench": "geofence",
        "fixes": n,
        "zones": len(zones),
        "subjects": int(len(np.unique(subject))),
        **{f"{name}_fixes_per_s": round(wall) for name, (wall, _) in measured.items()},
        **{f"{name}_fixes_per_cpu_s": round(cpu) for name, (_, cpu) in measured.items()},
        "target_fixes_per_s": 300_000,
        "index_build_s": round(build_s, 2),
        "share_outside_permitted": round(float(np.mean(margin < 0)), 4),
        "share_in_exclusion": round(float(np.mean(result.exclusion_depth_m > 0)), 4),
        "runs": args.runs,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "shapely": shapely.__version__,
        "geos": ".".join(map(str, shapely.geos_version)),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "runtime_s": round(time.perf_counter() - started, 1),
    }))


if __name__ == "__main__":
    sys.exit(main())
