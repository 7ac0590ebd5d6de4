"""Electronic fences (电子围栏), the index: which zones a batch of fixes is in, and how far from the edge.

Law Art. 29 allows electronic positioning only under an order; the permitted area (活动范围,
normally the city or county, Art. 27) and the exclusion zones of a court's 禁止令 are the fences
the rules in :mod:`zhijiao.monitoring.rules` check; the zones themselves (shapes, schedules,
GeoJSON) are :mod:`zhijiao.monitoring.geofence`.  This module only does geometry; it decides
nothing about alarms.

Work is batched so that no fix costs a Python-level shapely call:

1. candidate (fix, zone) pairs: the subject's own zones by lookup and a NumPy bounding-box
   test, the shared zones by one ``STRtree.query`` of all fix points (see ``_candidates``);
2. a NumPy filter of the pairs by schedule;
3. the exact test on the pairs left: circles analytically, polygons by ``shapely.contains_xy``
   on prepared geometries;
4. distances to the boundary in metres, in a local metric frame per zone: circles exactly,
   small polygons with NumPy over their segments, large ones (a district) with a shrunk core
   and a tree of boundary pieces; for fixes in no permitted zone, the distance to the nearest
   applicable one; for fixes in no exclusion zone, the distance to the nearest one nearby.

The tree query is by bounding box on purpose: a ``within`` predicate in the query tests every
candidate against an unprepared polygon (a district boundary has 754 vertices); testing the
pairs left after the filters on prepared zones is several times faster.

Geometries are WGS-84 degrees (x = lon, y = lat).  A circle is a centre and a radius in
metres; it is never turned into a polygon for the decision, so "150 m from a 500 m circle"
means exactly that.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, methodcaller
import numpy as np
import shapely
from numpy.typing import ArrayLike, NDArray

from zhijiao.core import geo
from zhijiao.core.errors import InvalidInput
from zhijiao.core.fix import Fix
from zhijiao.monitoring import geofence
from zhijiao.monitoring.geofence import MINUTES_PER_WEEK, Circle, Zone, ZoneId, ZoneKind, minute_of_week

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]

SHARED = -1  # scope of a zone that applies to every subject
NO_SUBJECT = -2  # a fix whose subject is not resolved: only shared zones apply

# Polygons with more vertices than this get a boundary tree and an inner core (see _BigZone).
BIG_ZONE_VERTICES = 200
_CHUNK_SEGMENTS = 8
_SEGMENT_BATCH = 1_000_000
_GRID_DEG = 1 / 64  # about 1.7 km: cells for finding shared zones (see _shared_candidates)


# --- per-fix answer -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FixZones:
    """What the fences say about one fix.

    ``permitted_margin_m``: positive inside the permitted area by that much, negative outside
    it by that much, NaN when no permitted zone applies to the subject at that time.
    ``exclusion_depth_m``: how deep inside the deepest applicable exclusion zone; when in none,
    minus the distance to the nearest one within :attr:`ZoneIndex.exact_within_m`; NaN when
    none is that near.  Both are exact within :attr:`ZoneIndex.exact_within_m` of an edge.  Farther than
    that from the edge of a large polygon (a district boundary) the value is ±inf: the rules
    only compare these with accuracy radii, and a fix less accurate than a kilometre is noise.

    The zone ids are looked up only when asked for (an alarm opening), not for every fix.
    """

    permitted_margin_m: float = float("nan")
    exclusion_depth_m: float = float("nan")
    source: ZoneClassification | None = field(default=None, repr=False, compare=False)
    row: int = -1

    @property
    def permitted_inside(self) -> tuple[ZoneId, ...]:
        return () if self.source is None else self.source.permitted_inside(self.row)

    @property
    def permitted_outside(self) -> tuple[ZoneId, ...]:
        return () if self.source is None else self.source.permitted_outside(self.row)

    @property
    def exclusion_inside(self) -> tuple[ZoneId, ...]:
        return () if self.source is None else self.source.exclusion_inside(self.row)


@dataclass(frozen=True, slots=True, eq=False)
class ZoneClassification:
    """Columnar result of :meth:`ZoneIndex.classify`; ``result[i]`` is fix *i* as :class:`FixZones`."""

    index: ZoneIndex
    subject: IntArray
    minute: IntArray
    permitted_margin_m: FloatArray
    exclusion_depth_m: FloatArray
    inside_offsets: IntArray  # CSR: zones containing fix i are inside_zones[off[i]:off[i+1]]
    inside_zones: IntArray

    def __len__(self) -> int:
        return len(self.subject)

    def __getitem__(self, i: int) -> FixZones:
        return FixZones(float(self.permitted_margin_m[i]), float(self.exclusion_depth_m[i]), self, i)

    def __iter__(self) -> Iterator[FixZones]:
        margins, depths = self.permitted_margin_m.tolist(), self.exclusion_depth_m.tolist()
        return (FixZones(m, d, self, i) for i, (m, d) in enumerate(zip(margins, depths, strict=True)))

    def _inside(self, i: int) -> IntArray:
        return self.inside_zones[self.inside_offsets[i] : self.inside_offsets[i + 1]]

    def permitted_inside(self, i: int) -> tuple[ZoneId, ...]:
        inside = self._inside(i)
        return self.index.ids_of(inside[~self.index.is_exclusion[inside]])

    def exclusion_inside(self, i: int) -> tuple[ZoneId, ...]:
        inside = self._inside(i)
        return self.index.ids_of(inside[self.index.is_exclusion[inside]])

    def permitted_outside(self, i: int) -> tuple[ZoneId, ...]:
        """Applicable permitted zones (scope and schedule) that do not contain fix i."""
        applicable = self.index.applicable_permitted(int(self.subject[i]), int(self.minute[i]))
        inside = set(self._inside(i).tolist())
        return self.index.ids_of([z for z in applicable if z not in inside])


# --- the index ----------------------------------------------------------------------------------


@dataclass(slots=True)
class _BigZone:
    """Helpers for a polygon with many vertices (a district boundary).

    ``core`` is the polygon shrunk by ``exact_within_m``: a fix inside it is deeper than that and
    needs no distance.  ``pieces`` are short boundary pieces in the zone's metric frame with an
    STRtree, so that only the pieces within ``exact_within_m`` of a fix are measured.
    """

    core: shapely.Geometry
    pieces: NDArray[np.object_]
    tree: shapely.STRtree

    def distance(self, points_m: NDArray[np.object_], within_m: float) -> FloatArray:
        """Metres to the boundary, +inf where it is farther than ``within_m``."""
        src, piece = self.tree.query(points_m, predicate="dwithin", distance=within_m)
        out = np.full(len(points_m), np.inf)
        np.fmin.at(out, src, shapely.distance(self.pieces[piece], points_m[src]))
        return out


@dataclass(frozen=True, slots=True)
class _Scope:
    """Which zones of one kind apply to whom: a CSR of each subject's own, plus the shared ones."""

    subjects: IntArray  # sorted subject ids that have zones of their own
    offsets: IntArray  # zones of subjects[k] are zones[offsets[k]:offsets[k + 1]]
    zones: IntArray
    shared: IntArray
    # the same for one subject at a time (an alarm's details): plain tuples, no array of one
    own_of: dict[int, tuple[int, ...]]
    shared_list: tuple[int, ...]

    @classmethod
    def build(cls, scope: IntArray, members: NDArray[np.bool_]) -> _Scope:
        own = np.flatnonzero(members & (scope != SHARED))
        own = own[np.argsort(scope[own], kind="stable")]
        subjects, starts = np.unique(scope[own], return_index=True)
        offsets = np.append(starts, len(own)).astype(np.int64)
        shared = np.flatnonzero(members & (scope == SHARED))
        own_of: dict[int, tuple[int, ...]] = {}
        for subject, zone in zip(scope[own].tolist(), own.tolist(), strict=True):
            own_of[subject] = (*own_of.get(subject, ()), zone)
        return cls(subjects, offsets, own.astype(np.int64), shared, own_of, tuple(shared.tolist()))

    def pairs(
        self, fixes: IntArray, subjects: IntArray, *, shared: bool = True
    ) -> tuple[IntArray, IntArray]:
        """(fix, zone) for each zone in scope of each fix's subject (and the shared ones)."""
        pos = np.searchsorted(self.subjects, subjects)
        found = pos < len(self.subjects)
        found[found] = self.subjects[pos[found]] == subjects[found]
        starts = np.where(found, self.offsets[np.where(found, pos, 0)], 0)
        counts = np.where(found, self.offsets[np.where(found, pos + 1, 0)] - starts, 0)
        own_f = np.repeat(fixes, counts)
        # the k-th own zone of a fix sits at starts[fix] + k: one arange, shifted per fix
        shift = np.repeat(starts - (np.cumsum(counts) - counts), counts)
        own_z = self.zones[shift + np.arange(len(own_f))]
        if not shared:
            return own_f, own_z
        return (
            np.concatenate([own_f, np.repeat(fixes, len(self.shared))]),
            np.concatenate([own_z, np.tile(self.shared, len(fixes))]),
        )


