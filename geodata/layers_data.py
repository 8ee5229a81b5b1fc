"""The context layers (boundaries, routes, sites) loaded for the service, and the older all-layers bundle.

A layer whose file is unusable becomes a notice for that layer (:class:`geodata.service.Context`),
never an exception that takes the dashboard, ``info`` or an export down.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd

from geodata._errors import DataError
from geodata.boundaries import BoundarySource, find_boundaries, read_municipalities
from geodata.incidents import BUNDLED_INCIDENTS
from geodata.routes import load_routes
from geodata.settings import Settings
from geodata.sites import BUNDLED_SITES, load_sites

if TYPE_CHECKING:
    from geodata.service import Context


def _file_stamp(path: Path | None) -> str:
    """path, size and modification time (cheap: no read), or "-" when absent."""
    if path is None:
        return "-"
    try:
        st = Path(path).stat()
    except OSError:
        return f"{path}:missing"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


def context_key(settings: Settings) -> tuple[str, ...]:
    """What decides the context layers: the boundaries (configured file and cache), routes and sites files.

    Args:
        settings: names the boundaries and routes files.
    Returns:
        One "path:size:mtime" stamp per file ("-" when not configured, "path:missing" when absent).
    """
    return (_file_stamp(settings.boundaries_file), _file_stamp(settings.boundaries_cache),
            _file_stamp(settings.routes_file), _file_stamp(BUNDLED_SITES))


def boundaries_identity(source: BoundarySource | None) -> str:
    """A stable name of the boundaries in use ("none" without): the SHA-256 of their file.

    The store remembers with which boundaries its municipalities were computed (``store_meta``),
    so that installing or changing boundaries re-enriches every incident once.
    """
    if source is None:
        return "none"
    try:
        return hashlib.sha256(Path(source.path).read_bytes()).hexdigest()
    except OSError:
        return "none"


def load_context(settings: Settings) -> Context:
    """Boundaries, routes and sites; each unusable file becomes a one-line notice.

    Args:
        settings: where the boundaries and routes files are.
    Returns:
        :class:`geodata.service.Context`.
    """
    from geodata.service import Context

    notices: list[str] = []
    municipalities = source = None
    try:
        source = find_boundaries(settings)
        municipalities = read_municipalities(source.path) if source else None
    except DataError as exc:
        notices.append(f"Municipal boundaries left out: {exc}")
        source = None
    routes = sites = None
    try:
        routes = load_routes(settings.routes_file)
    except DataError as exc:
        notices.append(f"Patrol routes left out: {exc}")
    try:
        sites = load_sites(BUNDLED_SITES)
    except DataError as exc:
        notices.append(f"Religious sites left out: {exc}")
    return Context(municipalities=municipalities, routes=routes, sites=sites, notices=tuple(notices),
                   boundary_source=source, routes_version="|".join(context_key(settings)[2:]))


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
        geodata.boundaries.BoundaryError, RouteDataError, SiteDataError: on unusable layer files.
        StoreError: if the store cannot be opened.
    """
    from geodata.boundaries import load_municipalities
    from geodata.incidents import empty_incidents
    from geodata.pushdown import add_distances
    from geodata.service import IncidentService

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
