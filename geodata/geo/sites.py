"""Monastery and religious sites: the bundled, sourced point layer."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata._errors import DataError
from geodata.geo.municipalities import canonical_municipality
from geodata.settings import BUNDLED_DIR, WGS84

BUNDLED_SITES = BUNDLED_DIR / "sites.csv"
SITE_COLUMNS = (
    "site_id", "name_en", "name_sq", "name_sr", "site_type", "municipality", "latitude", "longitude",
    "unesco_status", "founded", "source_url", "notes",
)


class SiteDataError(DataError):
    """The sites file is missing columns or has invalid rows."""


def load_sites(path: Path = BUNDLED_SITES) -> gpd.GeoDataFrame:
    """Load religious sites as a point layer.

    Args:
        path: CSV with :data:`SITE_COLUMNS`.
    Returns:
        GeoDataFrame in EPSG:4326; ``municipality`` resolved to its canonical name.
    Raises:
        SiteDataError: on missing columns, bad coordinates, unknown municipality or non-http(s) source.
    """
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SiteDataError(f"cannot read sites file {path}: {exc}") from exc
    missing = [c for c in SITE_COLUMNS if c not in df.columns]
    if missing:
        raise SiteDataError(f"{path} lacks columns: {', '.join(missing)}")
    problems: list[str] = []
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    canon = df["municipality"].map(canonical_municipality)
    for i in range(len(df)):
        line = i + 2
        if not (-90 <= lat.iat[i] <= 90 and -180 <= lon.iat[i] <= 180):
            problems.append(f"line {line}: bad coordinates")
        if canon.iat[i] is None:
            problems.append(f"line {line}: unknown municipality {df['municipality'].iat[i]!r}")
        if not str(df["source_url"].iat[i]).startswith(("http://", "https://")):
            problems.append(f"line {line}: source_url must be http(s)")
        if not df["name_en"].iat[i].strip():
            problems.append(f"line {line}: missing name_en")
    if problems:
        raise SiteDataError(f"{path}: " + "; ".join(problems))
    df["municipality"] = canon
    df["latitude"], df["longitude"] = lat, lon
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)
