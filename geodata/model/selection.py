"""What an export shows: the filtered incidents, the context layers and the map options.

:class:`Selection` is the one object the dashboard's export panel, ``python -m dashboard
export-html|export-png`` and ``python -m geodata export`` hand to the exporters
(:mod:`layers.export_html`, :mod:`layers.static_png`, :mod:`geodata.export.data`). It is a plain
dataclass so building one needs no Streamlit; :meth:`geodata.service.incidents.IncidentService.select`
builds one from the store and the context layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import geopandas as gpd

from geodata.model.filters import FilterSpec

if TYPE_CHECKING:
    from geodata.curation.joined import Curation


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
        curation: the statuses, sources and sequences in force (the exported map's sequence control
            draws them); ``None`` when the builder did not read them.
        country: the official Kosovo outline (:attr:`geodata.geo.context.Context.country`); ``None``
            draws Natural Earth's.
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
    curation: Curation | None = None
    country: gpd.GeoDataFrame | None = None
