"""The static layers of the command center's map, in the datum the map works in.

Everything is stored in WGS-84; only what goes to the browser is converted (GCJ-02 when the
deployment's tile server wants it), through :mod:`zhijiao.core.geo`.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape
from sqlalchemy.orm import Session

from zhijiao.command import service as command_service
from zhijiao.command.config import map_settings
from zhijiao.core import clock, geo
from zhijiao.monitoring import geofence
from zhijiao.monitoring import service as monitoring_service
from zhijiao.monitoring.models import Zone
from zhijiao.org import service as org_service
from zhijiao.org.towns import TOWN_CENTRES

log = logging.getLogger(__name__)

NEIGHBOURS = Path(__file__).with_name("data") / "zibo_neighbours.geojson"
SIMPLIFY_DEG = 0.0002  # about 20 m: invisible on a wall, a third of the vertices


def _to_datum(geometry: shapely.Geometry, datum: str) -> shapely.Geometry:
    return geo.wgs84_geometry_to_gcj02(geometry) if datum == "gcj02" else geometry


@functools.lru_cache(maxsize=2)
def boundary(datum: str = "wgs84") -> dict[str, Any]:
    zone = geofence.linzi_boundary()
    geometry = _to_datum(zone.geometry.simplify(SIMPLIFY_DEG, preserve_topology=True), datum)  # type: ignore[union-attr]
    return {"type": "Feature", "properties": {"name": "临淄区"}, "geometry": mapping(geometry)}


@functools.lru_cache(maxsize=2)
def neighbours(datum: str = "wgs84") -> dict[str, Any]:
    data = json.loads(NEIGHBOURS.read_text(encoding="utf-8"))
    features = []
    for f in data["features"]:
        g = shape(f["geometry"])
        if data.get("datum") == "gcj02" and datum != "gcj02":
            g = geo.gcj02_geometry_to_wgs84(g)
        p = g.representative_point()
        features.append({"type": "Feature", "geometry": mapping(g),
                         "properties": {"name": f["properties"]["name"],
                                        "label": {"name": f["properties"]["name"], "lat": p.y, "lon": p.x}}})
    return {"type": "FeatureCollection", "features": features}


def point(lat: float, lon: float, datum: str) -> tuple[float, float]:
    return geo.wgs84_to_gcj02(lat, lon) if datum == "gcj02" else (lat, lon)


def zones_geojson(zones: Iterable[Zone], datum: str, *, highlight: int | None = None,
                  skip_district: bool = True) -> dict[str, Any]:
    features = []
    for z in zones:
        if skip_district and z.subject_id is None and z.kind == "permitted" and z.source == "区界":
            continue  # the district itself is drawn as the boundary
        try:
            feature = geofence.zone_to_geojson(monitoring_service.to_index_zone(z), datum=datum)
        except Exception:  # noqa: BLE001 - a bad stored zone must not break the screen
            log.exception("zone %s cannot be drawn", z.id)
            continue
        feature["properties"].update(name=z.name, kind=z.kind, highlight=z.id == highlight, source=z.source)
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


def labels(db_session: Session, datum: str) -> list[dict[str, Any]]:
    """Town (街道/镇) names at their centres, for the offices in view; every town if none is known."""
    visible = command_service.visible_office_ids(db_session)
    offices = [o for o in org_service.list_offices(db_session=db_session) if visible is None or o.id in visible]
    towns = [o.area_name for o in offices if o.area_name in TOWN_CENTRES] or list(TOWN_CENTRES)
    out = []
    for town in towns:
        lat, lon = point(*TOWN_CENTRES[town], datum)
        out.append({"name": town, "lat": lat, "lon": lon})
    return out


def office_areas(db_session: Session, datum: str) -> dict[str, Any]:
    visible = command_service.visible_office_ids(db_session)
    features = []
    for o in org_service.list_offices(db_session=db_session):
        if o.area_geojson and (visible is None or o.id in visible):
            geometry = o.area_geojson.get("geometry", o.area_geojson)
            try:
                g = _to_datum(shape(geometry), datum)
            except Exception:  # noqa: BLE001
                continue
            features.append({"type": "Feature", "geometry": mapping(g), "properties": {"name": o.name}})
    return {"type": "FeatureCollection", "features": features}


def base_layers(*, db_session: Session, with_zones: bool = True) -> dict[str, Any]:
    """Boundary, neighbours, office areas, town labels, zones in scope and the tile server."""
    settings = map_settings()
    datum = settings.datum
    zones = monitoring_service.list_zones(db_session=db_session) if with_zones else []
    return {
        "datum": datum,
        "boundary": boundary(datum),
        "neighbours": neighbours(datum),
        "areas": office_areas(db_session, datum),
        "labels": labels(db_session, datum),
        "zones": zones_geojson(zones, datum),
        "tile": {"url": settings.tile_url, "subdomains": settings.tile_subdomains or "abc",
                 "maxZoom": settings.tile_max_zoom, "attribution": settings.tile_attribution}
        if settings.tile_url else None,
        "now": clock.now().timestamp(),
    }
