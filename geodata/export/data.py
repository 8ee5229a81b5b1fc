"""Data exports of the current selection: CSV, GeoJSON and a four-layer GeoPackage.

Pure functions from a :class:`geodata.model.selection.Selection` to bytes (for the dashboard's
download buttons) plus :func:`run_export`, the ``python -m geodata export`` command.

* CSV is UTF-8 with a BOM, so Excel shows Albanian and Serbian letters (ë, ç, č, ć, đ, š, ž);
  every text cell starting with ``= + - @``, tab or carriage return is prefixed with ``'``
  (OWASP "CSV injection") so no spreadsheet runs it as a formula; numeric columns stay numbers.
  Non-point layers carry their geometry as WKT.
* GeoJSON and GeoPackage carry dates as ISO ``YYYY-MM-DD`` text; the GeoPackage holds the
  incidents, municipalities (with the selection's counts), routes and sites as separate layers
  that QGIS opens directly. Files are written with :mod:`geodata.export.files`: atomically, regular files only.
"""

from __future__ import annotations

from geodata._errors import OutputError

import argparse
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geodata.export.licence import INTERNAL_USE_NOTICE, needs_notice, shareable
from geodata.model.selection import Selection
from geodata.settings import Settings
from geodata.export.spreadsheet import FORMULA_PREFIXES, neutralise_formulas, spreadsheet_csv  # noqa: F401 (re-exported)
from geodata.export.files import atomic_target, write_bytes_atomic
from geodata.export.textsafe import printable

LAYER_NAMES = ("incidents", "municipalities", "routes", "sites")
#: format -> (MIME type, file extension)
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("text/csv", "csv"),
    "geojson": ("application/geo+json", "geojson"),
    "gpkg": ("application/geopackage+sqlite3", "gpkg"),
}


class ExportError(OutputError):
    """The requested export cannot be produced (e.g. a layer that is not installed)."""


def _iso_dates(df: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns as ISO text (dates without a time of day as ``YYYY-MM-DD``)."""
    out = df.copy()
    for col in out.columns:
        if col != "geometry" and pd.api.types.is_datetime64_any_dtype(out[col]):
            d = out[col]
            fmt = "%Y-%m-%d" if (d.dropna() == d.dropna().dt.normalize()).all() else "%Y-%m-%dT%H:%M:%S"
            out[col] = d.dt.strftime(fmt).astype(object).where(d.notna(), None)
    return out


def for_vector_file(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A copy ready for GeoJSON/GeoPackage: ISO date text, nullable ints/bools as plain objects.

    Nullable ``Int64``/``boolean`` columns become object columns with ``None`` for missing values,
    which every OGR driver accepts.
    """
    out = _iso_dates(gdf)
    for col in out.columns:
        if col == "geometry":
            continue
        dtype = out[col].dtype
        if isinstance(dtype, (pd.BooleanDtype, pd.Int64Dtype)) or str(dtype) in ("Int32", "Int16", "Int8"):
            has_na = out[col].isna().any()
            if isinstance(dtype, pd.BooleanDtype):
                out[col] = out[col].astype(object).where(out[col].notna(), None) if has_na else out[col].astype(bool)
            else:
                out[col] = out[col].astype(float) if has_na else out[col].astype("int64")
        elif pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype):
            out[col] = out[col].astype(object).where(out[col].notna(), None)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=gdf.crs)