@dataclass(eq=False)
class ZoneIndex:
    """All fences of a bureau, ready to classify batches of fixes."""

    zones: Sequence[Zone]
    # Distances are exact up to this far from an edge where measuring farther would cost: inside
    # or outside a big zone, outside an exclusion zone.  The rules compare distances only with
    # accuracy radii, so this should be at least RuleSettings.max_accuracy_m (1,000 m).
    exact_within_m: float = 1_000.0
    _by_id: dict[ZoneId, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.zones = list(self.zones)
        self._by_id = {z.id: i for i, z in enumerate(self.zones)}
        if len(self._by_id) != len(self.zones):
            raise InvalidInput("围栏编号重复", code="invalid_zone")
        self._build_arrays()
        self._build_frames()
        self._build_schedules()
        self._build_scopes()
        envelopes = self._envelopes()
        self._boxes = shapely.bounds(envelopes).reshape(len(self.zones), 4)  # degrees
        # Shared zones apply to every fix: they are found through a spatial index.
        self._shared = np.flatnonzero(self.scope == SHARED)
        self._shared_tree = shapely.STRtree(envelopes[self._shared])

    # construction ----------------------------------------------------------------------------

    def _build_arrays(self) -> None:
        zones = self.zones
        self.is_exclusion = np.array([z.kind is ZoneKind.exclusion for z in zones], dtype=bool)
        self.is_circle = np.array([z.is_circle for z in zones], dtype=bool)
        self.scope = np.array(
            [SHARED if z.subject_id is None else z.subject_id for z in zones], dtype=np.int64
        )
        self._id_list = [z.id for z in zones]
        nan = Circle(np.nan, np.nan, np.nan)
        circles = np.array([z.geometry if z.is_circle else nan for z in zones], dtype=np.float64)
        circles = circles.reshape(len(zones), 3)
        self._c_lat, self._c_lon, self._c_r = circles[:, 0], circles[:, 1], circles[:, 2]
        self._c_klat, self._c_klon = geo.metres_per_degree(self._c_lat)
        self._polygons = np.array([None if z.is_circle else z.geometry for z in zones], dtype=object)
        shapely.prepare(self._polygons)

    def _build_frames(self) -> None:
        """A metric frame per polygon, its boundary in that frame, and helpers for big ones."""
        n = len(self.zones)
        self._f_lat0 = np.full(n, np.nan)
        self._f_lon0 = np.full(n, np.nan)
        self._f_klat = np.full(n, np.nan)
        self._f_klon = np.full(n, np.nan)
        segments: list[FloatArray] = []  # boundary segments of small polygons, in their frames
        self._seg_count = np.zeros(n, dtype=np.int64)
        self._f_box = np.full((n, 4), np.nan)  # bounds in the frame, metres
        self._big: dict[int, _BigZone] = {}
        self._is_big = np.zeros(n, dtype=bool)
        for i, zone in enumerate(self.zones):
            if zone.is_circle:
                continue
            frame = geo.LocalProjection.around(zone.geometry)
            self._f_lat0[i], self._f_lon0[i] = frame.lat0, frame.lon0
            self._f_klat[i], self._f_klon[i] = frame.m_per_deg_lat, frame.m_per_deg_lon
            polygon_m = frame.project(zone.geometry)
            self._f_box[i] = polygon_m.bounds
            if shapely.get_num_coordinates(zone.geometry) > BIG_ZONE_VERTICES:
                core = frame.unproject(polygon_m.buffer(-self.exact_within_m))
                shapely.prepare(core)
                pieces = _boundary_pieces(polygon_m.boundary)
                self._big[i] = _BigZone(core, pieces, shapely.STRtree(pieces))
                self._is_big[i] = True
            else:
                segments.append(_segments(polygon_m.boundary))
                self._seg_count[i] = len(segments[-1])
        self._seg_start = np.cumsum(self._seg_count) - self._seg_count
        self._segments = np.concatenate(segments) if segments else np.empty((0, 4))

    def _build_schedules(self) -> None:
        """One packed bit per minute of the week for each scheduled zone (1.3 kB each)."""
        self._sched_row = np.full(len(self.zones), -1, dtype=np.int64)
        rows = []
        for i, zone in enumerate(self.zones):
            if zone.schedule:
                self._sched_row[i] = len(rows)
                rows.append(np.packbits(geofence.schedule_minutes(zone.schedule)))
        self._sched_bits = np.array(rows, dtype=np.uint8).reshape(len(rows), MINUTES_PER_WEEK // 8)
        self._sched_row_list = self._sched_row.tolist()

    def _build_scopes(self) -> None:
        self._scopes = {
            kind: _Scope.build(self.scope, self.is_exclusion == (kind is ZoneKind.exclusion))
            for kind in ZoneKind
        }
        self._own = _Scope.build(self.scope, self.scope != SHARED)  # a subject's own, any kind

    def _envelopes(self) -> NDArray[np.object_]:
        """Bounding boxes for the tree; a circle's box comes from its own metric frame."""
        boxes = shapely.envelope(self._polygons)
        c = np.flatnonzero(self.is_circle)
        d_lat, d_lon = self._c_r[c] / self._c_klat[c], self._c_r[c] / self._c_klon[c]
        lat, lon = self._c_lat[c], self._c_lon[c]
        boxes[c] = shapely.box(lon - d_lon, lat - d_lat, lon + d_lon, lat + d_lat)
        return boxes

    # lookups -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.zones)

    def zone(self, zone_id: ZoneId) -> Zone:
        return self.zones[self._by_id[zone_id]]

    def ids_of(self, indices: IntArray | Sequence[int]) -> tuple[ZoneId, ...]:
        ids = self._id_list
        return tuple(ids[i] for i in np.asarray(indices, dtype=np.int64).tolist())

    def applicable_permitted(self, subject_id: int, minute: int) -> list[int]:
        """Indices of the permitted zones that apply to a subject at a minute of the week, sorted.

        One subject at a time (an alarm's details), so plain Python: on arrays of one the
        vectorised path costs a dozen numpy calls, about ten times as much.
        """
        scope = self._scopes[ZoneKind.permitted]
        rows, bits = self._sched_row_list, self._sched_bits
        return sorted(
            z for z in scope.own_of.get(subject_id, ()) + scope.shared_list
            if rows[z] < 0 or (bits[rows[z], minute >> 3] >> (7 - (minute & 7))) & 1
        )

    def _applicable_pairs(
        self, kind: ZoneKind, fixes: IntArray, subjects: IntArray, minute: IntArray
    ) -> tuple[IntArray, IntArray]:
        """(fix, zone) for every zone of a kind in scope of each fix and active at its time."""
        fi, zi = self._scopes[kind].pairs(fixes, subjects)
        keep = self._active(zi, minute[fi])
        return fi[keep], zi[keep]

    def _active(self, zi: IntArray, minute: IntArray) -> NDArray[np.bool_]:
        """Whether each zone applies at the paired minute of the week."""
        row = self._sched_row[zi]
        active = row < 0
        timed = np.flatnonzero(~active)
        if len(timed):
            m = minute[timed]
            byte = self._sched_bits[row[timed], m >> 3]
            active[timed] = ((byte >> (7 - (m & 7))) & 1).astype(bool)
        return active

    # classification ----------------------------------------------------------------------------

    def classify(self, fixes: Sequence[Fix]) -> ZoneClassification:
        """Classify fixes (any order, any subjects); the i-th answer belongs to the i-th fix."""
        n = len(fixes)  # map/attrgetter: the cheapest way through many objects in CPython
        lat = np.fromiter(map(attrgetter("lat"), fixes), np.float64, n)
        lon = np.fromiter(map(attrgetter("lon"), fixes), np.float64, n)
        subjects = map(attrgetter("subject_id"), fixes)
        subject = np.fromiter((NO_SUBJECT if s is None else s for s in subjects), np.int64, n)
        times = map(attrgetter("fix_time"), fixes)
        epoch_s = np.fromiter(map(methodcaller("timestamp"), times), np.float64, n)
        return self.classify_arrays(lat, lon, subject, epoch_s)

    def classify_arrays(
        self, lat: ArrayLike, lon: ArrayLike, subject_id: ArrayLike, epoch_s: ArrayLike
    ) -> ZoneClassification:
        """The same from columns: WGS-84 degrees, subject ids (NO_SUBJECT if unknown), UTC epoch s."""
        lat = np.asarray(lat, dtype=np.float64)
        lon = np.asarray(lon, dtype=np.float64)
        subject = np.asarray(subject_id, dtype=np.int64)
        minute = minute_of_week(epoch_s)
        n = len(lat)

        fi, zi = self._candidates(lat, lon, subject)
        keep = self._active(zi, minute[fi])
        fi, zi, depth = self._inside(fi[keep], zi[keep], lat, lon)
        order = np.argsort(fi, kind="stable")
        fi, zi, depth = fi[order], zi[order], depth[order]

        excl = self.is_exclusion[zi]
        margin = np.full(n, np.nan)
        np.fmax.at(margin, fi[~excl], depth[~excl])
        exclusion_depth = np.full(n, np.nan)
        np.fmax.at(exclusion_depth, fi[excl], depth[excl])
        self._fill_outside_margin(margin, subject, minute, lat, lon)
        self._fill_exclusion_clearance(exclusion_depth, subject, minute, lat, lon)

        offsets = np.searchsorted(fi, np.arange(n + 1)).astype(np.int64)
        return ZoneClassification(self, subject, minute, margin, exclusion_depth, offsets, zi)

    def _candidates(self, lat: FloatArray, lon: FloatArray, subject: IntArray) -> tuple[IntArray, IntArray]:
        """(fix, zone) pairs in scope whose zone's bounding box holds the fix.

        A fix's own zones are looked up by its subject; an STRtree over every zone would mostly
        return other subjects' zones (about eight per fix in the 10,000-zone bench) only to
        have them filtered out, at seven times the cost.  Shared zones, which apply to every
        fix, come from an STRtree query per occupied grid cell, not per fix: a shapely point
        per fix costs more than everything else here (Python objects, garbage collection).
        """
        fi, zi = self._own.pairs(np.arange(len(lat)), subject, shared=False)
        if len(self._shared):
            shared_fi, shared_zi = self._shared_candidates(lat, lon)
            fi, zi = np.concatenate([fi, shared_fi]), np.concatenate([zi, shared_zi])
        box = self._boxes[zi]
        x, y = lon[fi], lat[fi]
        hit = (x >= box[:, 0]) & (x <= box[:, 2]) & (y >= box[:, 1]) & (y <= box[:, 3])
        return fi[hit], zi[hit]

    def _shared_candidates(self, lat: FloatArray, lon: FloatArray) -> tuple[IntArray, IntArray]:
        """(fix, shared zone) for every fix in a grid cell whose box meets the zone's box."""
        col = np.floor(lon / _GRID_DEG).astype(np.int64)
        row = np.floor(lat / _GRID_DEG).astype(np.int64)
        row0 = int(row.min()) if len(row) else 0
        rows = int(row.max()) - row0 + 1 if len(row) else 1  # a key per cell: col * rows + row
        cells, cell_of_fix = np.unique(col * rows + (row - row0), return_inverse=True)
        c_col, c_row = np.divmod(cells, rows)
        x0, y0 = c_col * _GRID_DEG, (c_row + row0) * _GRID_DEG
        cell_i, k = self._shared_tree.query(shapely.box(x0, y0, x0 + _GRID_DEG, y0 + _GRID_DEG))
        # fixes grouped by cell, then every fix of a cell paired with each zone found for it
        by_cell = np.argsort(cell_of_fix, kind="stable")
        starts = np.searchsorted(cell_of_fix[by_cell], np.arange(len(cells) + 1))
        counts = starts[cell_i + 1] - starts[cell_i]
        shift = np.repeat(starts[cell_i] - (np.cumsum(counts) - counts), counts)
        return by_cell[shift + np.arange(int(counts.sum()))], np.repeat(self._shared[k], counts)

    def _inside(
        self, fi: IntArray, zi: IntArray, lat: FloatArray, lon: FloatArray
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """Keep the pairs whose fix is inside the zone, with its depth in metres."""
        signed = np.full(len(fi), -1.0)
        circ = self.is_circle[zi]
        signed[circ] = self._circle_signed(fi[circ], zi[circ], lat, lon)
        deep = np.zeros(len(fi), dtype=bool)
        for z, helper in self._big.items():  # a district's core answers most of its fixes at once
            sel = np.flatnonzero(zi == z)
            deep[sel] = shapely.contains_xy(helper.core, lon[fi[sel]], lat[fi[sel]])
        signed[deep] = np.inf
        test = np.flatnonzero(~circ & ~deep)
        inside = shapely.contains_xy(self._polygons[zi[test]], lon[fi[test]], lat[fi[test]])
        near = test[inside]
        signed[near] = self._polygon_distance(fi[near], zi[near], lat, lon)
        keep = signed >= 0.0
        return fi[keep], zi[keep], signed[keep]

    def _fill_outside_margin(
        self, margin: FloatArray, subject: IntArray, minute: IntArray, lat: FloatArray, lon: FloatArray
    ) -> None:
        """For fixes inside no permitted zone: minus the distance to the nearest applicable one."""
        outside = np.flatnonzero(np.isnan(margin))
        fi, zi = self._applicable_pairs(ZoneKind.permitted, outside, subject[outside], minute)
        nearest = np.full(len(margin), np.inf)
        np.fmin.at(nearest, fi, self._outside_distance(fi, zi, lat, lon))
        has_zone = np.zeros(len(margin), dtype=bool)
        has_zone[fi] = True  # far from a big zone the distance is inf, which still means outside
        margin[has_zone] = -nearest[has_zone]

    def _fill_exclusion_clearance(
        self, depth: FloatArray, subject: IntArray, minute: IntArray, lat: FloatArray, lon: FloatArray
    ) -> None:
        """For fixes in no exclusion zone: minus the distance to the nearest one, if near.

        A noisy fix just outside a zone is no proof of having left it; the rules need to know
        how far outside it is to weigh it against its accuracy.
        """
        free = np.flatnonzero(np.isnan(depth))
        fi, zi = self._applicable_pairs(ZoneKind.exclusion, free, subject[free], minute)
        dist = self._outside_distance(fi, zi, lat, lon, within_m=self.exact_within_m)
        near = dist <= self.exact_within_m
        nearest = np.full(len(depth), np.inf)
        np.fmin.at(nearest, fi[near], dist[near])
        found = np.isfinite(nearest)
        depth[found] = -nearest[found]

    def _outside_distance(
        self, fi: IntArray, zi: IntArray, lat: FloatArray, lon: FloatArray, within_m: float | None = None
    ) -> FloatArray:
        """Metres from fixes to zones they are not in; with ``within_m``, inf where farther."""
        dist = np.empty(len(fi))
        circ = self.is_circle[zi]
        dist[circ] = -self._circle_signed(fi[circ], zi[circ], lat, lon)
        poly = np.flatnonzero(~circ)
        if within_m is not None:  # most pairs are far apart: the boxes tell without measuring
            far = self._box_distance(fi[poly], zi[poly], lat, lon) > within_m
            dist[poly[far]] = np.inf
            poly = poly[~far]
        dist[poly] = self._polygon_distance(fi[poly], zi[poly], lat, lon)
        return dist

    def _box_distance(self, fi: IntArray, zi: IntArray, lat: FloatArray, lon: FloatArray) -> FloatArray:
        """Metres from fixes to their zones' bounding boxes (a lower bound of the distance)."""
        x = (lon[fi] - self._f_lon0[zi]) * self._f_klon[zi]
        y = (lat[fi] - self._f_lat0[zi]) * self._f_klat[zi]
        box = self._f_box[zi]
        dx = np.maximum(np.maximum(box[:, 0] - x, x - box[:, 2]), 0.0)
        dy = np.maximum(np.maximum(box[:, 1] - y, y - box[:, 3]), 0.0)
        return np.hypot(dx, dy)

    def _circle_signed(self, fi: IntArray, zi: IntArray, lat: FloatArray, lon: FloatArray) -> FloatArray:
        """Radius minus distance from the centre: positive inside. Flat-earth in the circle's frame."""
        dy = (lat[fi] - self._c_lat[zi]) * self._c_klat[zi]
        dx = (lon[fi] - self._c_lon[zi]) * self._c_klon[zi]
        return self._c_r[zi] - np.hypot(dx, dy)

    def _polygon_distance(self, fi: IntArray, zi: IntArray, lat: FloatArray, lon: FloatArray) -> FloatArray:
        """Metres from each fix to its zone's boundary, in the zone's metric frame.

        Exact for small polygons; for a big zone exact within ``exact_within_m``, +inf beyond.
        """
        x = (lon[fi] - self._f_lon0[zi]) * self._f_klon[zi]
        y = (lat[fi] - self._f_lat0[zi]) * self._f_klat[zi]
        out = np.empty(len(fi))
        small = np.flatnonzero(~self._is_big[zi])
        out[small] = self._segment_distance(x[small], y[small], zi[small])
        for z, helper in self._big.items():
            sel = np.flatnonzero(zi == z)
            if len(sel):
                out[sel] = helper.distance(shapely.points(x[sel], y[sel]), self.exact_within_m)
        return out

    def _segment_distance(self, x: FloatArray, y: FloatArray, zi: IntArray) -> FloatArray:
        """Point-to-boundary distance for small polygons in NumPy, every segment of each pair.

        Cheaper than building a shapely point per pair; pairs go in slices so that the
        pair × segment arrays stay around a million elements.
        """
        out = np.empty(len(x))
        counts = self._seg_count[zi]
        ends = np.cumsum(counts)
        start = 0
        while start < len(x):
            stop = max(int(np.searchsorted(ends, ends[start] - counts[start] + _SEGMENT_BATCH)), start + 1)
            out[start:stop] = self._segment_distance_slice(x[start:stop], y[start:stop], zi[start:stop])
            start = stop
        return out

    def _segment_distance_slice(self, x: FloatArray, y: FloatArray, zi: IntArray) -> FloatArray:
        counts = self._seg_count[zi]
        pair = np.repeat(np.arange(len(x)), counts)
        first = np.cumsum(counts) - counts
        seg = self._segments[np.repeat(self._seg_start[zi] - first, counts) + np.arange(len(pair))]
        px, py = x[pair], y[pair]
        dx, dy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
        length2 = np.maximum(dx * dx + dy * dy, 1e-12)
        t = np.clip(((px - seg[:, 0]) * dx + (py - seg[:, 1]) * dy) / length2, 0.0, 1.0)
        d = np.hypot(seg[:, 0] + t * dx - px, seg[:, 1] + t * dy - py)
        return np.minimum.reduceat(d, first) if len(d) else np.empty(0)


def _segments(boundary: shapely.Geometry) -> FloatArray:
    """A boundary's segments as rows (x1, y1, x2, y2)."""
    rows = []
    for ring in shapely.get_parts(boundary):
        coords = shapely.get_coordinates(ring)
        rows.append(np.column_stack([coords[:-1], coords[1:]]))
    return np.concatenate(rows)


def _boundary_pieces(boundary: shapely.Geometry) -> NDArray[np.object_]:
    """Cut a boundary into linestrings of at most _CHUNK_SEGMENTS segments."""
    pieces = []
    for ring in shapely.get_parts(boundary):
        coords = shapely.get_coordinates(ring)
        for k in range(0, len(coords) - 1, _CHUNK_SEGMENTS):
            pieces.append(shapely.linestrings(coords[k : k + _CHUNK_SEGMENTS + 1]))
    return np.array(pieces, dtype=object)
