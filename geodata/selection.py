"""What an export shows: the filtered incidents, the context layers and the map options.

:class:`Selection` is the one object the dashboard's export panel, ``python -m dashboard
export-html|export-png`` and ``python -m geodata export`` hand to the exporters
(:mod:`layers.export_html`, :mod:`layers.static_png`, :mod:`geodata.export`). It is a plain
dataclass so building one needs no Streamlit; :func:`load_selection` builds one from the
configured data for the command line.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd

from geodata.filters import FilterSpec, apply_filters


@dataclass(frozen=True, eq=False)
class Selection:
    """The current view, as exporters need it.

    Attributes:
        incidents: filtered, enriched incident layer (EPSG:4326).
        spec: the filters that produced ``incidents`` (for titles and file names).
        municipalities, routes, sites: context layers, ``None`` when not available.
        tiles: basemap tile URL template, ``"osm"``, or ``None`` for no tiles.
        metric: choropleth metric, ``"incidents"`` or ``"fatalities"``.
        tiles_attribution: attribution for a custom tile URL.
        notes: extra lines for the export's "about" box (e.g. "boundaries not installed").
    """

    incidents: gpd.GeoDataFrame
    spec: FilterSpec = field(default_factory=FilterSpec)
    municipalities: gpd.GeoDataFrame | None = None
    routes: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    tiles: str | None = None
    metric: str = "incidents"
    tiles_attribution: str | None = None
    notes: tuple[str, ...] = ()


def load_selection(settings, spec: FilterSpec, *, metric: str = "incidents", tiles: str | None = None,
                   use_boundaries: bool = True) -> Selection:
    """Load the configured layers (:func:`geodata.layers_data.load_bundle`) and apply ``spec``.

    Args:
        settings: :class:`geodata.settings.Settings`.
        spec: the filters.
        metric: choropleth metric.
        tiles: tile URL override (``""`` for none); ``None`` uses ``settings.tiles``.
        use_boundaries: include the installed municipal boundaries (when present).
    Returns:
        A :class:`Selection`; when boundaries are not installed ``municipalities`` is ``None`` and
        ``notes`` says how to get them.
    Raises:
        geodata.boundaries.BoundaryError: if ``CONFLICTMAP_BOUNDARIES`` names a missing/unreadable file.
        ValueError: (IncidentDataError, SiteDataError, RouteDataError) on invalid data files.
    """
    from geodata.boundaries import HOW_TO_GET_BOUNDARIES
    from geodata.layers_data import load_bundle

    bundle = load_bundle(settings)
    notes = () if bundle.municipalities is not None or not use_boundaries else (HOW_TO_GET_BOUNDARIES,)
    from geodata.curation_service import with_curation

    # Status, sources and sequence per incident (and confirmed merges) before filtering: the
    # status is a filter, and exports and popups show them.
    chosen = apply_filters(with_curation(bundle.incidents, settings), spec, bundle.routes, bundle.sites)
    return Selection(
        incidents=chosen, spec=spec, municipalities=bundle.municipalities if use_boundaries else None,
        routes=bundle.routes, sites=bundle.sites,
        tiles=settings.tiles if tiles is None else (tiles or None), metric=metric,
        tiles_attribution=settings.tiles_attribution if tiles is None else None, notes=notes,
    )