def tabular(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """The layer as a plain table: ISO dates; points keep their latitude/longitude columns
    (added when missing), other geometries become a ``geometry_wkt`` column."""
    from geodata.curation.joined import for_export

    out = _iso_dates(pd.DataFrame(for_export(gdf, "csv").drop(columns="geometry")))
    geom = gdf.geometry
    if len(geom) and (geom.geom_type == "Point").all():
        if "latitude" not in out:
            out["latitude"], out["longitude"] = geom.y.round(6).to_numpy(), geom.x.round(6).to_numpy()
    else:
        out["geometry_wkt"] = geom.to_wkt(rounding_precision=6).to_numpy() if len(geom) else []
    return out


def to_csv_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    """CSV (UTF-8 with BOM, formula-safe) of a layer; see the module docstring."""
    return spreadsheet_csv(tabular(gdf))


def to_geojson_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    """GeoJSON (UTF-8, EPSG:4326) of a layer with ISO date text."""
    ready = for_vector_file(gdf.to_crs("EPSG:4326") if gdf.crs is not None else gdf)
    return ready.to_json(na="null", drop_id=True, ensure_ascii=False).encode("utf-8")


def municipality_counts(selection: Selection) -> gpd.GeoDataFrame | None:
    """Municipalities with the selection's ``incidents`` count and ``fatalities`` sum (None if absent)."""
    muni = selection.municipalities
    if muni is None:
        return None
    inc = selection.incidents
    col = "municipality" if "municipality" in inc else "admin2"
    counts = inc.groupby(col).size() if len(inc) else pd.Series(dtype=int)
    fat = inc.groupby(col)["fatalities"].sum() if len(inc) else pd.Series(dtype=int)
    out = muni.copy()
    out["incidents"] = counts.reindex(out["municipality"]).fillna(0).astype("int64").to_numpy()
    out["fatalities"] = pd.to_numeric(fat.reindex(out["municipality"]), errors="coerce").fillna(0).astype("int64").to_numpy()
    return out


def export_layers(selection: Selection, full_rows: bool = False) -> dict[str, gpd.GeoDataFrame]:
    """The layers an export holds, by name (municipalities only when installed).

    The incidents layer carries the curation columns (verification_status, sources, source_count,
    sequence, sequence_step; :mod:`geodata.curation.joined`) and is :func:`geodata.export.licence.shareable`: ACLED
    rows without notes, actors and sources unless ``full_rows`` (internal use; every such row then
    says so in ``terms``).

    Args:
        selection: the filtered incidents and the context layers.
        full_rows: keep ACLED rows whole (internal use).
    Returns:
        Layer name -> layer: ``incidents`` always, ``municipalities`` (with counts), ``routes`` and
        ``sites`` when the selection has them.
    """
    from geodata.service.curation import with_curation

    layers = {"incidents": shareable(with_curation(selection.incidents), full_rows)}
    muni = municipality_counts(selection)
    if muni is not None:
        layers["municipalities"] = muni
    if selection.routes is not None:
        layers["routes"] = selection.routes
    if selection.sites is not None:
        layers["sites"] = selection.sites
    return layers


def write_geopackage(path: Path, layers: dict[str, gpd.GeoDataFrame]) -> Path:
    """Write several layers into one GeoPackage, atomically (temp file in the same folder, then rename).

    Args:
        path: the .gpkg to create or replace.
        layers: layer name -> GeoDataFrame (each written with :func:`for_vector_file`).
    Returns:
        ``path``.
    Raises:
        OutputError: if ``path`` is not a regular file or cannot be written (see :mod:`geodata.export.files`);
            pyogrio errors if a layer cannot be written.
    """
    from geodata.curation.joined import for_export

    path = Path(path)
    with atomic_target(path, suffix=".gpkg") as tmp:  # the GPKG driver creates the file itself
        for name, gdf in layers.items():
            pyogrio.write_dataframe(for_vector_file(for_export(gdf, "gpkg")), tmp, layer=name, driver="GPKG",
                                    append=tmp.exists())
    return path


def to_geopackage_bytes(selection: Selection, full_rows: bool = False) -> bytes:
    """The four-layer GeoPackage of ``selection`` as bytes (for a download button).

    Args:
        selection: what to export (see :func:`export_layers`).
        full_rows: keep ACLED rows whole (internal use).
    Returns:
        The GeoPackage file's bytes.
    """
    with tempfile.TemporaryDirectory(prefix="conflictmap-gpkg-") as tmp:
        path = write_geopackage(Path(tmp) / "conflictmap.gpkg", export_layers(selection, full_rows))
        return path.read_bytes()


def export_bytes(selection: Selection, layer: str, fmt: str, full_rows: bool = False) -> bytes:
    """One export as bytes: ``fmt`` "csv"/"geojson" of ``layer``, or "gpkg" (all layers).

    Args:
        selection: what to export.
        layer: one of :data:`LAYER_NAMES` (ignored for "gpkg").
        fmt: a key of :data:`FORMATS`.
        full_rows: keep ACLED rows whole, for internal use (see :mod:`geodata.export.licence`).
    Returns:
        The file's bytes.
    Raises:
        ExportError: for an unknown format/layer or a layer that is not installed.
    """
    if fmt == "gpkg":
        return to_geopackage_bytes(selection, full_rows)
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    if layer not in LAYER_NAMES:
        raise ExportError(f"unknown layer {layer!r}; one of {', '.join(LAYER_NAMES)}")
    gdf = export_layers(selection, full_rows).get(layer)
    if gdf is None:
        raise ExportError(f"the {layer} layer is not available")
    return to_csv_bytes(gdf) if fmt == "csv" else to_geojson_bytes(gdf)


def export_filename(layer: str, fmt: str, stamp: str = "") -> str:
    """A file name such as ``conflictmap-incidents-20261102-1015.csv`` (all layers for gpkg)."""
    what = "layers" if fmt == "gpkg" else layer
    return f"conflictmap-{what}{'-' + stamp if stamp else ''}.{FORMATS[fmt][1]}"


def add_export_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``python -m geodata export``: --layer, --format, --out and the filter options."""
    from geodata.cli.filter_args import add_filter_arguments

    parser.add_argument("--layer", choices=LAYER_NAMES, default="incidents",
                        help="layer to write for csv/geojson (default: incidents; gpkg always holds all)")
    parser.add_argument("--format", choices=tuple(FORMATS), default="geojson",
                        help="csv (UTF-8 with BOM, formula-safe), geojson, or gpkg (all layers in one file)")
    parser.add_argument("--out", required=True, type=Path, metavar="PATH", help="file to write")
    parser.add_argument("--full-rows", action="store_true",
                        help="internal use only: keep notes, actors and sources of ACLED rows (by default they are "
                             "withheld, as ACLED's terms require; the file says so in its 'terms' column)")
    add_filter_arguments(parser)
    return parser


def unknown_places(selection: Selection) -> list[str]:
    """What the selection's proximity filter names that no routes or sites file holds (so nothing can
    be near it: the export is empty for that reason, not because no incident matched).

    Args:
        selection: the export's selection (its spec and context layers).
    Returns:
        One sentence per unknown name, naming what is known.
    """
    notes = []
    for kind, names, layer, column in (("route", selection.spec.near_routes, selection.routes, "name"),
                                       ("site", selection.spec.near_sites, selection.sites, "name_en")):
        known = [] if layer is None else [str(n) for n in layer[column]]
        for name in names:
            if name not in known:
                notes.append(f"no {kind} named {name!r}, so no incident is near it "
                             f"({kind}s: {', '.join(known) or 'none loaded'})")
    return notes


def run_export(args: argparse.Namespace, settings: Settings) -> int:
    """``python -m geodata export``: write the filtered incidents or a layer, or all layers as GPKG.

    Args:
        args: parsed options from :func:`add_export_arguments`.
        settings: :class:`geodata.settings.Settings`.
    Returns:
        0 on success, 2 when the export cannot be made (message on stderr, nothing written).
    """
    from geodata.geo.boundaries import HOW_TO_GET_BOUNDARIES
    from geodata.cli.filter_args import spec_from_args
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
