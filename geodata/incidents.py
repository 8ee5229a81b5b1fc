"""Incident tables: reading the bundled file and turning validated rows into a point layer."""

from __future__ import annotations

from geodata._errors import DataError

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata.schema import INCIDENT_COLUMNS
from geodata.settings import BUNDLED_DIR, WGS84
from geodata.store import open_store
from geodata.validation import ValidationResult, validate_incidents

BUNDLED_INCIDENTS = BUNDLED_DIR / "incidents.csv"


class IncidentDataError(DataError):
    """A file that must be entirely valid (the bundled data) has invalid rows."""


def read_incident_table(path: Path) -> ValidationResult:
    """Read a canonical-column incident CSV (UTF-8) and validate every row.

    Args:
        path: CSV whose header uses :data:`geodata.schema.INCIDENT_COLUMNS` names.
    Returns:
        The :class:`ValidationResult` (valid rows plus row-level errors and warnings).
    Raises:
        OSError: if the file cannot be read.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return validate_incidents(raw)


def to_geodataframe(valid: pd.DataFrame, origin: str | pd.Series = "bundled") -> gpd.GeoDataFrame:
    """Turn validated incident rows into a point GeoDataFrame in EPSG:4326.

    Args:
        valid: rows from :func:`geodata.validation.validate_incidents` (``.valid``).
        origin: where the rows come from ("bundled", "upload:<id>"); kept in column ``origin``.
    Returns:
        GeoDataFrame with every incident column, ``origin`` and point geometry.
    """
    df = valid.reindex(columns=list(INCIDENT_COLUMNS)).copy()
    df["origin"] = origin
    geom = gpd.points_from_xy(df["longitude"].astype(float), df["latitude"].astype(float), crs=WGS84)
    return gpd.GeoDataFrame(df, geometry=geom, crs=WGS84)


def load_bundled_incidents(path: Path = BUNDLED_INCIDENTS) -> gpd.GeoDataFrame:
    """Load the bundled, sourced incidents, which must all be valid.

    Raises:
        IncidentDataError: listing every invalid row (line, column, reason).
    """
    result = read_incident_table(path)
    if result.errors:
        lines = "; ".join(f"line {e.line} {e.column}: {e.reason}" for e in result.errors[:20])
        raise IncidentDataError(f"{path} has invalid rows: {lines}")
    return to_geodataframe(result.valid, "bundled")


def empty_incidents() -> gpd.GeoDataFrame:
    """An incident layer with the right columns and no rows."""
    return to_geodataframe(validate_incidents(pd.DataFrame(columns=list(INCIDENT_COLUMNS))).valid)


def load_incidents(settings) -> gpd.GeoDataFrame:
    """All incidents: the bundled ones plus everything uploaded to the store.

    Args:
        settings: :class:`geodata.settings.Settings` (gives the store URL).
    Returns:
        One point layer; column ``origin`` says "bundled" or "upload:<id>".
    """
    bundled = load_bundled_incidents()
    store = open_store(settings.db_url, create=False)
    if store is None:  # nothing uploaded yet
        return bundled
    try:
        stored = store.read_incidents()
    finally:
        store.close()
    if stored.empty:
        return bundled
    return pd.concat([bundled, to_geodataframe(stored, stored["origin"])], ignore_index=True)
