"""Incident tables: the bundled file, its seeding into the store, and rows -> point layer.

The bundled, sourced incidents (``geodata/data/incidents.csv``) reach every reader the same way
as uploads: :func:`seed_bundled` stores them as an upload with format ``"bundled"`` (once; again
when the file's SHA-256 changes), and :meth:`geodata.service.incidents.IncidentService.select` reads them
from the store with everything else.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from geodata._errors import DataError
from geodata.model.schema import INCIDENT_COLUMNS
from geodata.settings import BUNDLED_DIR, WGS84
from geodata.ingest.validation import ValidationResult, validate_incidents

if TYPE_CHECKING:
    from geodata.store.protocol import IncidentStore

BUNDLED_INCIDENTS = BUNDLED_DIR / "incidents.csv"
#: Upload format of the seeded bundled incidents (see :data:`geodata.store.base.BUNDLED_FORMAT`).
BUNDLED_FORMAT = "bundled"


class IncidentDataError(DataError):
    """A file that must be entirely valid (the bundled data) has invalid rows."""


def read_incident_table(path: Path) -> ValidationResult:
    """Read a canonical-column incident CSV (UTF-8) and validate every row.

    Args:
        path: CSV whose header uses :data:`geodata.model.schema.INCIDENT_COLUMNS` names.
    Returns:
        The :class:`ValidationResult` (valid rows plus row-level errors and warnings).
    Raises:
        OSError: if the file cannot be read.
    """
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return validate_incidents(raw)


def to_geodataframe(valid: pd.DataFrame, origin: str | pd.Series = "bundled") -> gpd.GeoDataFrame:
    """Turn incident rows into a point GeoDataFrame in EPSG:4326.

    Args:
        valid: rows with every incident column (stored enrichment columns are kept when present).
        origin: where the rows come from ("bundled", "upload:<id>"); kept in column ``origin``.
    Returns:
        GeoDataFrame with every incident column, ``origin`` and point geometry.
    """
    extra = [c for c in ("municipality", "admin2_mismatch") if c in valid]
    df = valid.reindex(columns=[*INCIDENT_COLUMNS, *extra]).copy()
    df["origin"] = origin
    geom = gpd.points_from_xy(df["longitude"].astype(float), df["latitude"].astype(float), crs=WGS84)
    return gpd.GeoDataFrame(df, geometry=geom, crs=WGS84)


def bundled_rows(path: Path = BUNDLED_INCIDENTS) -> pd.DataFrame:
    """The bundled incidents as validated rows (every one must be valid).

    Args:
        path: the bundled CSV (canonical columns).
    Returns:
        The valid rows, as :func:`geodata.ingest.validation.validate_incidents` gives them.
    Raises:
        IncidentDataError: listing invalid rows (line, column, reason), or when the file is unreadable.
    """
    try:
        result = read_incident_table(path)
    except (OSError, ValueError) as exc:
        raise IncidentDataError(f"cannot read the bundled incidents {path}: {exc}") from exc
    if result.errors:
        lines = "; ".join(f"line {e.line} {e.column}: {e.reason}" for e in result.errors[:20])
        raise IncidentDataError(f"{path} has invalid rows: {lines}")
    return result.valid


def load_bundled_incidents(path: Path = BUNDLED_INCIDENTS) -> gpd.GeoDataFrame:
    """The bundled file as a point layer, read directly (the app reads the bundled incidents from the store;
    tests, benchmarks and exports of the bundled data itself read the file).

    Args:
        path: the bundled CSV.
    Returns:
        A point layer (see :func:`to_geodataframe`) with ``origin`` "bundled".
    Raises:
        IncidentDataError: listing every invalid row (line, column, reason).
    """
    return to_geodataframe(bundled_rows(path), "bundled")


def seed_bundled(store: IncidentStore, municipalities: gpd.GeoDataFrame | None = None,
                 path: Path = BUNDLED_INCIDENTS) -> bool:
    """Make the store hold the bundled incidents of ``path`` as one upload (format "bundled").

    Idempotent: nothing is written when a live bundled upload has the file's SHA-256. When the
    file changed, the old bundled upload is undone (rows another upload also holds stay) and the
    new file stored, each in one transaction.

    Args:
        store: an open :class:`geodata.store.IncidentStore`.
        municipalities: boundaries to locate the rows with (``None``: the alias table).
        path: the bundled CSV.
    Returns:
        True when the store was changed.
    Raises:
        IncidentDataError: if the bundled file is invalid.
        StoreError: if the store cannot be written.
    """
    from geodata.geo.enrich import locate_rows
    from geodata.store import UploadMeta

    data = Path(path).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    live = store.bundled_uploads()
    if any(h == sha for _, h in live):
        return False
    valid = bundled_rows(path)
    located = locate_rows(valid, municipalities)
    valid = valid.assign(municipality=located["municipality"], admin2_mismatch=located["admin2_mismatch"])
    for upload_id, _ in live:
        store.undo_upload(upload_id, allow_bundled=True)
    store.add_upload(valid, UploadMeta(Path(path).name, sha, BUNDLED_FORMAT, len(valid), 0, 0))
    return True


def empty_incidents() -> gpd.GeoDataFrame:
    """An incident layer with the right columns and no rows."""
    return to_geodataframe(validate_incidents(pd.DataFrame(columns=list(INCIDENT_COLUMNS))).valid)
