"""The context layers (boundaries, routes, sites) loaded for the service, as one :class:`Context`.

A layer whose file is unusable becomes a notice for that layer (:class:`Context`),
never an exception that takes the dashboard, ``info`` or an export down.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geodata._errors import DataError
from geodata.geo.boundaries import BoundarySource, find_boundaries, load_country_boundary, read_municipalities
from geodata.geo.routes import load_routes
from geodata.settings import Settings
from geodata.geo.sites import BUNDLED_SITES, load_sites



@dataclass(frozen=True, eq=False)
class Context:
    """The context layers and what went wrong loading each (a bad file is a notice, not a crash).

    Attributes:
        municipalities: official boundaries, ``None`` when not installed or unreadable.
        routes, sites: line and point layers, ``None`` when their file is unusable.
        notices: one plain-text line per layer that could not be used (and how to fix it).
        boundary_source: :class:`geodata.geo.boundaries.BoundarySource` of the boundaries, or ``None``.
        routes_version: token of the routes file in use (path, size, mtime): distance caches key on it.
        country: the official Kosovo outline (geoBoundaries ADM0), ``None`` when not installed or
            unreadable: the drawings then use Natural Earth's outline. Loaded here, once, so that drawing
            code is handed it and never reads settings or files itself.
    """

    municipalities: gpd.GeoDataFrame | None
    routes: gpd.GeoDataFrame | None
    sites: gpd.GeoDataFrame | None
    notices: tuple[str, ...] = ()
    boundary_source: BoundarySource | None = None
    routes_version: str = ""
    country: gpd.GeoDataFrame | None = None

    @property
    def routes_illustrative(self) -> bool:
        """True when every route is marked illustrative in the data."""
        return self.routes is not None and bool(len(self.routes)) and bool(self.routes["illustrative"].all())


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
            _file_stamp(settings.routes_file), _file_stamp(BUNDLED_SITES),
            _file_stamp(settings.country_boundary_file), _file_stamp(settings.country_boundary_cache))


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
        :class:`Context`.
    """
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
    country = None
    try:
        country, _src = load_country_boundary(settings)
    except DataError as exc:
        notices.append(f"Kosovo outline: {exc}; Natural Earth's outline is drawn instead.")
    return Context(municipalities=municipalities, routes=routes, sites=sites, notices=tuple(notices),
                   boundary_source=source, routes_version="|".join(context_key(settings)[2:4]), country=country)
