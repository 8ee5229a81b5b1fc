"""Filter changes answered by the incident store, for selections from millions of stored incidents.

Holding every stored incident in memory costs time and RAM that grow with the store (reading a
million rows from SQLite takes seconds and gigabytes, see BENCHMARKS.md). :func:`select_incidents`
instead lets the store's SQL do the selective part of a :class:`~geodata.filters.FilterSpec`
(dates, types, actors, fatalities on indexed columns — ``store.read_incidents(spec)``; a box
around the chosen routes/sites and, on PostGIS, ``ST_DWithin`` for proximity), then
enriches only the rows that came back and applies :func:`~geodata.filters.apply_filters` for
what SQL cannot say exactly (associated-actor list membership, municipality from coordinates,
text, proximity). The result equals ``apply_filters`` over everything, enriched.

Selections too large to draw point by point (the map aggregates them, see
:func:`layers.incidents.choose_representation`) are read *lean*: only the columns the aggregate
view, the choropleth and the remaining filters need, in chunks, so that "all of a million
incidents" costs hundreds of megabytes instead of gigabytes. That part runs its own narrow
SELECT with the store's own WHERE clause (:func:`geodata.store.records.filter_sql`) on the
store's connection, on SQLite and PostGIS alike.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.enrich import assign_municipality, buffer_features, enrich_incidents
from geodata.filters import ACTOR_COLUMNS, TEXT_COLUMNS, FilterSpec, apply_filters
from geodata.incidents import empty_incidents, to_geodataframe
from geodata.schema import INT_COLUMNS
from geodata.settings import METRIC_CRS, WGS84
from geodata.store.records import READ_CHUNK_ROWS, filter_sql, incidents_frame_from_chunks, select_sql

#: Columns of a lean read for a clustered view (popups show date, type, place, fatalities, source).
LEAN_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "event_type", "sub_event_type", "fatalities", "latitude", "longitude",
    "location", "admin2", "source", "source_url",
)
#: Columns of a lean read for an aggregated view (hexagon and municipality counts only).
AGGREGATE_COLUMNS: tuple[str, ...] = ("event_type", "fatalities", "latitude", "longitude", "admin2")
#: Rows fetched per round trip in a lean read (bounds the driver's temporary Python objects).
FETCH_ROWS = 100_000


def select_incidents(
    store,
    spec: FilterSpec,
    *,
    municipalities: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    extra: gpd.GeoDataFrame | None = None,
    lean_above: int | None = None,
    aggregate_above: int | None = None,
    lean_columns: tuple[str, ...] = LEAN_COLUMNS,
    aggregate_columns: tuple[str, ...] = AGGREGATE_COLUMNS,
) -> gpd.GeoDataFrame:
    """The enriched incidents matching ``spec``, filtered in the store first.

    Args:
        store: an open store (:func:`geodata.store.open_store`), or ``None`` for none.
        spec: the selection.
        municipalities, routes, sites: context layers for enrichment and proximity.
        extra: incidents kept outside the store (the bundled ones), enriched or not; filtered in
            memory and placed first, as :func:`geodata.incidents.load_incidents` orders them.
        lean_above: when more stored incidents than this match (pass ``layers.incidents.MARKER_LIMIT``:
            the map clusters them, popups need no enrichment), read only :data:`LEAN_COLUMNS`
            (+ what the remaining filters need) and add ``municipality`` only.
        aggregate_above: likewise above this count (pass ``layers.incidents.CLUSTER_LIMIT``: the map
            aggregates them), read only :data:`AGGREGATE_COLUMNS`.
        lean_columns, aggregate_columns: the columns of those two reads, when a caller shows more
            than the map (the dashboard's charts need dates and actors); coordinates are always read.
    Returns:
        GeoDataFrame (EPSG:4326) with the incident and enrichment columns and ``origin`` (lean
        selections: the columns read, ``origin`` and ``municipality``).
    """
    parts: list[gpd.GeoDataFrame] = []
    if extra is not None and len(extra):
        if "municipality" not in extra:
            extra = enrich_incidents(extra, municipalities, routes, sites)
        parts.append(apply_filters(extra, spec, routes, sites))
    if store is not None:
        stored = None
        if lean_above is not None or aggregate_above is not None:
            n = count_matching(store, spec, routes=routes, sites=sites)
            levels = [(limit, cols) for limit, cols in ((aggregate_above, _with_coordinates(aggregate_columns)),
                                                (lean_above, _with_coordinates(lean_columns)))
                      if limit is not None and n > limit]
            for limit, cols in levels:
                stored = _lean_selection(store, spec, cols, municipalities, routes, sites)
                if len(stored) > limit:
                    break
                stored = None  # the SQL count over-selected (actors): read the next richer level
        if stored is None:
            rows = _read_full(store, spec, routes, sites)
            if len(rows):
                full = enrich_incidents(to_geodataframe(rows, rows["origin"]), municipalities, routes, sites)
                stored = apply_filters(full, spec, routes, sites)
        if stored is not None and len(stored):
            parts.append(stored)
    if not parts:
        return enrich_incidents(empty_incidents(), municipalities, routes, sites)
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    # A lean stored part keeps the result lean: the few bundled rows give up the other columns
    # rather than a million stored rows gaining empty ones.
    shared = [c for c in parts[-1].columns if c in parts[0].columns]
    return gpd.GeoDataFrame(pd.concat([p[shared] for p in parts], ignore_index=True),
                            geometry="geometry", crs=parts[0].crs)


def _with_coordinates(columns: tuple[str, ...]) -> tuple[str, ...]:
    """``columns`` plus latitude/longitude (every lean read builds points from them)."""
    return tuple(columns) + tuple(c for c in ("latitude", "longitude") if c not in columns)


def residual_spec(spec: FilterSpec) -> FilterSpec:
    """The part of ``spec`` the store's SQL does *not* decide exactly, to apply in pandas afterwards.

    Dates, event types, sub-event types and minimum fatalities are exact in SQL; actors are a
    superset there (LIKE on associated-actor lists); text, municipality and proximity are not in SQL.
    """
    return spec.with_(start=None, end=None, event_types=(), sub_event_types=(), min_fatalities=0)


def _lean_selection(store, spec: FilterSpec, columns, municipalities, routes, sites) -> gpd.GeoDataFrame:
    """Lean read + municipality (+ distances only for a proximity filter) + the remaining filters."""
    rows = read_lean(store, spec, columns, routes=routes, sites=sites)
    lean = gpd.GeoDataFrame(rows, geometry=gpd.points_from_xy(rows["longitude"], rows["latitude"]), crs=WGS84)
    # Municipality only: nearest route/site feed popups, and lean (clustered/aggregated) views have none.
    lean = lean.join(assign_municipality(lean, municipalities))
    if spec.uses_proximity:
        lean = enrich_incidents(lean, municipalities, routes, sites)
    return apply_filters(lean, residual_spec(spec), routes, sites)


def _sql_dialect(store) -> tuple[str, object]:
    """Parameter marker and date conversion of the store's driver (as its read_incidents uses)."""
    if getattr(store, "dialect", "sqlite") == "sqlite":
        return "?", lambda d: d.isoformat()
    return "%s", lambda d: d


def proximity_sql(store, spec: FilterSpec, routes: gpd.GeoDataFrame | None,
                  sites: gpd.GeoDataFrame | None) -> tuple[str, list]:
    """A WHERE condition keeping (a superset of) the incidents near the chosen routes and sites.

    The box around the features buffered by ``near_km`` (in the metric CRS) narrows the rows on
    SQLite; on PostGIS the box uses the GiST index (``&&``) and ``ST_DWithin`` in UTM 34N keeps
    only what lies within the radius (plus 10 m, so that floating-point differences never drop a
    row). :func:`geodata.filters.apply_filters` still decides exactly afterwards.

    Returns:
        ``(condition, params)``, or ``("", [])`` when ``spec`` has no proximity restriction or
        none of the named features exists (then nothing matches in pandas either).
    """
    if not spec.uses_proximity:
        return "", []
    chosen = [layer.loc[layer[col].isin(names), ["geometry"]]
              for layer, names, col in ((routes, spec.near_routes, "name"), (sites, spec.near_sites, "name_en"))
              if names and layer is not None]
    chosen = [c for c in chosen if len(c)]
    if not chosen:
        return "", []
    features = gpd.GeoDataFrame(pd.concat(chosen, ignore_index=True), geometry="geometry", crs=chosen[0].crs)
    margin_km = spec.near_km + 0.01
    minx, miny, maxx, maxy = (float(v) for v in buffer_features(features, margin_km).total_bounds)
    if getattr(store, "dialect", "sqlite") == "sqlite":
        return "longitude BETWEEN ? AND ? AND latitude BETWEEN ? AND ?", [minx, maxx, miny, maxy]
    srid = int(METRIC_CRS.split(":")[1])
    metric = features.to_crs(METRIC_CRS).union_all()
    return (f"geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
            f"ST_DWithin(ST_Transform(geom, {srid}), ST_GeomFromText(%s, {srid}), %s)",
            [minx, miny, maxx, maxy, metric.wkt, margin_km * 1000.0])


def _where(store, spec: FilterSpec, routes, sites) -> tuple[str, list]:
    """The store's own WHERE clause for ``spec`` plus the proximity condition."""
    mark, date_param = _sql_dialect(store)
    where, params = filter_sql(spec, mark, date_param)
    near, near_params = proximity_sql(store, spec, routes, sites)
    if near:
        where = (where + " AND " if where else " WHERE ") + near
        params = [*params, *near_params]
    return where, params


def _read_full(store, spec: FilterSpec, routes, sites) -> pd.DataFrame:
    """Every column of the matching incidents: the store's own read, or the same SELECT with the
    proximity condition added when ``spec`` has one."""
    if not spec.uses_proximity:
        return store.read_incidents(spec)
    where, params = _where(store, spec, routes, sites)
    store.last_query = select_sql(where)
    return incidents_frame_from_chunks(_fetch(store, store.last_query, params, READ_CHUNK_ROWS))


def _fetch(store, sql: str, params: list, chunk: int | None = None):
    """Run a read-only query on the store's connection; yield lists of row tuples."""
    if getattr(store, "dialect", "sqlite") == "sqlite":
        cur = store.conn.execute(sql, params)
        while rows := (cur.fetchmany(chunk) if chunk else cur.fetchall()):
            yield rows
            if not chunk:
                break
        return
    try:
        with store.conn.cursor() as cur:
            cur.execute(sql, params)
            while rows := (cur.fetchmany(chunk) if chunk else cur.fetchall()):
                yield rows
                if not chunk:
                    break
    finally:
        store.conn.rollback()  # end the read transaction, as the store's own reads do


def count_matching(store, spec: FilterSpec, *, routes: gpd.GeoDataFrame | None = None,
                   sites: gpd.GeoDataFrame | None = None) -> int:
    """How many stored incidents the store-side part of ``spec`` selects (``SELECT COUNT(*)``).

    Actor matches are a superset there (associated-actor lists are matched with LIKE), so this
    can be slightly above the final count; it decides how to read, not what to show.
    """
    where, params = _where(store, spec, routes, sites)
    (rows,) = list(_fetch(store, f"SELECT COUNT(*) FROM incidents{where}", params))  # ends the read
    return int(rows[0][0])


def read_lean(store, spec: FilterSpec, columns: tuple[str, ...] = LEAN_COLUMNS, *,
              routes: gpd.GeoDataFrame | None = None, sites: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """Stored incidents matching the store-side part of ``spec``, some columns only, read in chunks.

    Args:
        store: an open store.
        spec: the selection (its store-side part becomes the WHERE clause).
        columns: incident columns to read (:data:`LEAN_COLUMNS` or :data:`AGGREGATE_COLUMNS`).
        routes, sites: layers named by a proximity filter (see :func:`proximity_sql`).
    Returns:
        DataFrame with ``columns`` plus the columns the remaining filters need (actors, notes) and
        ``origin`` = "upload:<id>"; ``event_date`` datetime64, numbers typed, text as pandas'
        Arrow-backed ``str``.
    """
    cols = list(columns)
    if spec.actors:
        cols += [c for c in ACTOR_COLUMNS if c not in cols]
    if spec.text:
        cols += [c for c in TEXT_COLUMNS if c not in cols]
    where, params = _where(store, spec, routes, sites)
    sql = f"SELECT {', '.join(cols)}, upload_id FROM incidents{where}"
    store.last_query = sql
    names = [*cols, "upload_id"]
    chunks: dict[str, list] = {c: [] for c in names}
    for rows in _fetch(store, sql, params, FETCH_ROWS):
        for name, values in zip(names, zip(*rows)):
            # Convert each chunk at once so the driver's row tuples can be freed chunk by chunk.
            if name in ("latitude", "longitude"):
                chunks[name].append(np.asarray(values, dtype=float))
            elif name in INT_COLUMNS or name == "upload_id":
                chunks[name].append(pd.array(values, dtype="Int64"))
            else:
                chunks[name].append(pd.array([str(v) for v in values], dtype="str")
                                    if name == "event_date" else pd.array(values, dtype="str"))
    if not chunks["latitude"]:
        df = pd.DataFrame({c: pd.Series(dtype=float if c in ("latitude", "longitude") else object) for c in names})
    else:
        df = pd.DataFrame({c: (np.concatenate(v) if c in ("latitude", "longitude")
                               else pd.concat([pd.Series(x) for x in v], ignore_index=True)) for c, v in chunks.items()})
    if "event_date" in df:
        df["event_date"] = pd.to_datetime(df["event_date"], format="%Y-%m-%d")
    df["origin"] = "upload:" + df["upload_id"].astype(str)
    return df.drop(columns="upload_id")
