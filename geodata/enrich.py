"""Spatial enrichment of incidents: municipality from coordinates, distances, proximity.

Every distance and buffer is computed in :data:`geodata.settings.METRIC_CRS` (UTM 34N, metres),
never in degrees or Web Mercator; over Kosovo UTM 34N distorts lengths by well under 0.1 %.
"""

from __future__ import annotations

from typing import Iterable

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.municipalities import canonical_municipality
from geodata.settings import METRIC_CRS

ENRICHMENT_COLUMNS = (
    "municipality", "admin2_mismatch", "nearest_route", "dist_route_m", "nearest_site", "dist_site_m",
)


def stated_municipality(incidents: pd.DataFrame) -> pd.Series:
    """The canonical name of each row's stated ``admin2`` (alias table), "" when unknown or absent."""
    if "admin2" not in incidents:
        return pd.Series("", index=incidents.index, dtype=object)
    lookup = {v: canonical_municipality(v) or "" for v in pd.unique(incidents["admin2"])}
    return incidents["admin2"].map(lookup).fillna("").astype(object)


def locate_rows(rows: pd.DataFrame, municipalities: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """``municipality`` and ``admin2_mismatch`` for plain rows with ``latitude``/``longitude`` (ingest).

    The enrichment stored with each incident (schema 3): computed once per upload, for that
    upload's rows only. See :func:`assign_municipality` for the rules.
    """
    if rows.empty:
        return pd.DataFrame({"municipality": pd.Series(dtype=object),
                             "admin2_mismatch": pd.Series(dtype="boolean")}, index=rows.index)
    points = gpd.GeoDataFrame(
        rows[["admin2"]] if "admin2" in rows else pd.DataFrame(index=rows.index),
        geometry=gpd.points_from_xy(rows["longitude"].astype(float), rows["latitude"].astype(float)),
        crs="EPSG:4326")
    return assign_municipality(points, municipalities)


def assign_municipality(incidents: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Find each incident's municipality from its coordinates and compare with its stated admin2.

    Args:
        incidents: point layer with an ``admin2`` column.
        municipalities: boundary layer with ``municipality``; ``None`` when not installed.
    Returns:
        DataFrame indexed like ``incidents`` with ``municipality`` (from coordinates; falls back to
        the canonical stated admin2 when boundaries are missing or the point lies outside them)
        and ``admin2_mismatch`` (True/False, or NA where it cannot be judged).
    """
    if "admin2" in incidents:
        # Each distinct spelling is resolved once: a million incidents name a few dozen places.
        lookup = {v: canonical_municipality(v) for v in pd.unique(incidents["admin2"])}
        stated = incidents["admin2"].map(lookup).astype(object)
    else:
        stated = pd.Series(None, index=incidents.index)
    out = pd.DataFrame(index=incidents.index)
    if municipalities is None or municipalities.empty or incidents.empty:
        out["municipality"] = stated.fillna("").astype(object)
        out["admin2_mismatch"] = pd.array([pd.NA] * len(incidents), dtype="boolean")
        return out
    joined = gpd.sjoin(
        incidents[["geometry"]], municipalities[["municipality", "geometry"]], how="left", predicate="within"
    )
    located = joined.groupby(level=0)["municipality"].first().reindex(incidents.index)
    out["municipality"] = located.fillna(stated).fillna("").astype(object)
    judgeable = located.notna() & stated.notna()
    mismatch = pd.array([pd.NA] * len(incidents), dtype="boolean")
    mismatch[judgeable.to_numpy()] = (located[judgeable] != stated[judgeable]).to_numpy()
    out["admin2_mismatch"] = mismatch
    return out


def nearest(
    incidents: gpd.GeoDataFrame, targets: gpd.GeoDataFrame | None, name_col: str
) -> tuple[pd.Series, pd.Series]:
    """Distance in metres from each incident to the nearest target feature, and that feature's name.

    Args:
        incidents: point layer (EPSG:4326).
        targets: lines or points (EPSG:4326); ``None`` or empty gives NaN distances.
        name_col: column of ``targets`` naming each feature.
    Returns:
        ``(names, distances_m)`` indexed like ``incidents``.
    """
    if targets is None or targets.empty or incidents.empty:
        return (pd.Series("", index=incidents.index, dtype=object),
                pd.Series(np.nan, index=incidents.index, dtype=float))
    pts = incidents[["geometry"]].to_crs(METRIC_CRS)
    tgt = targets[[name_col, "geometry"]].to_crs(METRIC_CRS)
    joined = gpd.sjoin_nearest(pts, tgt, how="left", distance_col="_dist")
    joined = joined[~joined.index.duplicated(keep="first")].reindex(incidents.index)
    return joined[name_col].fillna("").astype(object), joined["_dist"].astype(float)


def enrich_incidents(
    incidents: gpd.GeoDataFrame,
    municipalities: gpd.GeoDataFrame | None,
    routes: gpd.GeoDataFrame | None,
    sites: gpd.GeoDataFrame | None,
) -> gpd.GeoDataFrame:
    """Add :data:`ENRICHMENT_COLUMNS` to an incident layer (returns a new frame).

    Distances are metres in UTM 34N, rounded to the metre.
    """
    out = incidents.copy()
    muni = assign_municipality(out, municipalities)
    out["municipality"] = muni["municipality"]
    out["admin2_mismatch"] = muni["admin2_mismatch"]
    out["nearest_route"], dist_r = nearest(out, routes, "name")
    out["dist_route_m"] = dist_r.round()
    out["nearest_site"], dist_s = nearest(out, sites, "name_en")
    out["dist_site_m"] = dist_s.round()
    return out


def buffer_features(features: gpd.GeoDataFrame, km: float) -> gpd.GeoDataFrame:
    """Buffer features by ``km`` kilometres in the metric CRS; returned in EPSG:4326 for display.

    Raises:
        ValueError: if ``km`` is negative.
    """
    if km < 0:
        raise ValueError("buffer distance must not be negative")
    buffered = features.to_crs(METRIC_CRS).buffer(km * 1000.0)
    return gpd.GeoDataFrame(features.drop(columns="geometry"), geometry=buffered, crs=METRIC_CRS).to_crs(features.crs)


def within_km(incidents: gpd.GeoDataFrame, features: gpd.GeoDataFrame, km: float) -> pd.Series:
    """True for incidents within ``km`` kilometres of any of ``features`` (metric CRS).

    Raises:
        ValueError: if ``km`` is negative.
    """
    if km < 0:
        raise ValueError("distance must not be negative")
    if features.empty or incidents.empty:
        return pd.Series(False, index=incidents.index)
    pts = incidents.geometry.to_crs(METRIC_CRS)
    zone = features.to_crs(METRIC_CRS).geometry.union_all()
    return pd.Series(pts.dwithin(zone, km * 1000.0).to_numpy(), index=incidents.index)


def select_near(
    incidents: gpd.GeoDataFrame, features: gpd.GeoDataFrame, km: float, ids: Iterable[str] | None = None,
    id_col: str = "name",
) -> gpd.GeoDataFrame:
    """Incidents within ``km`` of the chosen features (all features when ``ids`` is None)."""
    chosen = features if ids is None else features[features[id_col].isin(list(ids))]
    return incidents[within_km(incidents, chosen, km)]
