"""ZoneIndex: scope, schedule, exact circles and polygons, distances, GeoJSON."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from zhijiao.core import clock, geo
from zhijiao.core.errors import InvalidInput
from zhijiao.core.fix import Fix
from zhijiao.monitoring import zone_index
from zhijiao.monitoring.geofence import (
    LINZI_GEOJSON,
    Circle,
    Zone,
    ZoneKind,
    linzi_boundary,
    minute_of_week,
    zone_from_geojson,
    zone_to_geojson,
)
from zhijiao.monitoring.zone_index import NO_SUBJECT, FixZones, ZoneIndex

HOME = (36.8260, 118.3090)  # WGS-84, inside 临淄区
MONDAY_NOON = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def offset(lat: float, lon: float, north_m: float = 0.0, east_m: float = 0.0) -> tuple[float, float]:
    k_lat, k_lon = geo.metres_per_degree(lat)
    return lat + north_m / float(k_lat), lon + east_m / float(k_lon)


def square_m(lat: float, lon: float, half_m: float) -> shapely.Polygon:
    frame = geo.LocalProjection.at(lat, lon)
    return frame.unproject(shapely.box(-half_m, -half_m, half_m, half_m))


def fix(lat: float, lon: float, subject: int | None = 1, at: datetime = MONDAY_NOON) -> Fix:
    return Fix("dev", at, lat, lon, subject_id=subject)


def one(index: ZoneIndex, f: Fix) -> FixZones:
    return index.classify([f])[0]


def test_circle_is_exact_in_metres() -> None:
    index = ZoneIndex([Zone("home", ZoneKind.permitted, Circle(*HOME, 500.0), subject_id=1)])
    inside = one(index, fix(*offset(*HOME, north_m=350)))
    assert inside.permitted_inside == ("home",)
    assert inside.permitted_margin_m == pytest.approx(150.0, abs=0.5)
    outside = one(index, fix(*offset(*HOME, east_m=650)))
    assert outside.permitted_inside == () and outside.permitted_outside == ("home",)
    assert outside.permitted_margin_m == pytest.approx(-150.0, abs=0.5)


def test_polygon_depth_and_distance_outside() -> None:
    index = ZoneIndex([Zone("p", ZoneKind.permitted, square_m(*HOME, 1000.0), subject_id=1)])
    assert one(index, fix(*offset(*HOME, east_m=700))).permitted_margin_m == pytest.approx(300.0, rel=1e-3)
    assert one(index, fix(*offset(*HOME, north_m=-1250))).permitted_margin_m == pytest.approx(-250.0, rel=1e-3)


def test_permitted_area_is_the_union_and_outside_takes_the_nearest() -> None:
    east = offset(*HOME, east_m=3000)
    index = ZoneIndex([
        Zone("a", ZoneKind.permitted, Circle(*HOME, 500.0), subject_id=1),
        Zone("b", ZoneKind.permitted, Circle(*east, 500.0), subject_id=1),
    ])
    assert one(index, fix(*east)).permitted_inside == ("b",)
    between = one(index, fix(*offset(*HOME, east_m=1000)))
    assert between.permitted_margin_m == pytest.approx(-500.0, abs=0.5)
    assert set(between.permitted_outside) == {"a", "b"}


def test_zones_of_other_subjects_do_not_apply_shared_ones_do() -> None:
    index = ZoneIndex([
        Zone("mine", ZoneKind.exclusion, Circle(*HOME, 300.0), subject_id=1),
        Zone("theirs", ZoneKind.exclusion, Circle(*HOME, 400.0), subject_id=2),
        Zone("school", ZoneKind.exclusion, Circle(*HOME, 200.0)),
    ])
    result = one(index, fix(*HOME, subject=1))
    assert set(result.exclusion_inside) == {"mine", "school"}
    assert result.exclusion_depth_m == pytest.approx(300.0, abs=0.5)  # the deepest one
    assert math.isnan(result.permitted_margin_m)  # no permitted zone applies
    unresolved = one(index, fix(*HOME, subject=None))
    assert unresolved.exclusion_inside == ("school",)


def test_schedule_limits_a_zone_to_its_hours_across_midnight() -> None:
    nights = ((frozenset({0}), time(22, 0), time(6, 0)),)  # Monday 22:00 → Tuesday 06:00
    index = ZoneIndex([Zone("bars", ZoneKind.exclusion, Circle(*HOME, 300.0), 1, schedule=nights)])
    local = clock.SHANGHAI
    at = [datetime(2026, 3, 2, h, m, tzinfo=local) for h, m in ((21, 59), (22, 0), (23, 30))]
    at += [datetime(2026, 3, 3, h, m, tzinfo=local) for h, m in ((5, 59), (6, 0), (23, 0))]
    result = index.classify([fix(*HOME, at=t) for t in at])
    assert [bool(z.exclusion_inside) for z in result] == [False, True, True, True, False, False]
    assert index.zone("bars").is_active_at(at[1]) and not index.zone("bars").is_active_at(at[0])


def test_sunday_night_window_wraps_to_monday() -> None:
    sunday_night = ((frozenset({6}), time(23, 0), time(1, 0)),)
    zone = Zone("z", ZoneKind.exclusion, Circle(*HOME, 100.0), 1, schedule=sunday_night)
    assert zone.is_active_at(datetime(2026, 3, 9, 0, 30, tzinfo=clock.SHANGHAI))  # Monday 00:30
    assert not zone.is_active_at(datetime(2026, 3, 9, 1, 0, tzinfo=clock.SHANGHAI))


@settings(max_examples=200, deadline=None)
@given(st.datetimes(min_value=datetime(1995, 1, 1), max_value=datetime(2090, 1, 1)))
def test_minute_of_week_agrees_with_zoneinfo(naive: datetime) -> None:
    local = naive.replace(tzinfo=UTC).astimezone(clock.SHANGHAI)
    expected = local.weekday() * 1440 + local.hour * 60 + local.minute
    assert minute_of_week(naive.replace(tzinfo=UTC).timestamp()) == expected


def test_linzi_boundary_is_the_district() -> None:
    district = linzi_boundary()
    frame = geo.LocalProjection.around(district.geometry)
    assert frame.project(district.geometry).area / 1e6 == pytest.approx(663.68, rel=0.02)
    assert district.subject_id is None and district.kind is ZoneKind.permitted
    assert shapely.contains_xy(district.geometry, HOME[1], HOME[0])


def test_big_zone_is_exact_near_the_edge_and_infinite_far_from_it() -> None:
    district = linzi_boundary()
    index = ZoneIndex([district], exact_within_m=2000.0)
    frame = geo.LocalProjection.around(district.geometry)
    boundary_m = frame.project(district.geometry).boundary
    rng = np.random.default_rng(3)
    min_lon, min_lat, max_lon, max_lat = district.geometry.bounds
    lat = rng.uniform(min_lat - 0.05, max_lat + 0.05, 3000)
    lon = rng.uniform(min_lon - 0.05, max_lon + 0.05, 3000)
    result = index.classify_arrays(lat, lon, np.full(3000, 1), np.full(3000, MONDAY_NOON.timestamp()))
    x, y = frame.to_xy(lat, lon)
    true = shapely.distance(boundary_m, shapely.points(x, y))
    inside = shapely.contains_xy(district.geometry, lon, lat)
    margin = result.permitted_margin_m
    near = true < 1990.0
    assert np.allclose(np.abs(margin[near]), true[near], atol=0.01)
    assert np.all(np.sign(margin[near]) == np.where(inside[near], 1, -1))
    far = true > 2010.0
    assert np.all(np.isinf(margin[far])) and np.all((margin[far] > 0) == inside[far])


def test_classify_arrays_and_fixes_agree() -> None:
    zones = [
        Zone("p", ZoneKind.permitted, square_m(*HOME, 800.0), subject_id=1),
        Zone("x", ZoneKind.exclusion, Circle(*offset(*HOME, east_m=600), 300.0), subject_id=1),
    ]
    index = ZoneIndex(zones)
    rng = np.random.default_rng(5)
    fixes = [fix(*offset(*HOME, *rng.normal(0, 800, 2)), subject=int(rng.integers(1, 3))) for _ in range(200)]
    a = index.classify(fixes)
    b = index.classify_arrays(
        [f.lat for f in fixes],
        [f.lon for f in fixes],
        [f.subject_id for f in fixes],
        [f.fix_time.timestamp() for f in fixes],
    )
    assert np.array_equal(a.permitted_margin_m, b.permitted_margin_m, equal_nan=True)
    assert np.array_equal(a.exclusion_depth_m, b.exclusion_depth_m, equal_nan=True)
    ids = [(z.permitted_inside, z.permitted_outside, z.exclusion_inside) for z in a]
    assert ids == [(z.permitted_inside, z.permitted_outside, z.exclusion_inside) for z in b]
    assert any(i[0] for i in ids) and any(i[1] for i in ids) and any(i[2] for i in ids)


def test_empty_batch_and_empty_index() -> None:
    assert len(ZoneIndex([Zone("p", ZoneKind.permitted, Circle(*HOME, 10.0))]).classify([])) == 0
    result = one(ZoneIndex([]), fix(*HOME))
    assert math.isnan(result.permitted_margin_m) and math.isnan(result.exclusion_depth_m)


def test_invalid_zones_are_refused() -> None:
    with pytest.raises(InvalidInput):
        Zone("c", ZoneKind.permitted, Circle(*HOME, 0.0))
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(InvalidInput):
        Zone("b", ZoneKind.permitted, bowtie)
    with pytest.raises(InvalidInput):
        Zone("w", ZoneKind.permitted, Circle(*HOME, 10.0), schedule=((frozenset({7}), time(1), time(2)),))
    with pytest.raises(InvalidInput):
        ZoneIndex([Zone("d", ZoneKind.permitted, Circle(*HOME, 1.0))] * 2)
    with pytest.raises(InvalidInput):  # lat and lon swapped
        Zone("s", ZoneKind.permitted, shapely.box(36.8, 118.3, 36.9, 118.4))


def test_geojson_round_trip_polygon_circle_and_schedule() -> None:
    weekdays = ((frozenset(range(5)), time(8, 0), time(18, 0)),)
    zones = [
        Zone("work", ZoneKind.permitted, square_m(*HOME, 300.0), 7, weekdays, "单位"),
        Zone(42, ZoneKind.exclusion, Circle(*HOME, 250.0)),
    ]
    for zone in zones:
        feature = json.loads(json.dumps(zone_to_geojson(zone)))
        assert zone_from_geojson(feature) == zone
    point = zone_to_geojson(zones[1])
    assert point["geometry"]["type"] == "Point" and point["properties"]["radius_m"] == 250.0


def test_geojson_gcj02_is_converted_on_the_way_in_and_out() -> None:
    zone = Zone("c", ZoneKind.exclusion, Circle(*HOME, 100.0))
    feature = zone_to_geojson(zone, datum="gcj02")
    lon, lat = feature["geometry"]["coordinates"]
    assert geo.haversine_m(*HOME, lat, lon) > 300
    back = zone_from_geojson(feature).geometry
    assert isinstance(back, Circle) and geo.haversine_m(*HOME, back.lat, back.lon) < 0.01


@pytest.mark.parametrize(
    ("geometry", "properties"),
    [
        ({"type": "Point", "coordinates": [118, 36]}, {"id": 1, "kind": "exclusion"}),  # no radius
        ({"type": "LineString", "coordinates": [[118, 36], [119, 37]]}, {"id": 1, "kind": "exclusion"}),
        ({"type": "Point", "coordinates": [118, 36]}, {"id": 1, "kind": "nowhere", "radius_m": 5}),
        ({"type": "Point", "coordinates": [118, 36]}, {"kind": "exclusion", "radius_m": 5}),  # no id
    ],
)
def test_geojson_errors_are_domain_errors(geometry: dict[str, object], properties: dict[str, object]) -> None:
    with pytest.raises(InvalidInput):
        zone_from_geojson({"type": "Feature", "geometry": geometry, "properties": properties})


def test_packaged_file_keeps_only_linzi() -> None:
    features = json.loads(LINZI_GEOJSON.read_text(encoding="utf-8"))["features"]
    assert [f["properties"]["adcode"] for f in features] == ["370305"]
    readme = (LINZI_GEOJSON.parent / "README.md").read_text(encoding="utf-8")
    assert "echarts-china-cities-pypkg 0.0.9 (MIT)" in readme


def test_fixes_in_unknown_subject_use_no_subject_marker() -> None:
    index = ZoneIndex([Zone("x", ZoneKind.exclusion, Circle(*HOME, 100.0), subject_id=NO_SUBJECT + 10**6)])
    assert one(index, fix(*HOME, subject=None)).exclusion_inside == ()


def test_later_minutes_of_a_scheduled_permitted_zone() -> None:
    """A workplace permitted on weekdays only: at the weekend the subject has no permitted zone."""
    hours = ((frozenset(range(5)), time(8, 0), time(18, 0)),)
    index = ZoneIndex([Zone("work", ZoneKind.permitted, Circle(*HOME, 300.0), 1, hours)])
    saturday = MONDAY_NOON + timedelta(days=5)
    assert math.isnan(one(index, fix(*offset(*HOME, east_m=900), at=saturday)).permitted_margin_m)
    assert one(index, fix(*offset(*HOME, east_m=900))).permitted_margin_m == pytest.approx(-600.0, abs=0.5)


def test_exclusion_clearance_is_measured_near_the_zone_only() -> None:
    index = ZoneIndex(
        [
            Zone("c", ZoneKind.exclusion, Circle(*HOME, 300.0), subject_id=1),
            Zone("p", ZoneKind.exclusion, square_m(*offset(*HOME, north_m=3000), 200.0), subject_id=1),
        ],
        exact_within_m=1000.0,
    )
    assert one(index, fix(*offset(*HOME, east_m=500))).exclusion_depth_m == pytest.approx(-200.0, abs=0.5)
    assert one(index, fix(*offset(*HOME, north_m=3500))).exclusion_depth_m == pytest.approx(-300.0, rel=1e-3)
    assert math.isnan(one(index, fix(*offset(*HOME, east_m=1400))).exclusion_depth_m)  # 1.1 km away
    assert math.isnan(one(index, fix(*offset(*HOME, east_m=500), subject=2)).exclusion_depth_m)


def test_small_polygon_distances_match_shapely_in_any_batch_size(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(11)
    zones = [
        Zone(f"p{i}", ZoneKind.permitted, square_m(*offset(*HOME, *rng.normal(0, 2000, 2)), 300.0), subject_id=1)
        for i in range(5)
    ]
    index = ZoneIndex(zones)
    lat, lon = offset(*HOME, *rng.normal(0, 3000, (2, 500)))
    frames = [geo.LocalProjection.around(z.geometry) for z in zones]
    points = [shapely.points(*f.to_xy(lat, lon)) for f in frames]
    boundaries = [f.project(z.geometry).boundary for f, z in zip(frames, zones, strict=True)]
    expected = np.min([shapely.distance(b, p) for b, p in zip(boundaries, points, strict=True)], axis=0)
    args = (lat, lon, np.ones(500), np.full(500, MONDAY_NOON.timestamp()))
    outside = index.classify_arrays(*args).permitted_margin_m < 0
    monkeypatch.setattr(zone_index, "_SEGMENT_BATCH", 7)
    margin = index.classify_arrays(*args).permitted_margin_m
    assert np.allclose(-margin[outside], expected[outside], rtol=1e-9)


@pytest.mark.parametrize("where", [(-33.87, 151.21), (40.71, -74.0), (-22.9, -43.2), HOME])
def test_shared_zones_are_found_anywhere_on_earth(where: tuple[float, float]) -> None:
    index = ZoneIndex([
        Zone("shared", ZoneKind.exclusion, Circle(*where, 200.0)),
        Zone("home", ZoneKind.permitted, square_m(*HOME, 300.0)),
    ])
    fixes = [fix(*where), fix(*offset(*where, east_m=400)), fix(*HOME, subject=7)]
    result = index.classify(fixes)
    assert result[0].exclusion_inside == ("shared",)
    assert result[1].exclusion_inside == () and result[1].exclusion_depth_m == pytest.approx(-200, abs=0.5)
    assert result[2].permitted_inside == ("home",)


def test_classification_matches_a_brute_force_reference() -> None:
    rng = np.random.default_rng(21)
    nights = ((frozenset({0, 2}), time(11, 0), time(13, 0)),)
    zones = []
    for i in range(60):
        centre = offset(*HOME, *rng.normal(0, 3000, 2))
        subject = None if i % 10 == 0 else int(rng.integers(1, 6))
        kind = ZoneKind.exclusion if i % 3 else ZoneKind.permitted
        size = float(rng.uniform(200, 900))
        geometry = Circle(*centre, size) if i % 2 else square_m(*centre, size)
        zones.append(Zone(i, kind, geometry, subject, nights if i % 7 == 0 else ()))
    index = ZoneIndex(zones)
    fixes = [
        fix(
            *offset(*HOME, *rng.normal(0, 3500, 2)),
            subject=int(rng.integers(1, 7)),
            at=MONDAY_NOON + timedelta(hours=int(rng.integers(0, 72))),
        )
        for _ in range(400)
    ]
    result = index.classify(fixes)
    for f, got in zip(fixes, result, strict=True):
        applicable = [z for z in zones if z.subject_id in (None, f.subject_id) and z.is_active_at(f.fix_time)]

        def contains(z: Zone) -> bool:
            if isinstance(z.geometry, Circle):
                return geo.haversine_m(z.geometry.lat, z.geometry.lon, f.lat, f.lon) <= z.geometry.radius_m
            return bool(shapely.contains_xy(z.geometry, f.lon, f.lat))

        inside = {z.id for z in applicable if contains(z)}
        assert set(got.permitted_inside) | set(got.exclusion_inside) == inside
        permitted = [z for z in applicable if z.kind is ZoneKind.permitted]
        assert set(got.permitted_outside) == {z.id for z in permitted} - inside
        assert math.isnan(got.permitted_margin_m) == (not permitted)
        if permitted:
            assert (got.permitted_margin_m >= 0) == bool(inside & {z.id for z in permitted})
