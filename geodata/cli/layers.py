"""``info``, ``export`` and ``boundaries`` commands: the layers as data."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Protocol

import geopandas as gpd

from geodata.geo.boundaries import (
    HOW_TO_GET_BOUNDARIES, BoundaryError, BoundarySource, download_boundaries, download_country_boundary,
    import_boundaries,
)
from geodata.export.data import FORMATS
from geodata.export.data import LAYER_NAMES as EXPORT_LAYERS
from geodata.settings import Settings, get_settings

LAYER_NAMES = ("incidents", "sites", "routes", "municipalities")


class LayerSummarySource(Protocol):
    """What :func:`info_summary` reads: the layers, where each came from, and the routes' status.

    ``cmd_info`` builds one from the service's context.
    """

    @property
    def incidents(self) -> gpd.GeoDataFrame: ...
    @property
    def sites(self) -> gpd.GeoDataFrame: ...
    @property
    def routes(self) -> gpd.GeoDataFrame: ...
    @property
    def municipalities(self) -> gpd.GeoDataFrame | None: ...
    @property
    def boundary_source(self) -> BoundarySource | None: ...
    @property
    def routes_illustrative(self) -> bool: ...
    @property
    def incident_source(self) -> str: ...
    @property
    def sites_source(self) -> str: ...
    @property
    def routes_source(self) -> str: ...


def _layer_summary(name: str, gdf: gpd.GeoDataFrame | None, source: str, attribution: str) -> dict[str, object]:
    if gdf is None:
        return {"name": name, "present": False, "features": 0, "source": source, "attribution": attribution}
    bounds = [round(float(b), 5) for b in gdf.total_bounds] if not gdf.empty else None
    return {"name": name, "present": True, "features": int(len(gdf)), "crs": gdf.crs.to_string() if gdf.crs else None,
            "bounds": bounds, "source": source, "attribution": attribution}


def info_summary(bundle: LayerSummarySource) -> dict[str, list[dict[str, object]]]:
    """JSON-ready summary of every layer (name, count, CRS, bounds, source, attribution).

    Args:
        bundle: anything with these attributes (see :class:`LayerSummarySource`).
    Returns:
        ``{"layers": [...]}``, one dict per layer (incidents, sites, routes, municipalities);
        ``present`` is False for a missing municipalities layer, which then carries ``how_to_get``.
    """
    muni = _layer_summary("municipalities", bundle.municipalities,
                          str(bundle.boundary_source.path) if bundle.boundary_source else "not installed",
                          bundle.boundary_source.attribution if bundle.boundary_source else "")
    muni["boundaries_from"] = bundle.boundary_source.origin if bundle.boundary_source else None
    if bundle.municipalities is None:
        muni["how_to_get"] = HOW_TO_GET_BOUNDARIES
    return {
        "layers": [
            _layer_summary("incidents", bundle.incidents, bundle.incident_source, "conflictmap bundled incidents (each with a source_url) and uploads"),
            _layer_summary("sites", bundle.sites, bundle.sites_source, "conflictmap bundled religious sites (each with a source_url)"),
            _layer_summary("routes", bundle.routes, bundle.routes_source,
                           "illustrative patrol routes (real routes are not public)" if bundle.routes_illustrative else "user-supplied routes"),
            muni,
        ]
    }


def cmd_info(args: argparse.Namespace) -> int:
    """Print the JSON layer summary; an unusable layer file is left out with a note on stderr.

    Args:
        args: the parsed ``info`` options (none).
    Returns:
        0.
    Raises:
        StoreError: if the store cannot be read.
    """
    from types import SimpleNamespace

    from geodata.ingest.bundled import BUNDLED_INCIDENTS
    from geodata.service.incidents import IncidentService, user_message
    from geodata.geo.sites import BUNDLED_SITES

    settings = get_settings()
    with IncidentService(settings) as svc:
        ctx = svc.context()
        incidents = svc.select(columns=("latitude", "longitude"), distances=False).incidents
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    bundle = SimpleNamespace(
        incidents=incidents, sites=ctx.sites if ctx.sites is not None else empty,
        routes=ctx.routes if ctx.routes is not None else empty, municipalities=ctx.municipalities,
        boundary_source=ctx.boundary_source, routes_illustrative=ctx.routes_illustrative,
        incident_source=f"{BUNDLED_INCIDENTS} + store {settings.db_url}", sites_source=str(BUNDLED_SITES),
        routes_source=str(settings.routes_file))
    print(json.dumps(info_summary(bundle), ensure_ascii=False, indent=2))
    for note in ctx.notices:
        print(f"note: {user_message(Exception(note))}", file=sys.stderr)
    if ctx.municipalities is None:
        print(HOW_TO_GET_BOUNDARIES, file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write the filtered incidents or one layer (csv/geojson), or all layers (gpkg): see :mod:`geodata.export.data`.

    Args:
        args: the parsed ``export`` options (:func:`add_export_arguments`).
    Returns:
        0 written, 2 when the export cannot be made (message on stderr, nothing written).
    """
    return _run_export(args, get_settings())


