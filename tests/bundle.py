"""The older all-layers bundle, for tests: every layer strictly, incidents read through the service.

Tests compare what the dashboard and the exports show with the data as loaded here (counts come from
the data, never hard-coded). It lived in ``geodata.geo.context`` as a deprecated shim; the package
itself reads through :class:`geodata.service.incidents.IncidentService`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from geodata.geo.boundaries import BoundarySource
from geodata.ingest.bundled import BUNDLED_INCIDENTS
from geodata.geo.context import context_key
from geodata.geo.routes import load_routes
from geodata.settings import Settings
from geodata.geo.sites import BUNDLED_SITES, load_sites


@dataclass
class LayerBundle:
    """Deprecated (use the service): the four layers; ``municipalities`` is None without boundaries."""

    incidents: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    routes: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame | None
    boundary_source: BoundarySource | None
    incident_source: str
    sites_source: str
    routes_source: str

    @property
    def routes_illustrative(self) -> bool:
        """True when every route is marked illustrative in the data."""
        return bool(len(self.routes)) and bool(self.routes["illustrative"].all())


def load_bundle(settings: Settings, include_store: bool = True) -> LayerBundle:
    """Deprecated (the dashboard calls it until it uses the service): every layer, strictly.

    Args:
        settings: where the layers and the store are.
        include_store: ``False`` leaves the incidents empty (they are then selected per filter
            through the store, bundled ones included).
    Returns:
        A :class:`LayerBundle` (incidents with route/site distances).
    Raises:
        geodata.geo.boundaries.BoundaryError, RouteDataError, SiteDataError: on unusable layer files.
        StoreError: if the store cannot be opened.
    """
    from geodata.geo.boundaries import load_municipalities
    from geodata.ingest.bundled import empty_incidents
    from geodata.query.pushdown import add_distances
    from geodata.service.incidents import IncidentService

    municipalities, source = load_municipalities(settings)
    sites = load_sites(BUNDLED_SITES)
    routes = load_routes(settings.routes_file)
    with IncidentService(settings) as svc:
        incidents = svc.select(distances=False).incidents if include_store else empty_incidents()
    incidents = add_distances(incidents, routes, sites, "|".join(context_key(settings)[2:]))
    return LayerBundle(
        incidents=incidents, sites=sites, routes=routes, municipalities=municipalities, boundary_source=source,
        incident_source=f"{BUNDLED_INCIDENTS} + store {settings.db_url}", sites_source=str(BUNDLED_SITES),
        routes_source=str(settings.routes_file),
    )

