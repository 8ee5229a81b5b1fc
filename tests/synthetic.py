"""Clearly synthetic incident sets generated at test time (never saved, never real events).

Every row says it is synthetic: ids ``SYNTH-…``, notes "SYNTHETIC TEST RECORD", sources
"Synthetic generator N" with ``https://example.invalid/`` links.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.model.schema import EVENT_TYPES, INCIDENT_COLUMNS


def synthetic_incidents(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """``n`` synthetic incidents over northern Kosovo in the enriched incident schema."""
    rng = np.random.default_rng(seed)
    types = list(EVENT_TYPES)
    t = rng.integers(0, len(types), n)
    sub = [EVENT_TYPES[types[i]][0] for i in t]
    dates = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 730, n), unit="D")
    lat = rng.uniform(42.80, 43.25, n).round(5)
    lon = rng.uniform(20.40, 20.95, n).round(5)
    src = rng.integers(0, 20, n)
    place = rng.integers(0, 300, n)
    df = pd.DataFrame({c: [""] * n for c in INCIDENT_COLUMNS}, dtype=object)
    df["event_id_cnty"] = [f"SYNTH-{i:06d}" for i in range(n)]
    df["event_date"] = dates
    df["year"] = dates.year.astype("Int64")
    df["event_type"] = [types[i] for i in t]
    df["sub_event_type"] = sub
    df["actor1"] = "Synthetic actor A"
    df["actor2"] = "Synthetic actor B"
    df["location"] = [f"Synthetic place {p}" for p in place]
    df["admin2"] = "Zveçan"
    df["latitude"], df["longitude"] = lat, lon
    df["source"] = [f"Synthetic generator {s}" for s in src]
    df["source_url"] = [f"https://example.invalid/synthetic/{s}" for s in src]
    df["notes"] = "SYNTHETIC TEST RECORD — not a real event."
    df["fatalities"] = pd.array(rng.poisson(0.2, n), dtype="Int64")
    df["country"] = "Kosovo"
    df["origin"] = "synthetic"
    df["municipality"] = "Zveçan"
    return gpd.GeoDataFrame(df, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