def add_export_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``python -m geodata export``: --layer, --format, --out and the filter options."""
    from geodata.cli.filter_args import add_filter_arguments

    parser.add_argument("--layer", choices=EXPORT_LAYERS, default="incidents",
                        help="layer to write for csv/geojson (default: incidents; gpkg always holds all)")
    parser.add_argument("--format", choices=tuple(FORMATS), default="geojson",
                        help="csv (UTF-8 with BOM, formula-safe), geojson, or gpkg (all layers in one file)")
    parser.add_argument("--out", required=True, type=Path, metavar="PATH", help="file to write")
    parser.add_argument("--full-rows", action="store_true",
                        help="internal use only: keep notes, actors and sources of ACLED rows (by default they are "
                             "withheld, as ACLED's terms require; the file says so in its 'terms' column)")
    add_filter_arguments(parser)
    return parser


def _run_export(args: argparse.Namespace, settings: Settings) -> int:
    """``python -m geodata export``: write the filtered incidents or a layer, or all layers as GPKG.

    Args:
        args: parsed options from :func:`add_export_arguments`.
        settings: :class:`geodata.settings.Settings`.
    Returns:
        0 on success, 2 when the export cannot be made (message on stderr, nothing written).
    """
    from geodata.cli.filter_args import spec_from_args
    from geodata.export.data import (
        ExportError, export_layers, to_csv_bytes, to_geojson_bytes, unknown_places, write_geopackage,
    )
    from geodata.export.files import write_bytes_atomic
    from geodata.export.licence import INTERNAL_USE_NOTICE, needs_notice
    from geodata.export.textsafe import printable
    from geodata.service.incidents import IncidentService

    try:
        with IncidentService(settings) as svc:
            selection = svc.select(spec_from_args(args), distances=True, curation=True)
        for note in unknown_places(selection):
            print(printable(f"note: {note}"), file=sys.stderr)
        out = Path(args.out)
        full_rows = bool(getattr(args, "full_rows", False))
        if needs_notice(selection.incidents, full_rows):
            print(f"note: {INTERNAL_USE_NOTICE}", file=sys.stderr)
        if args.format == "gpkg":
            layers = export_layers(selection, full_rows)
            write_geopackage(out, layers)
            print(f"wrote {printable(out)}: " + ", ".join(f"{k} ({len(v):,})" for k, v in layers.items()))
            if "municipalities" not in layers:
                print(f"note: no municipalities layer. {HOW_TO_GET_BOUNDARIES}", file=sys.stderr)
            return 0
        if args.layer == "municipalities" and selection.municipalities is None:
            print(f"error: {HOW_TO_GET_BOUNDARIES}", file=sys.stderr)
            return 2
        # The count printed is of the rows written (merged duplicates leave as one row).
        table = export_layers(selection, full_rows).get(args.layer)
        if table is None:
            raise ExportError(f"the {args.layer} layer is not available")
        data = to_csv_bytes(table) if args.format == "csv" else to_geojson_bytes(table)
        write_bytes_atomic(out, data)
        print(f"wrote {len(table):,} {args.layer} to {printable(out)}")
        return 0
    except (ValueError, OSError, RuntimeError) as exc:
        print(printable(f"error: {exc}"), file=sys.stderr)
        return 2


def cmd_boundaries(args: argparse.Namespace) -> int:
    """Download (or import with --from) the official ADM2 boundaries into the cache.

    Stored incidents are then located in the new boundaries.

    Args:
        args: the parsed ``boundaries`` options (``from_path``).
    Returns:
        0 when installed, 2 when the download or import failed (one line on stderr).
    """
    settings = get_settings()
    try:
        path = import_boundaries(settings, Path(args.from_path)) if args.from_path else download_boundaries(settings)
        # The Kosovo outline (ADM0) comes with the same pinned download.
        outline = None if args.from_path else download_country_boundary(settings)
    except BoundaryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"boundaries installed at {path}")
    if outline is not None:
        print(f"Kosovo outline installed at {outline}")
    from geodata.service.incidents import IncidentService

    # Stored incidents are located again with the new boundaries (once; see service.sync_enrichment).
    with IncidentService(settings) as svc:
        located = svc.locate_stored()
        if located:
            print(f"located {located:,} stored incidents in the new boundaries")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the info, export and boundaries commands.

    Args:
        sub: the ``python -m geodata`` subcommand registry (each command sets ``func``).
    """
    p = sub.add_parser("info", help="JSON summary of every layer")
    p.set_defaults(func=cmd_info)
    p = sub.add_parser("export", help="write the filtered incidents or a layer (csv/geojson), or all layers (gpkg)")
    add_export_arguments(p)
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("boundaries", help="download or import the official municipal boundaries")
    p.add_argument("--from", dest="from_path", metavar="PATH", help="import this GeoJSON/GeoPackage instead of downloading")
    p.set_defaults(func=cmd_boundaries)
