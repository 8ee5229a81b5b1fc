"""Incident aggregates per municipality and per H3 hexagon, as pure functions over (Geo)DataFrames.

These are what the dashboard's choropleth and the map's aggregate view read when a selection is
too large to draw point by point. Each aggregate is computed in two steps so the same code runs
in memory and on a Dask cluster (:mod:`geodata.query.scaleout`):

1. a *partial* step over any subset of incidents (``*_counts``) that yields summable columns —
   ``incidents``, ``fatalities`` and one count per ACLED event type;
2. :func:`combine_counts`, which sums partials by key and derives ``dominant_type``.

Summing the partials of the parts equals the partial of the whole, so the in-memory result
(:func:`aggregate_by_hexagon`, :func:`aggregate_by_municipality`) and the distributed one agree.
Hexagons are Uber's H3 cells (``h3`` package); resolution 7 cells average about 5.2 km²,
resolution 8 about 0.74 km².
"""

from __future__ import annotations

import threading

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import shapely

from geodata.model.schema import EVENT_TYPES

#: The count columns every aggregate carries, in this order.
TYPE_COLUMNS: tuple[str, ...] = tuple(EVENT_TYPES)
SUM_COLUMNS: tuple[str, ...] = ("incidents", "fatalities", *TYPE_COLUMNS)
#: Coordinates are keyed at 1e-6° (about 0.1 m) when looking up distinct points.
_COORD_SCALE = 1_000_000


