"""Honest wording and areas for uncertain places and dates (ACLED geo_precision / time_precision).

ACLED codes ``geo_precision`` 1 (the named town or village), 2 (near a town / part of a region:
coordinates of the nearest town) and 3 (only the larger region is known); ``time_precision`` 1
(the day), 2 (a day within a week) and 3 (within a month). The map, the table and every export
call these functions, so the same words appear everywhere.

The uncertainty radii below are display conventions, not data: an area of plausible location
drawn around the coordinates so that a town-level point is not read as an exact spot.
"""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.settings import METRIC_CRS

#: Radius (metres) of the area of plausible location per geo_precision level (1 = exact: none).
UNCERTAINTY_RADIUS_M: dict[int, float] = {1: 0.0, 2: 5_000.0, 3: 25_000.0}
GEO_PRECISION_TEXT = {
    1: "location exact (named place)",
    2: "location approximate (town level)",
    3: "location approximate (region level)",
}


def _level(value: object) -> int:
    """geo/time precision as 1, 2 or 3 (unknown or blank counts as 1, as ACLED's default)."""
    try:
        v = int(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1
    return v if v in (1, 2, 3) else 1


def location_precision_text(geo_precision: object) -> str:
    """E.g. ``"location approximate (town level)"`` for geo_precision 2."""
    return GEO_PRECISION_TEXT[_level(geo_precision)]


def uncertainty_radius_m(geo_precision: object) -> float:
    """Radius in metres of the area of plausible location (0 for exact points)."""
    return UNCERTAINTY_RADIUS_M[_level(geo_precision)]


def _as_date(value: object) -> dt.date | None:
    if value is None:
        return None
    ts = pd.Timestamp(value) if not isinstance(value, pd.Timestamp) else value
    return None if pd.isna(ts) else ts.date()


def date_text(event_date: object, time_precision: object = 1) -> str:
    """The date as precisely as it is known.

    Returns:
        ``"2023-09-24"`` (precision 1), ``"week of 2025-03-03"`` (2: the Monday of that week) or
        ``"month of March 2025"`` (3); ``""`` when there is no date.
    """
    day = _as_date(event_date)
    if day is None:
        return ""
    level = _level(time_precision)
    if level == 2:
        return f"week of {(day - dt.timedelta(days=day.weekday())).isoformat()}"
    if level == 3:
        return f"month of {day.strftime('%B %Y')}"
    return day.isoformat()


def uncertainty_areas(incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Circles of plausible location (EPSG:4326) for incidents with geo_precision 2 or 3.

    Returns:
        GeoDataFrame indexed like the uncertain incidents, with ``geo_precision`` and ``radius_m``;
        empty when every location is exact. Buffered in the metric CRS.
    """
    if incidents.empty or "geo_precision" not in incidents:
        return gpd.GeoDataFrame({"geo_precision": [], "radius_m": []}, geometry=[], crs=incidents.crs)
    levels = incidents["geo_precision"].map(_level)
    sub = incidents[levels > 1]
    radius = levels[levels > 1].map(UNCERTAINTY_RADIUS_M).astype(float)
    areas = sub.geometry.to_crs(METRIC_CRS).buffer(radius.to_numpy(), quad_segs=16).to_crs(incidents.crs)
    return gpd.GeoDataFrame({"geo_precision": levels[levels > 1], "radius_m": radius}, geometry=areas,
                            crs=incidents.crs)


def proximity_classes(incidents: gpd.GeoDataFrame, features: gpd.GeoDataFrame, km: float) -> pd.Series:
    """Tell "within X km" from "possibly within X km" for each incident.

    An incident is ``"within"`` when its point lies within ``km`` of any feature, ``"possibly"``
    when only its area of plausible location (:func:`uncertainty_radius_m`) reaches that distance,
    and ``"outside"`` otherwise. Distances are computed in the metric CRS.

    Args:
        incidents: point layer (EPSG:4326) with ``geo_precision`` (missing means exact).
        features: lines or points to measure from.
        km: the buffer distance in kilometres.
    Returns:
        Series of ``"within"`` / ``"possibly"`` / ``"outside"`` indexed like ``incidents``.
    Raises:
        ValueError: if ``km`` is negative.
    """
    if km < 0:
        raise ValueError("distance must not be negative")
    out = pd.Series("outside", index=incidents.index, dtype=object)
    if incidents.empty or features is None or features.empty:
        return out
    zone = features.to_crs(METRIC_CRS).geometry.union_all()
    dist = incidents.geometry.to_crs(METRIC_CRS).distance(zone).to_numpy()
    levels = incidents["geo_precision"] if "geo_precision" in incidents else pd.Series(1, index=incidents.index)
    radius = levels.map(uncertainty_radius_m).to_numpy(dtype=float)
    limit = km * 1000.0
    out[:] = np.where(dist <= limit, "within", np.where(dist - radius <= limit, "possibly", "outside"))
    return out


def proximity_counts(classes: pd.Series) -> dict[str, int]:
    """Counts for :func:`proximity_classes` output: ``{"within": n, "possibly": m}``."""
    return {"within": int((classes == "within").sum()), "possibly": int((classes == "possibly").sum())}


def proximity_text(classes: pd.Series, km: float) -> str:
    """E.g. ``"3 incidents within 2 km, 4 more possibly within 2 km (approximate locations)"``."""
    c = proximity_counts(classes)
    k = f"{km:g} km"
    text = f"{c['within']:,} {plural(c['within'], 'incident')} within {k}"
    if c["possibly"]:
        text += f", {c['possibly']:,} more possibly within {k} (approximate locations)"
    return text


def plural(n: int, word: str, plural_form: str | None = None) -> str:
    """``word`` or its plural for ``n`` (``plural(1, "day")`` → "day", ``plural(2, "day")`` → "days")."""
    return word if n == 1 else (plural_form or word + "s")


def precision_columns(incidents: pd.DataFrame) -> pd.DataFrame:
    """The wording of each incident's date and location precision, for tables and exports.

    Args:
        incidents: rows with ``event_date`` and, optionally, ``time_precision`` / ``geo_precision``.
    Returns:
        DataFrame indexed like ``incidents`` with ``date_as_known`` ("2023-09-24", "week of …",
        "month of …") and ``location_precision`` ("location exact (named place)", …).
    """
    tp = incidents["time_precision"] if "time_precision" in incidents else pd.Series(1, index=incidents.index)
    gp = incidents["geo_precision"] if "geo_precision" in incidents else pd.Series(1, index=incidents.index)
    return pd.DataFrame({
        "date_as_known": [date_text(d, t) for d, t in zip(incidents["event_date"], tp)],
        "location_precision": [location_precision_text(g) for g in gp],
    }, index=incidents.index)
