"""Track replay helpers, pure and without I/O: stops (停留点) and zone crossings (进出围栏).

A stop is a stretch of at least ``min_dwell_s`` (default 5 minutes) during which every fix stays
within ``radius_m`` (default 50 m) of the stretch's first fix. A crossing is a change between
two consecutive trustworthy fixes of being inside a zone; noisy fixes (flag 2) are skipped, as
the rules skip them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from zhijiao.core import geo
from zhijiao.monitoring import geofence
from zhijiao.monitoring.models import FLAG_NOISY

STOP_DWELL_S = 300
STOP_RADIUS_M = 50.0


@dataclass(frozen=True, slots=True)
class TrackPoint:
    t: float  # epoch seconds (UTC)
    lat: float
    lon: float
    flags: int = 0


@dataclass(frozen=True, slots=True)
class Stop:
    lat: float
    lon: float
    start: float
    end: float
    first: int  # index of the first and last fix of the stop
    last: int

    @property
    def minutes(self) -> int:
        return int((self.end - self.start) // 60)


@dataclass(frozen=True, slots=True)
class Crossing:
    index: int  # the first fix on the new side
    t: float
    lat: float
    lon: float
    zone_id: object
    zone_name: str
    zone_kind: str
    entered: bool

    @property
    def label(self) -> str:
        if self.zone_kind == "exclusion":
            return f"进入禁区：{self.zone_name}" if self.entered else f"离开禁区：{self.zone_name}"
        return f"返回活动范围：{self.zone_name}" if self.entered else f"离开活动范围：{self.zone_name}"


def find_stops(points: Sequence[TrackPoint], *, min_dwell_s: float = STOP_DWELL_S,
               radius_m: float = STOP_RADIUS_M) -> list[Stop]:
    good = [i for i, p in enumerate(points) if not p.flags & FLAG_NOISY]
    if not good:
        return []
    lat = np.array([points[i].lat for i in good])
    lon = np.array([points[i].lon for i in good])
    t = np.array([points[i].t for i in good])
    out: list[Stop] = []
    i, n = 0, len(good)
    while i < n:
        # every later fix's distance to fix i at once; the stretch ends at the first one too far
        d = geo.haversine_m_array(lat[i], lon[i], lat[i:], lon[i:])
        far = np.flatnonzero(d > radius_m)
        j = i + (int(far[0]) if len(far) else n - i)  # exclusive end
        if t[j - 1] - t[i] >= min_dwell_s:
            out.append(Stop(float(lat[i:j].mean()), float(lon[i:j].mean()), float(t[i]), float(t[j - 1]),
                            good[i], good[j - 1]))
            i = j
        else:
            i += 1
    return out


def _inside(zone: geofence.Zone, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    if isinstance(zone.geometry, geofence.Circle):
        c = zone.geometry
        return geo.haversine_m_array(c.lat, c.lon, lat, lon) <= c.radius_m
    shapely.prepare(zone.geometry)
    return shapely.contains_xy(zone.geometry, lon, lat)


def find_crossings(points: Sequence[TrackPoint], zones: Sequence[geofence.Zone]) -> list[Crossing]:
    good = [i for i, p in enumerate(points) if not p.flags & FLAG_NOISY]
    if len(good) < 2 or not zones:
        return []
    lat = np.array([points[i].lat for i in good])
    lon = np.array([points[i].lon for i in good])
    out: list[Crossing] = []
    for zone in zones:
        inside = _inside(zone, lat, lon)
        for k in np.flatnonzero(inside[1:] != inside[:-1]) + 1:
            p = points[good[k]]
            out.append(Crossing(good[k], p.t, p.lat, p.lon, zone.id, zone.name or str(zone.id), str(zone.kind),
                                bool(inside[k])))
    return sorted(out, key=lambda c: c.t)
