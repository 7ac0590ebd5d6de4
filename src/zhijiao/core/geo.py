"""Coordinates in one place: WGS-84 ↔ GCJ-02, distances in metres, a local metric frame.

Devices report WGS-84 (BeiDou/GPS); Chinese web maps (AMap, Tencent) and many boundary files
use GCJ-02, the officially obfuscated datum. Everything stored and compared in Zhijiao is WGS-84;
conversion happens only at the edges (map display, importing a GCJ-02 boundary), through here.

Scalar functions take and return plain floats (``lat, lon`` order, like :class:`Fix`); the
``*_array`` variants take NumPy arrays for batch work.  Geometries handed to shapely use
``x = lon, y = lat`` as GeoJSON does.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
G = TypeVar("G", bound=shapely.Geometry)

# WGS-84 ellipsoid: for metres per degree at a latitude.
WGS84_A = 6_378_137.0
WGS84_E2 = 6.694_379_990_14e-3
# IUGG mean radius: the usual sphere for haversine (error ≤ 0.5 % against the ellipsoid).
EARTH_MEAN_RADIUS_M = 6_371_008.8

# GCJ-02 constants of the published algorithm (it uses the Krasovsky 1940 ellipsoid).
_GCJ_A = 6_378_245.0
_GCJ_EE = 0.006_693_421_622_965_943_23
# The rough "is this China" box every public implementation uses.  It is a box, not a border:
# it also covers parts of Korea, Japan and Mongolia; GCJ-02 is only meaningful inside China.
_CHINA_LON = (72.004, 137.8347)
_CHINA_LAT = (0.8293, 55.8271)


# --- GCJ-02 -------------------------------------------------------------------------------------


def out_of_china(lat: float, lon: float) -> bool:
    """True where GCJ-02 does not apply and coordinates pass through unchanged."""
    return not (_CHINA_LON[0] <= lon <= _CHINA_LON[1] and _CHINA_LAT[0] <= lat <= _CHINA_LAT[1])


def _out_of_china_array(lat: FloatArray, lon: FloatArray) -> NDArray[np.bool_]:
    inside = (lon >= _CHINA_LON[0]) & (lon <= _CHINA_LON[1])
    inside &= (lat >= _CHINA_LAT[0]) & (lat <= _CHINA_LAT[1])
    return ~inside


def _gcj_offset(lat: FloatArray, lon: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 shift (dlat, dlon) in degrees at WGS-84 (lat, lon): the published formula."""
    x = lon - 105.0
    y = lat - 35.0
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    t_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    t_lat += common
    t_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    t_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    t_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    t_lon += common
    t_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    t_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = np.radians(lat)
    magic = 1.0 - _GCJ_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (t_lat * 180.0) / ((_GCJ_A * (1.0 - _GCJ_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (t_lon * 180.0) / (_GCJ_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return dlat, dlon


def wgs84_to_gcj02_array(lat: ArrayLike, lon: ArrayLike) -> tuple[FloatArray, FloatArray]:
    lat_a = np.asarray(lat, dtype=np.float64)
    lon_a = np.asarray(lon, dtype=np.float64)
    dlat, dlon = _gcj_offset(lat_a, lon_a)
    abroad = _out_of_china_array(lat_a, lon_a)
    return np.where(abroad, lat_a, lat_a + dlat), np.where(abroad, lon_a, lon_a + dlon)


def gcj02_to_wgs84_array(
    lat: ArrayLike, lon: ArrayLike, *, tol_deg: float = 1e-9, max_iter: int = 30
) -> tuple[FloatArray, FloatArray]:
    """Invert GCJ-02 by fixed-point iteration: w ← w − (gcj(w) − g).

    The offset changes by about 1e-3 of a degree per degree, so each step gains roughly three
    digits; 3–4 steps reach ``tol_deg`` (1e-9° ≈ 0.1 mm), well under the 1e-7° we promise.
    """
    g_lat = np.asarray(lat, dtype=np.float64)
    g_lon = np.asarray(lon, dtype=np.float64)
    w_lat, w_lon = g_lat.copy(), g_lon.copy()
    for _ in range(max_iter):
        c_lat, c_lon = wgs84_to_gcj02_array(w_lat, w_lon)
        e_lat, e_lon = c_lat - g_lat, c_lon - g_lon
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
        if _max_abs(e_lat, e_lon) < tol_deg:
            break
    abroad = _out_of_china_array(g_lat, g_lon)
    return np.where(abroad, g_lat, w_lat), np.where(abroad, g_lon, w_lon)


def _max_abs(*arrays: FloatArray) -> float:
    return max(float(np.max(np.abs(a), initial=0.0)) for a in arrays)


def wgs84_to_gcj02(lat: float, lon: float) -> tuple[float, float]:
    """One WGS-84 point to GCJ-02 (for display and export; batch work uses the array form)."""
    g_lat, g_lon = wgs84_to_gcj02_array(lat, lon)
    return float(g_lat), float(g_lon)


def gcj02_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """One GCJ-02 point back to WGS-84, iterated to < 1e-7 degree."""
    w_lat, w_lon = gcj02_to_wgs84_array(lat, lon)
    return float(w_lat), float(w_lon)


def gcj02_geometry_to_wgs84(geometry: G) -> G:
    """Convert a shapely geometry (x = lon, y = lat) from GCJ-02 to WGS-84, e.g. a boundary file."""
    return _transform_lonlat(geometry, gcj02_to_wgs84_array)


def wgs84_geometry_to_gcj02(geometry: G) -> G:
    return _transform_lonlat(geometry, wgs84_to_gcj02_array)


def _transform_lonlat(geometry: G, convert: Callable[..., tuple[FloatArray, FloatArray]]) -> G:
    def apply(coords: FloatArray) -> FloatArray:
        lat, lon = convert(coords[:, 1], coords[:, 0])
        return np.column_stack([lon, lat])

    return shapely.transform(geometry, apply)


# --- distances ----------------------------------------------------------------------------------


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (scalar; the rules call this once per fix)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dl = math.radians(lon2 - lon1)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def haversine_m_array(lat1: ArrayLike, lon1: ArrayLike, lat2: ArrayLike, lon2: ArrayLike) -> FloatArray:
    """Great-circle distance in metres, element-wise over arrays (broadcasting)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dl = np.radians(np.asarray(lon2, dtype=np.float64) - np.asarray(lon1, dtype=np.float64))
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_MEAN_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(h)))


def metres_per_degree(lat: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """(metres per degree of latitude, metres per degree of longitude) on the WGS-84 ellipsoid.

    Good to millimetres for the small steps a district works with; at Zibo (36.8° N) a degree is
    about 111.0 km north-south and 89.3 km east-west.
    """
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    w = np.sqrt(1.0 - WGS84_E2 * np.sin(phi) ** 2)
    meridional = WGS84_A * (1.0 - WGS84_E2) / w**3  # radius of curvature north-south
    prime_vertical = WGS84_A / w  # east-west
    return np.radians(meridional), np.radians(prime_vertical) * np.cos(phi)


@dataclass(frozen=True, slots=True)
class LocalProjection:
    """Equirectangular metres around a reference point: x east, y north.

    Distortion grows with the distance from the reference latitude (about 0.1 % per 0.1°
    north-south at Zibo), which is negligible at district scale; use one frame per zone, not
    one for a province.
    """

    lat0: float
    lon0: float
    m_per_deg_lat: float
    m_per_deg_lon: float

    @classmethod
    def at(cls, lat0: float, lon0: float) -> LocalProjection:
        k_lat, k_lon = metres_per_degree(lat0)
        return cls(lat0, lon0, float(k_lat), float(k_lon))

    @classmethod
    def around(cls, geometry: shapely.Geometry) -> LocalProjection:
        """A frame centred on the middle of a geometry's bounding box."""
        min_lon, min_lat, max_lon, max_lat = geometry.bounds
        return cls.at((min_lat + max_lat) / 2, (min_lon + max_lon) / 2)

    def to_xy(self, lat: ArrayLike, lon: ArrayLike) -> tuple[FloatArray, FloatArray]:
        x = (np.asarray(lon, dtype=np.float64) - self.lon0) * self.m_per_deg_lon
        y = (np.asarray(lat, dtype=np.float64) - self.lat0) * self.m_per_deg_lat
        return x, y

    def to_latlon(self, x: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray]:
        lat = np.asarray(y, dtype=np.float64) / self.m_per_deg_lat + self.lat0
        lon = np.asarray(x, dtype=np.float64) / self.m_per_deg_lon + self.lon0
        return lat, lon

    def project(self, geometry: G) -> G:
        """A lon/lat geometry into this frame (metres)."""

        def apply(coords: FloatArray) -> FloatArray:
            x, y = self.to_xy(coords[:, 1], coords[:, 0])
            return np.column_stack([x, y])

        return shapely.transform(geometry, apply)

    def unproject(self, geometry: G) -> G:
        """A geometry in this frame back to lon/lat."""

        def apply(coords: FloatArray) -> FloatArray:
            lat, lon = self.to_latlon(coords[:, 0], coords[:, 1])
            return np.column_stack([lon, lat])

        return shapely.transform(geometry, apply)


def buffer_m(geometry: shapely.Geometry, distance_m: float, *, quad_segs: int = 16) -> shapely.Geometry:
    """Buffer a lon/lat geometry by metres (negative shrinks), in a frame around the geometry."""
    frame = LocalProjection.around(geometry)
    return frame.unproject(shapely.buffer(frame.project(geometry), distance_m, quad_segs=quad_segs))


def circle_polygon(lat: float, lon: float, radius_m: float, *, quad_segs: int = 16) -> shapely.Polygon:
    """A circle of ``radius_m`` around a point, as a lon/lat polygon (4 × quad_segs sides)."""
    frame = LocalProjection.at(lat, lon)
    return frame.unproject(shapely.Point(0.0, 0.0).buffer(radius_m, quad_segs=quad_segs))