def _latlon(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude arrays, from the geometry if there is one, else the columns."""
    if isinstance(incidents, gpd.GeoDataFrame) and incidents.geometry.name in incidents:
        geom = np.asarray(incidents.geometry.array)
        xy = shapely.get_coordinates(geom)  # one vectorised call (``.x``/``.y`` are two slower ones)
        if len(xy) == len(geom):  # one coordinate per row: points (anything else: per geometry)
            return xy[:, 1].astype(float), xy[:, 0].astype(float)
        ser = incidents.geometry
        return ser.y.to_numpy(dtype=float), ser.x.to_numpy(dtype=float)
    return (incidents["latitude"].to_numpy(dtype=float), incidents["longitude"].to_numpy(dtype=float))


class _CellCache:
    """H3 cells already computed, per resolution: sorted coordinate keys and their cells.

    Converting a point costs about a microsecond in ``h3`` (one call per point); a dashboard asks
    for the same points again and again (the selection after a filter change, a playback period,
    the store after a 1,000-row upload), so each distinct coordinate is converted once per process
    and looked up afterwards with one vectorised ``searchsorted``. Bounded: past
    :data:`CELL_CACHE_POINTS` keys per resolution the cache starts again from the current request.
    """

    def __init__(self) -> None:
        self._keys: dict[int, np.ndarray] = {}
        self._cells: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()

    def lookup(self, keys: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
        """Cells of ``keys`` (distinct, sorted) where known, and a mask of those found."""
        with self._lock:
            known, cells = self._keys.get(resolution), self._cells.get(resolution)
        if known is None or cells is None or not len(known):
            return np.zeros(len(keys), dtype=np.int64), np.zeros(len(keys), dtype=bool)
        pos = np.minimum(np.searchsorted(known, keys), len(known) - 1)
        found = known[pos] == keys
        return np.where(found, cells[pos], 0), found

    def add(self, keys: np.ndarray, cells: np.ndarray, resolution: int) -> None:
        """Remember ``cells`` of ``keys`` (distinct, not yet known)."""
        with self._lock:
            known = self._keys.get(resolution, np.zeros(0, dtype=np.int64))
            old = self._cells.get(resolution, np.zeros(0, dtype=np.int64))
            if len(known) + len(keys) > CELL_CACHE_POINTS:
                known, old = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
            merged = np.concatenate([known, keys])
            order = np.argsort(merged, kind="stable")
            self._keys[resolution] = merged[order]
            self._cells[resolution] = np.concatenate([old, cells])[order]


#: Distinct coordinates whose H3 cell is kept per resolution (16 bytes each).
CELL_CACHE_POINTS = 4_000_000
_cell_cache = _CellCache()


def hex_cells(lat: np.ndarray, lon: np.ndarray, resolution: int) -> np.ndarray:
    """H3 cell (as int64) of each point.

    ``h3`` converts one point per call, so each *distinct* coordinate pair is converted once, and
    remembered for later calls in this process (:class:`_CellCache`): incident coordinates repeat
    heavily (ACLED geocodes to named places) and the same selection is aggregated again and again.

    Args:
        lat, lon: degrees (EPSG:4326), same length.
        resolution: H3 resolution 0–15.
    Returns:
        int64 array of H3 indexes, same length as ``lat``.
    Raises:
        ValueError: for an invalid resolution or non-finite coordinates.
    """
    lat = np.asarray(lat, dtype=float)
    lon = np.asarray(lon, dtype=float)
    if not 0 <= int(resolution) <= 15:
        raise ValueError("H3 resolution must be between 0 and 15")
    if lat.size == 0:
        return np.zeros(0, dtype=np.int64)
    if not (np.isfinite(lat).all() and np.isfinite(lon).all()):
        raise ValueError("coordinates must be finite numbers")
    # One int64 key per pair (shifted to be non-negative): lat+90 < 1.8e8 µ°, lon+180 < 3.6e8 µ°.
    # The cell is computed from the key's coordinate (rounded to 1e-6°, about 0.1 m), so a cached
    # answer is exactly what a fresh computation gives.
    ilat = np.round((lat + 90.0) * _COORD_SCALE).astype(np.int64)
    ilon = np.round((lon + 180.0) * _COORD_SCALE).astype(np.int64)
    # Sorted: the cache's searchsorted then walks its keys in order (unsorted queries cost 10x more).
    codes, uniques = pd.factorize(ilat * 1_000_000_000 + ilon, sort=True)
    uniques = np.asarray(uniques, dtype=np.int64)
    cells, found = _cell_cache.lookup(uniques, int(resolution))
    missing = uniques[~found]
    if len(missing):
        mlat = (missing // 1_000_000_000) / _COORD_SCALE - 90.0
        mlon = (missing % 1_000_000_000) / _COORD_SCALE - 180.0
        to_cell = h3.api.basic_int.latlng_to_cell
        new = np.fromiter((to_cell(a, b, resolution) for a, b in zip(mlat.tolist(), mlon.tolist())),
                          dtype=np.int64, count=len(missing))
        cells[~found] = new
        _cell_cache.add(missing, new, int(resolution))
    return cells[codes]


def empty_counts() -> pd.DataFrame:
    """A partial result with no rows (index ``key``, :data:`SUM_COLUMNS` as int64)."""
    return pd.DataFrame({c: pd.Series(dtype=np.int64) for c in SUM_COLUMNS},
                        index=pd.Index([], dtype=object, name="key"))


def _type_counts(keys: pd.Series, incidents: pd.DataFrame) -> pd.DataFrame:
    """Summable counts per key (sorted): incidents, fatalities and one column per event type.

    Counted with ``numpy.bincount`` over factorised keys and types: a million incidents take a
    fraction of a second (a group-by over one indicator column per type took seconds).
    """
    fat = pd.to_numeric(incidents["fatalities"], errors="coerce").fillna(0).to_numpy(dtype=np.int64)
    key_code, key_values = pd.factorize(keys.to_numpy(), sort=True)
    raw_code, type_values = pd.factorize(incidents["event_type"])  # in Arrow: no Python string per row
    # Each distinct type -> its column (len(TYPE_COLUMNS) for a type outside ACLED's list: not counted).
    position = {t: i for i, t in enumerate(TYPE_COLUMNS)}
    to_column = np.array([position.get(t, len(TYPE_COLUMNS)) for t in type_values] + [len(TYPE_COLUMNS)],
                         dtype=np.int64)
    type_code = to_column[raw_code]  # code -1 (missing type) -> the last entry: not counted
    keep = key_code >= 0  # a missing key is not counted (as a group-by drops it)
    if not keep.all():
        key_code, type_code, fat = key_code[keep], type_code[keep], fat[keep]
    n_keys, n_types = len(key_values), len(TYPE_COLUMNS) + 1
    out = pd.DataFrame(
        np.bincount(key_code * n_types + type_code, minlength=n_keys * n_types).reshape(n_keys, n_types)[:, :-1],
        columns=list(TYPE_COLUMNS), index=pd.Index(key_values, name="key"))
    out.insert(0, "fatalities", np.bincount(key_code, weights=fat, minlength=n_keys).astype(np.int64))
    out.insert(0, "incidents", np.bincount(key_code, minlength=n_keys).astype(np.int64))
    return out[list(SUM_COLUMNS)]


def combine_counts(parts: list[pd.DataFrame] | pd.DataFrame, key: str) -> pd.DataFrame:
    """Sum partial counts by key and add ``dominant_type`` (the most frequent event type).

    Args:
        parts: partial results of :func:`hexagon_counts` / :func:`municipality_counts`
            (indexed by key), or one frame already concatenated.
        key: name given to the index of the result (``"h3"`` or ``"municipality"``).
    Returns:
        DataFrame indexed by ``key`` (sorted) with :data:`SUM_COLUMNS` (int64) and
        ``dominant_type`` (ties go to the type listed first in ACLED's order; "" for no incidents).
    """
    frame = pd.concat(parts) if isinstance(parts, list) else parts
    if frame.empty:
        out = empty_counts()
    else:
        out = frame.groupby(level=0, sort=True)[list(SUM_COLUMNS)].sum().astype(np.int64)
    counts = out[list(TYPE_COLUMNS)].to_numpy()
    dominant = np.array(TYPE_COLUMNS, dtype=object)[counts.argmax(axis=1)] if len(out) else np.array([], dtype=object)
    out["dominant_type"] = np.where(out["incidents"].to_numpy() > 0, dominant, "")
    out.index = pd.Index(out.index.astype(object), name=key)  # same dtype whichever engine summed
    return out


def hexagon_counts(incidents: pd.DataFrame, resolution: int) -> pd.DataFrame:
    """Partial step of :func:`aggregate_by_hexagon` (summable; indexed by H3 cell as a string).

    Args:
        incidents: validated incidents (point geometry or latitude/longitude; ``event_type``,
            ``fatalities``).
        resolution: H3 resolution.
    Returns:
        DataFrame indexed by H3 cell id string with :data:`SUM_COLUMNS`.
    """
    if len(incidents) == 0:
        return empty_counts()
    lat, lon = _latlon(incidents)
    cells = hex_cells(lat, lon, resolution)
    counts = _type_counts(pd.Series(cells), incidents)
    # Cell ids as H3's hex strings (what h3 and other tools read), converted per distinct cell.
    counts.index = pd.Index([h3.int_to_str(int(c)) for c in counts.index], dtype=object, name="key")
    return counts


def aggregate_by_hexagon(incidents: pd.DataFrame, resolution: int) -> pd.DataFrame:
    """Incidents, fatalities and event-type counts per H3 hexagon.

    Args:
        incidents: validated incidents (GeoDataFrame in EPSG:4326, or latitude/longitude columns).
        resolution: H3 resolution (7 ≈ 5.2 km² cells, 8 ≈ 0.74 km²).
    Returns:
        DataFrame indexed by ``h3`` (cell id string, sorted) with :data:`SUM_COLUMNS` and
        ``dominant_type``; only cells with incidents.
    """
    return combine_counts(hexagon_counts(incidents, resolution), "h3")


def locate_municipality(incidents: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame) -> pd.Series:
    """The municipality whose polygon contains each incident ("" outside all of them).

    Where simplified boundaries overlap, the polygon listed first in ``municipalities`` wins, so
    the answer does not depend on how the incidents are partitioned.

    Args:
        incidents: point layer (EPSG:4326).
        municipalities: boundary layer with ``municipality`` (EPSG:4326).
    Returns:
        Series of names indexed like ``incidents``.
    """
    if len(incidents) == 0:
        return pd.Series([], index=incidents.index, dtype=object)
    polys = municipalities[["municipality", "geometry"]].reset_index(drop=True)
    pts = gpd.GeoDataFrame(geometry=incidents.geometry.to_numpy(), crs=incidents.crs)
    if polys.crs is not None and pts.crs is not None and polys.crs != pts.crs:
        polys = polys.to_crs(pts.crs)
    hit_pt, hit_poly = polys.sindex.query(pts.geometry, predicate="within")
    names = np.full(len(pts), "", dtype=object)
    if len(hit_pt):
        order = np.lexsort((hit_poly, hit_pt))
        hit_pt, hit_poly = hit_pt[order], hit_poly[order]
        first = np.r_[True, hit_pt[1:] != hit_pt[:-1]]
        names[hit_pt[first]] = polys["municipality"].to_numpy()[hit_poly[first]]
    return pd.Series(names, index=incidents.index, dtype=object)


def municipality_counts(incidents: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Partial step of :func:`aggregate_by_municipality` (summable; indexed by name, "" = outside)."""
    if len(incidents) == 0:
        return empty_counts()
    counts = _type_counts(locate_municipality(incidents, municipalities), incidents)
    counts.index = counts.index.astype(object)
    return counts


def aggregate_by_municipality(incidents: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Incidents, fatalities and event-type counts per municipality, located by coordinates.

    Args:
        incidents: point layer (EPSG:4326) with ``event_type`` and ``fatalities``.
        municipalities: boundary layer with ``municipality``.
    Returns:
        DataFrame indexed by ``municipality`` with one row per boundary polygon name (zeros where
        none) in the boundary layer's order, plus a row ``""`` only if some incidents lie outside
        every polygon; :data:`SUM_COLUMNS` and ``dominant_type``.
    """
    return finish_municipalities(combine_counts(municipality_counts(incidents, municipalities), "municipality"),
                                 municipalities)


def finish_municipalities(combined: pd.DataFrame, municipalities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Order combined municipality counts like the boundary layer, with zero rows where none."""
    names = list(dict.fromkeys(municipalities["municipality"].tolist()))
    if "" in combined.index and combined.loc["", "incidents"] > 0:
        names.append("")
    out = combined.reindex(names)
    out[list(SUM_COLUMNS)] = out[list(SUM_COLUMNS)].fillna(0).astype(np.int64)
    out["dominant_type"] = out["dominant_type"].fillna("").astype(object)
    out.index.name = "municipality"
    return out
