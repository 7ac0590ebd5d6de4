"""Electronic fences (电子围栏): the zones themselves — shapes, schedules, GeoJSON, the district.

Law Art. 29 allows electronic positioning only under an order; the permitted area (活动范围,
normally the city or county, Art. 27) and the exclusion zones of a court's 禁止令 are the fences
the rules in :mod:`zhijiao.monitoring.rules` check.  Which zones a batch of fixes is in, and how
far from the edge, is :mod:`zhijiao.monitoring.zone_index`.  Neither decides anything about alarms.

Geometries are WGS-84 degrees (x = lon, y = lat).  A circle is a centre and a radius in
metres; it is never turned into a polygon for the decision, so "150 m from a 500 m circle"
means exactly that.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

from zhijiao.core import clock, geo
from zhijiao.core.errors import InvalidInput

ZoneId = str | int

MINUTES_PER_WEEK = 7 * 24 * 60
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday; Monday = 0 as in date.weekday()

LINZI_GEOJSON = Path(__file__).with_name("data") / "linzi.geojson"


class ZoneKind(enum.StrEnum):
    permitted = "permitted"  # 活动范围: being outside every applicable one is 越界
    exclusion = "exclusion"  # 禁入区: being inside one is 进入禁区


class Circle(NamedTuple):
    """A circular zone: centre in WGS-84 and a radius in metres."""

    lat: float
    lon: float
    radius_m: float


class ScheduleWindow(NamedTuple):
    """When a zone applies, in Asia/Shanghai local time, at minute resolution.

    ``weekdays`` uses ``date.weekday()`` numbers (0 = Monday).  A window whose end is not after
    its start runs past midnight and belongs to the day it starts on: ``({4}, 22:00, 06:00)`` is
    Friday 22:00 to Saturday 06:00; start == end means the whole 24 hours.
    """

    weekdays: frozenset[int]
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class Zone:
    id: ZoneId
    kind: ZoneKind
    geometry: Polygon | MultiPolygon | Circle
    subject_id: int | None = None  # None: applies to every subject
    schedule: tuple[ScheduleWindow, ...] = ()  # empty: always applies
    name: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ZoneKind(self.kind))
        # accept plain (weekdays, start, end) tuples
        windows = tuple(ScheduleWindow(frozenset(w[0]), w[1], w[2]) for w in self.schedule)
        object.__setattr__(self, "schedule", windows)
        _validate_zone(self)

    @property
    def is_circle(self) -> bool:
        return isinstance(self.geometry, Circle)

    def is_active_at(self, when: datetime) -> bool:
        if not self.schedule:
            return True
        return bool(schedule_minutes(self.schedule)[minute_of_week(when.timestamp())])


def _validate_zone(zone: Zone) -> None:
    def bad(message: str) -> InvalidInput:
        return InvalidInput(message, code="invalid_zone", fields={"zone": str(zone.id)})

    if isinstance(zone.geometry, Circle):
        if not zone.geometry.radius_m > 0:
            raise bad("圆形围栏半径必须大于 0")
        min_lon = max_lon = zone.geometry.lon
        min_lat = max_lat = zone.geometry.lat
    elif isinstance(zone.geometry, Polygon | MultiPolygon):
        if zone.geometry.is_empty or not zone.geometry.is_valid:
            raise bad(f"围栏几何无效：{shapely.is_valid_reason(zone.geometry)}")
        min_lon, min_lat, max_lon, max_lat = zone.geometry.bounds
    else:
        raise bad("围栏只能是多边形、多多边形或圆")
    # also catches (lat, lon) given as (x, y): Chinese longitudes are not latitudes
    if not (-180 <= min_lon and max_lon <= 180 and -90 <= min_lat and max_lat <= 90):
        raise bad("坐标超出经纬度范围（经度在前、纬度在后）")
    for window in zone.schedule:
        if not window.weekdays or not window.weekdays <= set(range(7)):
            raise bad("时段的星期必须是 0（周一）到 6（周日）")


# --- schedules ----------------------------------------------------------------------------------


def minute_of_week(epoch_s: ArrayLike) -> Any:
    """Asia/Shanghai minute of the week (0 = Monday 00:00) for UTC epoch seconds."""
    seconds = np.asarray(epoch_s, dtype=np.float64) + clock.SHANGHAI_OFFSET_S  # vectorised arithmetic
    local = np.floor_divide(seconds, 60).astype(np.int64)
    days, minute = np.divmod(local, 24 * 60)
    return ((days + _EPOCH_WEEKDAY) % 7) * 24 * 60 + minute


def schedule_minutes(schedule: Sequence[ScheduleWindow]) -> NDArray[np.bool_]:
    """The minutes of the week in which a schedule applies."""
    active = np.zeros(MINUTES_PER_WEEK, dtype=bool)
    for window in schedule:
        start = window.start.hour * 60 + window.start.minute
        end = window.end.hour * 60 + window.end.minute
        length = end - start if end > start else end - start + 24 * 60
        for day in window.weekdays:
            first = day * 24 * 60 + start
            active[np.arange(first, first + length) % MINUTES_PER_WEEK] = True  # Sunday wraps
    return active


# --- GeoJSON ------------------------------------------------------------------------------------


def zone_from_geojson(feature: Mapping[str, Any], properties: Mapping[str, Any] | None = None) -> Zone:
    """A zone from a GeoJSON Feature; ``properties`` are merged over the feature's own.

    Properties: ``id`` (or the feature's ``id``), ``kind`` (permitted | exclusion),
    ``subject_id`` (null: everyone), ``name``, ``schedule`` as
    ``[{"weekdays": [0, 1, 2, 3, 4], "start": "08:00", "end": "18:00"}]``, ``radius_m`` for a
    circle (a Point geometry), and ``datum``: ``"gcj02"`` converts the coordinates to WGS-84.
    """
    props = {**(feature.get("properties") or {}), **(properties or {})}
    zone_id = props.get("id", feature.get("id"))
    if zone_id is None or props.get("kind") is None:
        raise InvalidInput("围栏缺少编号或类型", code="invalid_zone")
    geometry = _geometry_from_geojson(feature.get("geometry") or {}, props)
    subject = props.get("subject_id")
    try:
        return Zone(
            id=zone_id,
            kind=ZoneKind(props["kind"]),
            geometry=geometry,
            subject_id=None if subject is None else int(subject),
            schedule=tuple(_window_from_json(w) for w in props.get("schedule") or ()),
            name=str(props.get("name") or ""),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"围栏数据有误：{exc}", code="invalid_zone", fields={"zone": str(zone_id)}) from exc


def zone_to_geojson(zone: Zone, *, datum: str = "wgs84") -> dict[str, Any]:
    """A zone as a GeoJSON Feature; ``datum="gcj02"`` for Chinese web maps (AMap, Tencent)."""
    props: dict[str, Any] = {
        "id": zone.id,
        "kind": str(zone.kind),
        "subject_id": zone.subject_id,
        "name": zone.name,
        "schedule": [_window_to_json(w) for w in zone.schedule],
    }
    if isinstance(zone.geometry, Circle):
        lat, lon = zone.geometry.lat, zone.geometry.lon
        if datum == "gcj02":
            lat, lon = geo.wgs84_to_gcj02(lat, lon)
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [lon, lat]}
        props["radius_m"] = zone.geometry.radius_m
    else:
        shp = geo.wgs84_geometry_to_gcj02(zone.geometry) if datum == "gcj02" else zone.geometry
        geometry = mapping(shp)
    if datum != "wgs84":
        props["datum"] = datum
    return {"type": "Feature", "id": zone.id, "geometry": geometry, "properties": props}


def linzi_boundary(zone_id: ZoneId = "linzi", kind: ZoneKind = ZoneKind.permitted) -> Zone:
    """The packaged 临淄区 boundary (adcode 370305) as a shared zone, converted to WGS-84."""
    feature = json.loads(LINZI_GEOJSON.read_text(encoding="utf-8"))["features"][0]
    return zone_from_geojson(feature, {"id": zone_id, "kind": kind, "name": "临淄区"})


def _geometry_from_geojson(
    geometry: Mapping[str, Any], props: Mapping[str, Any]
) -> Polygon | MultiPolygon | Circle:
    datum = props.get("datum", "wgs84")
    if datum not in ("wgs84", "gcj02"):
        raise InvalidInput(f"不支持的坐标系：{datum}", code="invalid_zone")
    if geometry.get("type") == "Point":
        lon, lat = (float(v) for v in geometry["coordinates"][:2])
        if datum == "gcj02":
            lat, lon = geo.gcj02_to_wgs84(lat, lon)
        if props.get("radius_m") is None:
            raise InvalidInput("圆形围栏缺少 radius_m", code="invalid_zone")
        return Circle(lat, lon, float(props["radius_m"]))
    if geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise InvalidInput("围栏只能是多边形、多多边形或带半径的点", code="invalid_zone")
    shp = shape(geometry)
    return geo.gcj02_geometry_to_wgs84(shp) if datum == "gcj02" else shp


def _window_from_json(window: Mapping[str, Any]) -> ScheduleWindow:
    return ScheduleWindow(
        frozenset(int(d) for d in window["weekdays"]),
        time.fromisoformat(window["start"]),
        time.fromisoformat(window["end"]),
    )


def _window_to_json(window: ScheduleWindow) -> dict[str, Any]:
    return {
        "weekdays": sorted(window.weekdays),
        "start": window.start.strftime("%H:%M"),
        "end": window.end.strftime("%H:%M"),
    }
