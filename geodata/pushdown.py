"""Filter changes answered by the incident store, for selections from millions of stored incidents.

Holding every stored incident in memory costs time and RAM that grow with the store (reading a
million rows from SQLite takes seconds and gigabytes, see BENCHMARKS.md). :func:`select_incidents`
instead lets the store's SQL do the selective part of a :class:`~geodata.filters.FilterSpec`
(dates, types, actors, fatalities on indexed columns — ``store.read_incidents(spec)``), then
enriches only the rows that came back and applies :func:`~geodata.filters.apply_filters` for
what SQL cannot say exactly (associated-actor list membership, municipality from coordinates,
text, proximity). The result equals ``apply_filters`` over everything, enriched.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from geodata.enrich import enrich_incidents
from geodata.filters import FilterSpec, apply_filters
from geodata.incidents import to_geodataframe


def select_incidents(
    store,
    spec: FilterSpec,
    *,
    municipalities: gpd.GeoDataFrame | None = None,
    routes: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
    extra: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """The enriched incidents matching ``spec``, filtered in the store first.

    Args:
        store: an open store (:func:`geodata.store.open_store`), or ``None`` for none.
        spec: the selection.
        municipalities, routes, sites: context layers for enrichment and proximity.
        extra: incidents kept outside the store (the bundled ones), enriched or not; filtered in
            memory and placed first, as :func:`geodata.incidents.load_incidents` orders them.
    Returns:
        GeoDataFrame (EPSG:4326) with the incident and enrichment columns and ``origin``.
    """
    parts: list[gpd.GeoDataFrame] = []
    if extra is not None and len(extra):
        if "municipality" not in extra:
            extra = enrich_incidents(extra, municipalities, routes, sites)
        parts.append(apply_filters(extra, spec, routes, sites))
    if store is not None:
        rows = store.read_incidents(spec)
        if len(rows):
            stored = enrich_incidents(to_geodataframe(rows, rows["origin"]), municipalities, routes, sites)
            parts.append(apply_filters(stored, spec, routes, sites))
    if not parts:
        from geodata.incidents import empty_incidents

        return enrich_incidents(empty_incidents(), municipalities, routes, sites)
    if len(parts) == 1:
        return parts[0].reset_index(drop=True)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)
