"""Data exports of the current selection: CSV, GeoJSON and a four-layer GeoPackage.

Pure functions from a :class:`geodata.model.selection.Selection` to bytes (for the dashboard's
download buttons); the ``python -m geodata export`` command is :mod:`geodata.cli.layers`.

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

import tempfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from geodata.export.licence import shareable
from geodata.model.selection import Selection
from geodata.export.spreadsheet import FORMULA_PREFIXES, neutralise_formulas, spreadsheet_csv  # noqa: F401 (re-exported)
from geodata.export.files import atomic_target

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
    sequence, sequence_step; :mod:`geodata.curation.joined`) of the curation the selection brings, and is :func:`geodata.export.licence.shareable`: ACLED
    rows without notes, actors and sources unless ``full_rows`` (internal use; every such row then
    says so in ``terms``).

    Args:
        selection: the filtered incidents and the context layers.
        full_rows: keep ACLED rows whole (internal use).
    Returns:
        Layer name -> layer: ``incidents`` always, ``municipalities`` (with counts), ``routes`` and
        ``sites`` when the selection has them.
    """
    from geodata.curation.joined import annotate

    incidents = selection.incidents
    # The curation comes with the selection (the service attaches it: IncidentService.select(curation=True));
    # an export never opens the store to fetch it.
    if selection.curation is not None and "verification_status" not in incidents and "event_id_cnty" in incidents:
        incidents = annotate(incidents, selection.curation)
    layers = {"incidents": shareable(incidents, full_rows)}
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
