"""WGS-84 ↔ GCJ-02, distances and the local metric frame."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from zhijiao.core import geo

# Published test vectors of the reference implementation (googollee/eviltransform):
# (WGS-84 lat, lon) → (GCJ-02 lat, lon).
PUBLISHED = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]

ZIBO_LINZI = (36.8260, 118.3090)  # 临淄区 centre, WGS-84


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_wgs_to_gcj_matches_published_vectors(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lat, lon = geo.wgs84_to_gcj02(*wgs)
    assert lat == pytest.approx(gcj[0], abs=1e-9)
    assert lon == pytest.approx(gcj[1], abs=1e-9)
    assert 100 < geo.haversine_m(*wgs, lat, lon) < 700  # the well-known few-hundred-metre shift


@pytest.mark.parametrize(("wgs", "gcj"), PUBLISHED)
def test_gcj_to_wgs_inverts_published_vectors(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    lat, lon = geo.gcj02_to_wgs84(*gcj)
    assert abs(lat - wgs[0]) < 1e-7 and abs(lon - wgs[1]) < 1e-7


def test_zibo_offset_is_a_few_hundred_metres_north_east() -> None:
    lat, lon = geo.wgs84_to_gcj02(*ZIBO_LINZI)
    assert 300 < geo.haversine_m(*ZIBO_LINZI, lat, lon) < 700
    assert lon > ZIBO_LINZI[1]  # in Shandong the GCJ-02 shift is eastwards


@settings(max_examples=300, deadline=None)
@given(lat=st.floats(18.0, 53.5), lon=st.floats(73.5, 135.0))
def test_round_trip_error_is_far_below_half_a_metre(lat: float, lon: float) -> None:
    back_lat, back_lon = geo.gcj02_to_wgs84(*geo.wgs84_to_gcj02(lat, lon))
    assert abs(back_lat - lat) < 1e-7 and abs(back_lon - lon) < 1e-7
    assert geo.haversine_m(lat, lon, back_lat, back_lon) < 0.5


def test_round_trip_over_a_grid_of_china_with_arrays() -> None:
    lat, lon = (a.ravel() for a in np.meshgrid(np.linspace(18, 53.5, 80), np.linspace(73.5, 135, 80)))
    back_lat, back_lon = geo.gcj02_to_wgs84_array(*geo.wgs84_to_gcj02_array(lat, lon))
    assert geo.haversine_m_array(lat, lon, back_lat, back_lon).max() < 0.5


@pytest.mark.parametrize("point", [(48.8566, 2.3522), (-33.87, 151.21), (35.68, 139.76), (64.1, -21.9)])
def test_points_abroad_pass_through(point: tuple[float, float]) -> None:
    assert geo.out_of_china(*point)
    assert geo.wgs84_to_gcj02(*point) == point
    assert geo.gcj02_to_wgs84(*point) == point


def test_array_forms_agree_with_scalar_forms() -> None:
    lat = np.array([36.8, 31.17, 48.85])
    lon = np.array([118.3, 121.5, 2.35])
    g_lat, g_lon = geo.wgs84_to_gcj02_array(lat, lon)
    for i in range(3):
        assert (g_lat[i], g_lon[i]) == geo.wgs84_to_gcj02(lat[i], lon[i])
    assert geo.haversine_m_array(lat, lon, g_lat, g_lon)[0] == pytest.approx(
        geo.haversine_m(lat[0], lon[0], g_lat[0], g_lon[0])
    )


def test_geometry_conversion_round_trip() -> None:
    poly = geo.circle_polygon(*ZIBO_LINZI, 1000.0)
    gcj = geo.wgs84_geometry_to_gcj02(poly)
    assert gcj.centroid.distance(poly.centroid) > 0.003  # moved by hundreds of metres
    assert shapely.hausdorff_distance(geo.gcj02_geometry_to_wgs84(gcj), poly) < 1e-8


def test_haversine_known_distances() -> None:
    assert geo.haversine_m(36.0, 118.0, 36.0, 118.0) == 0.0
    assert geo.haversine_m(36.0, 118.0, 37.0, 118.0) == pytest.approx(111_195, rel=1e-4)
    # Tiananmen to the Bund: about 1,068 km
    assert geo.haversine_m(39.9087, 116.3975, 31.2400, 121.4900) == pytest.approx(1_068_000, rel=0.01)


def test_metres_per_degree_matches_reference_values() -> None:
    k_lat, k_lon = geo.metres_per_degree(0.0)
    assert k_lat == pytest.approx(110_574, abs=1) and k_lon == pytest.approx(111_320, abs=1)
    k_lat, k_lon = geo.metres_per_degree(45.0)
    assert k_lat == pytest.approx(111_132, abs=1) and k_lon == pytest.approx(78_847, abs=1)


def test_local_projection_round_trip_and_scale() -> None:
    frame = geo.LocalProjection.at(*ZIBO_LINZI)
    x, y = frame.to_xy(ZIBO_LINZI[0] + 0.01, ZIBO_LINZI[1] + 0.01)
    assert math.hypot(x, y) == pytest.approx(
        geo.haversine_m(*ZIBO_LINZI, ZIBO_LINZI[0] + 0.01, ZIBO_LINZI[1] + 0.01), rel=5e-3
    )
    lat, lon = frame.to_latlon(x, y)
    assert lat == pytest.approx(ZIBO_LINZI[0] + 0.01, abs=1e-12)
    assert lon == pytest.approx(ZIBO_LINZI[1] + 0.01, abs=1e-12)
    square = shapely.box(118.30, 36.82, 118.31, 36.83)
    assert shapely.equals_exact(frame.unproject(frame.project(square)), square, tolerance=1e-12)


def test_circle_polygon_has_the_radius_in_metres() -> None:
    circle = geo.circle_polygon(*ZIBO_LINZI, 500.0)
    for lon, lat in circle.exterior.coords:
        assert geo.haversine_m(*ZIBO_LINZI, lat, lon) == pytest.approx(500.0, rel=5e-3)


def test_buffer_m_grows_by_metres() -> None:
    square = shapely.box(118.30, 36.82, 118.31, 36.83)
    frame = geo.LocalProjection.around(square)
    grown = frame.project(geo.buffer_m(square, 100.0))
    # corners are chords of 16 segments a quarter: up to 0.12 % short of the radius
    assert frame.project(square).distance(grown.exterior) == pytest.approx(100.0, rel=2e-3)
