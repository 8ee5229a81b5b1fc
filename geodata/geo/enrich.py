"""Spatial enrichment of incidents: municipality from coordinates, distances, proximity.

Every distance and buffer is computed in :data:`geodata.settings.METRIC_CRS` (UTM 34N, metres),
never in degrees or Web Mercator; over Kosovo UTM 34N distorts lengths by well under 0.1 %.
"""

from __future__ import annotations

from typing import Callable, Iterable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.geo.municipalities import canonical_municipality
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
    admin2 = rows["admin2"] if "admin2" in rows else None
    x = rows["longitude"].to_numpy(dtype=float, na_value=np.nan)
    y = rows["latitude"].to_numpy(dtype=float, na_value=np.nan)
    return _municipality_frame(rows.index, admin2, lambda: _locate_xy(x, y, municipalities), municipalities)


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
    admin2 = incidents["admin2"] if "admin2" in incidents else None

    def locate() -> np.ndarray:
        geoms = incidents.geometry
        if geoms.notna().all() and (geoms.geom_type == "Point").all():
            return _locate_xy(geoms.x.to_numpy(dtype=float), geoms.y.to_numpy(dtype=float), municipalities)
        joined = gpd.sjoin(incidents[["geometry"]], municipalities[["municipality", "geometry"]],  # type: ignore[index]
                           how="left", predicate="within")
        return joined.groupby(level=0)["municipality"].first().reindex(incidents.index).to_numpy(dtype=object)

    return _municipality_frame(incidents.index, admin2, locate, municipalities)


def _municipality_frame(index: pd.Index, admin2: pd.Series | None, locate: Callable[[], np.ndarray],
                        municipalities: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """The rules of :func:`assign_municipality`, given the stated admin2 and a ``locate()`` that
    returns each row's municipality from its coordinates (``None`` outside every boundary)."""
    n = len(index)
    if admin2 is not None:
        # Each distinct spelling is resolved once: a million incidents name a few dozen places.
        codes, uniques = pd.factorize(admin2, use_na_sentinel=False)
        stated = np.array([canonical_municipality(v) for v in uniques] + [None], dtype=object)[codes]
    else:
        stated = np.full(n, None, dtype=object)
    has_stated = ~pd.isna(stated)
    out = pd.DataFrame(index=index)
    if municipalities is None or municipalities.empty or n == 0:
        out["municipality"] = pd.Series(np.where(has_stated, stated, ""), index=index, dtype=object)
        out["admin2_mismatch"] = pd.arrays.BooleanArray(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
        return out
    located = np.asarray(locate(), dtype=object)
    has_located = ~pd.isna(located)
    out["municipality"] = pd.Series(np.where(has_located, located, np.where(has_stated, stated, "")), index=index,
                                    dtype=object)
    judgeable = has_located & has_stated
    differs = np.zeros(n, dtype=bool)
    differs[judgeable] = located[judgeable] != stated[judgeable]
    out["admin2_mismatch"] = pd.arrays.BooleanArray(differs, ~judgeable)
    return out


def _locate_xy(x: np.ndarray, y: np.ndarray, municipalities: gpd.GeoDataFrame | None) -> np.ndarray:
    """The municipality whose polygon contains each point (longitude ``x``, latitude ``y``), ``None``
    where none does: the same answer as a spatial join with predicate "within" (a point on a
    boundary is in neither polygon; where polygons overlap the first one wins).

    Points are tested against each polygon's bounding box first (numpy), then against the prepared
    polygon with :func:`shapely.contains_xy`: no point object is made, which is what made the
    spatial join take seconds for a million rows.
    """
    found = np.full(len(x), -1, dtype=np.int64)
    if municipalities is None:
        return np.full(len(x), None, dtype=object)
    names = municipalities["municipality"].to_numpy(dtype=object)
    for i, geom in enumerate(municipalities.geometry.to_numpy()):
        if geom is None or geom.is_empty:
            continue
        minx, miny, maxx, maxy = geom.bounds
        todo = np.flatnonzero((found < 0) & (x >= minx) & (x <= maxx) & (y >= miny) & (y <= maxy))
        if len(todo):
            # A private copy is prepared: the boundaries are shared by every session of the dashboard.
            mine = shapely.from_wkb(shapely.to_wkb(geom))
            shapely.prepare(mine)
            found[todo[shapely.contains_xy(mine, x[todo], y[todo])]] = i
    out = np.full(len(x), None, dtype=object)
    hit = found >= 0
    out[hit] = names[found[hit]]
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
