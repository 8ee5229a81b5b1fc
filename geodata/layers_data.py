"""All four layers' data at once, loaded and enriched the same way for every consumer."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd

from geodata.boundaries import BoundarySource, load_municipalities
from geodata.enrich import enrich_incidents
from geodata.incidents import BUNDLED_INCIDENTS, load_bundled_incidents, load_incidents
from geodata.routes import load_routes
from geodata.settings import Settings
from geodata.sites import BUNDLED_SITES, load_sites


@dataclass
class LayerBundle:
    """The four layers; ``municipalities`` is None when no official boundaries are installed."""

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
    """Load the four layers and enrich the incidents (municipality, distances).

    Args:
        settings: where the layers and the store are.
        include_store: ``False`` loads the bundled incidents only (for a store too big to hold in
            memory, which is then queried per selection through :mod:`geodata.pushdown`).

    Raises:
        geodata.boundaries.BoundaryError: if configured boundaries are missing or unreadable.
        geodata.incidents.IncidentDataError / SiteDataError / RouteDataError: on invalid bundled data.
    """
    municipalities, source = load_municipalities(settings)
    sites = load_sites(BUNDLED_SITES)
    routes = load_routes(settings.routes_file)
    raw = load_incidents(settings) if include_store else load_bundled_incidents()
    incidents = enrich_incidents(raw, municipalities, routes, sites)
    return LayerBundle(
        incidents=incidents, sites=sites, routes=routes, municipalities=municipalities, boundary_source=source,
        incident_source=f"{BUNDLED_INCIDENTS} + store {settings.db_url}", sites_source=str(BUNDLED_SITES),
        routes_source=str(settings.routes_file),
    )
