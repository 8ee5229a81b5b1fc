"""Selections answered by the incident store: SQL first, pandas only for what SQL cannot say exactly.

:func:`select_rows` is the one read path of incidents (the service's ``select`` calls it). The
store's SQL decides dates, event and sub-event types, minimum fatalities and municipality (a
stored, indexed column computed once at ingest) exactly, and narrows actors (associated-actor
lists matched with LIKE) and proximity (a box; ``ST_DWithin`` on PostGIS) to a superset;
:func:`geodata.model.filters.apply_filters` then decides the rest (exact actor-list membership, text,
exact distance) over only the rows that came back.

Distances to the nearest route and site are not stored (they depend on the routes file in use):
they are computed for the selected rows when asked, and cached per routes/sites version and
coordinate, so a filter change computes them only for incidents not seen before.

No SQL here: the store builds every statement (:mod:`geodata.store`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.geo.enrich import buffer_features, nearest
from geodata.model.filters import ACTOR_COLUMNS, TEXT_COLUMNS, FilterSpec, apply_filters
from geodata.settings import METRIC_CRS, WGS84
from geodata.store.records import READABLE_COLUMNS, SQL_DECIDES, Proximity

if TYPE_CHECKING:  # the store package imports the back-ends; only the interface is needed here
    from geodata.store.protocol import IncidentReads

#: Columns of a lean read for a clustered view (popups show date, type, place, fatalities, source).
LEAN_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "event_type", "sub_event_type", "fatalities", "latitude", "longitude",
    "location", "admin2", "source", "source_url",
)
#: Columns of a lean read for an aggregated view (hexagon and municipality counts only).
AGGREGATE_COLUMNS: tuple[str, ...] = ("event_type", "fatalities", "latitude", "longitude", "admin2")
#: Distance columns added by :func:`add_distances`.
DISTANCE_COLUMNS: tuple[str, ...] = ("nearest_route", "dist_route_m", "nearest_site", "dist_site_m")
#: With ``distances=None``, distances are added to full selections up to this size (the map's
#: marker limit: popups show them; clustered and aggregated views do not).
DISTANCE_ROWS = 2_000
#: Coordinates whose distances are kept per routes/sites version.
DISTANCE_CACHE_POINTS = 200_000

_distance_lock = threading.Lock()
_distance_cache: "OrderedDict[str, dict[tuple[float, float], tuple[str, float, str, float]]]" = OrderedDict()


class Layers(Protocol):
    """The context layers a selection needs: :class:`geodata.service.incidents.Context` (or any object with
    ``routes`` and ``sites``; an optional ``routes_version`` keys the distance cache)."""

    @property
    def routes(self) -> gpd.GeoDataFrame | None:
        """Route lines (``name``), ``None`` when unusable."""
        ...

    @property
    def sites(self) -> gpd.GeoDataFrame | None:
        """Site points (``name_en``), ``None`` when unusable."""
        ...


def residual_spec(spec: FilterSpec) -> FilterSpec:
    """The part of ``spec`` the store's SQL does *not* decide exactly, to apply in pandas afterwards.

    Derived from :data:`geodata.store.records.SQL_DECIDES` (the one description of what the SQL
    decides): the fields it decides exactly are cleared; actors (a superset in SQL), text and
    proximity stay.

    Args:
        spec: the whole selection.
    Returns:
        ``spec`` without the fields SQL decided exactly.
    """
    return spec.with_(**{name: _UNSET[name] for name, how in SQL_DECIDES.items() if how == "exact"})


#: Each FilterSpec field's value when it selects everything (its default).
_UNSET = {f.name: f.default for f in dataclasses.fields(FilterSpec)}


def proximity_for(spec: FilterSpec, routes: gpd.GeoDataFrame | None,
                  sites: gpd.GeoDataFrame | None) -> Proximity | None:
    """The store-side proximity restriction of ``spec``: a box around the chosen features buffered
    by ``near_km`` (in the metric CRS) and their union in UTM 34N, with 10 m to spare.

    Args:
        spec: the selection (``near_routes``, ``near_sites``, ``near_km``).
        routes, sites: the context layers (``None`` when unusable).
    Returns:
        ``None`` when ``spec`` has no proximity restriction or none of the named features exists.
    """
    if not spec.uses_proximity:
        return None
    chosen = [layer.loc[layer[col].isin(names), ["geometry"]]
              for layer, names, col in ((routes, spec.near_routes, "name"), (sites, spec.near_sites, "name_en"))
              if names and layer is not None]
    chosen = [c for c in chosen if len(c)]
    if not chosen:
        return None
    features = gpd.GeoDataFrame(pd.concat(chosen, ignore_index=True), geometry="geometry", crs=chosen[0].crs)
    margin_km = spec.near_km + 0.01
    minx, miny, maxx, maxy = (float(v) for v in buffer_features(features, margin_km).total_bounds)
    metric = features.to_crs(METRIC_CRS).union_all()
    return Proximity(bbox=(minx, miny, maxx, maxy), metric_wkt=metric.wkt, radius_m=margin_km * 1000.0)


def read_columns(spec: FilterSpec, columns: Sequence[str] | None) -> tuple[str, ...] | None:
    """The columns to read for ``columns`` (``None`` = all): plus coordinates, municipality and what
    the residual filters need (actors, text).

    Args:
        spec: the selection (its actor and text filters need their columns).
        columns: the columns the caller wants, or ``None``.
    Returns:
        The readable columns to ask the store for, or ``None`` for all.
    """
    if columns is None:
        return None
    cols = [c for c in columns if c in READABLE_COLUMNS]
    cols += [c for c in ("latitude", "longitude", "municipality") if c not in cols]
    if spec.actors:
        cols += [c for c in ACTOR_COLUMNS if c not in cols]
    if spec.text:
        cols += [c for c in TEXT_COLUMNS if c not in cols]
    return tuple(cols)


def select_rows(store: IncidentReads, spec: FilterSpec, columns: Sequence[str] | None, context: Layers, *,
                distances: bool | None = None) -> gpd.GeoDataFrame:
    """The incidents matching ``spec``: the store's SQL first, then the residual filters.

    Args:
        store: an open :class:`geodata.store.IncidentStore` (or its :class:`~geodata.store.columnar.Reads`).
        spec: the selection.
        columns: incident columns to read (``None`` = all); see :func:`read_columns`.
        context: :class:`geodata.service.incidents.Context` (routes and sites for proximity and distances;
            see :class:`Layers`).
        distances: add :data:`DISTANCE_COLUMNS`; ``None`` = for full reads of at most
            :data:`DISTANCE_ROWS` incidents.
    Returns:
        GeoDataFrame (EPSG:4326), index 0..n-1, with the columns read, ``origin`` and geometry.
    Raises:
        StoreError: if the store cannot be read.
    """
    return finish_rows(read_rows(store, spec, columns, context), spec, columns, context, distances=distances)


def read_rows(store: IncidentReads, spec: FilterSpec, columns: Sequence[str] | None, context: Layers, *,
              limit: int | None = None) -> pd.DataFrame:
    """The store's part of :func:`select_rows`: what its SQL selects (a superset of ``spec``).

    Args:
        store, spec, columns, context: as :func:`select_rows`.
        limit: read at most this many rows (``None``: all).
    Returns:
        The rows as :meth:`geodata.store.IncidentStore.read` returns them.
    Raises:
        StoreError: if the store cannot be read.
    """
    near = proximity_for(spec, context.routes, context.sites)
    cols = read_columns(spec, columns)
    if spec.uses_proximity and near is None:  # none of the named features exists: nothing matches
        return store.read(FilterSpec(start=_never()), cols, limit=limit)
    return store.read(spec, cols, near, limit=limit)


def finish_rows(rows: pd.DataFrame, spec: FilterSpec, columns: Sequence[str] | None, context: Layers, *,
                distances: bool | None = None) -> gpd.GeoDataFrame:
    """The pandas part of :func:`select_rows`: points, the residual filters and distances.

    Args:
        rows: what :func:`read_rows` returned for the same ``spec`` and ``columns``.
        spec, columns, context, distances: as :func:`select_rows`.
    Returns:
        As :func:`select_rows`.
    """
    routes, sites = context.routes, context.sites
    gdf = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["longitude"].astype(float),
                                                             rows["latitude"].astype(float)), crs=WGS84)
    rest = residual_spec(spec)
    if rest != FilterSpec(near_km=rest.near_km):
        gdf = apply_filters(gdf, rest, routes, sites)
    gdf = gdf.reset_index(drop=True)
    if distances or (distances is None and columns is None and len(gdf) <= DISTANCE_ROWS):
        gdf = add_distances(gdf, routes, sites, getattr(context, "routes_version", ""))
    return gdf


def _never() -> dt.date:
    """A start date no incident has (a selection of nothing)."""
    return dt.date.max


def add_distances(incidents: gpd.GeoDataFrame, routes: gpd.GeoDataFrame | None, sites: gpd.GeoDataFrame | None,
                  version: str = "") -> gpd.GeoDataFrame:
    """Add the nearest route and site and their distances (metres in UTM 34N, rounded) to ``incidents``.

    Results are cached per ``version`` (of the routes and sites files) and coordinate: only points
    not seen before are computed.

    Args:
        incidents: points in EPSG:4326 with ``latitude``/``longitude`` (not modified).
        routes, sites: the context layers (``None`` when unusable).
        version: token of the routes/sites files the cache is kept for.
    Returns:
        A copy of ``incidents`` with :data:`DISTANCE_COLUMNS`.
    """
    out = incidents.copy()
    if out.empty:
        for c in DISTANCE_COLUMNS:
            out[c] = pd.Series(dtype=float if c.startswith("dist") else object)
        return out
    keys = list(zip(out["latitude"].astype(float).round(7), out["longitude"].astype(float).round(7)))
    # Dashboard sessions are threads sharing this cache: one clearing it while another reads would
    # lose the other's points (KeyError), so filling and reading happen under one lock.
    with _distance_lock:
        cache = _distance_cache.setdefault(version, {})
        _distance_cache.move_to_end(version)
        while len(_distance_cache) > 4:
            _distance_cache.popitem(last=False)
        missing = list(dict.fromkeys(k for k in keys if k not in cache))
        if missing:
            pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([k[1] for k in missing], [k[0] for k in missing]),
                                   crs=WGS84)
            r_name, r_dist = nearest(pts, routes, "name")
            s_name, s_dist = nearest(pts, sites, "name_en")
            if len(cache) + len(missing) > DISTANCE_CACHE_POINTS:
                cache.clear()
            for k, rn, rd, sn, sd in zip(missing, r_name, r_dist.round(), s_name, s_dist.round()):
                cache[k] = (rn, float(rd), sn, float(sd))
        values = [cache[k] for k in keys]
    out["nearest_route"] = np.array([v[0] for v in values], dtype=object)
    out["dist_route_m"] = np.array([v[1] for v in values], dtype=float)
    out["nearest_site"] = np.array([v[2] for v in values], dtype=object)
    out["dist_site_m"] = np.array([v[3] for v in values], dtype=float)
    return out
