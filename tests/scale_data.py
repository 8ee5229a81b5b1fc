"""Small synthetic incident layers for the scale tests (built in code, never from shared files)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box

from geodata.ingest.bundled import to_geodataframe
from geodata.model.schema import EVENT_TYPES
from geodata.ingest.validation import validate_incidents

TYPES = list(EVENT_TYPES)
SUB = {t: subs[0] for t, subs in EVENT_TYPES.items()}


def incidents(n: int, seed: int = 0, lat=(42.6, 43.2), lon=(20.4, 21.0)) -> gpd.GeoDataFrame:
    """``n`` validated synthetic incidents (random types, fatalities, places) as a point layer."""
    rng = np.random.default_rng(seed)
    types = np.array(TYPES, dtype=object)[rng.integers(0, len(TYPES), n)]
    raw = pd.DataFrame({
        "event_id_cnty": [f"SYN{i}" for i in range(n)],
        "event_date": (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 1500, n), unit="D")).strftime("%Y-%m-%d"),
        "event_type": types,
        "sub_event_type": [SUB[t] for t in types],
        "actor1": [f"Synthetic actor {i}" for i in rng.integers(0, 20, n)],
        "latitude": np.round(rng.uniform(*lat, n), 4).astype(str),
        "longitude": np.round(rng.uniform(*lon, n), 4).astype(str),
        "fatalities": rng.integers(0, 4, n).astype(str),
        "location": [f"Synthetic place {i}" for i in rng.integers(0, 50, n)],
        "notes": "SYNTHETIC test row",
        "source": [f"Synthetic source {i}" for i in rng.integers(0, 30, n)],
        # a distinct report URL per incident: the worst case for the page size
        "source_url": [f"https://example.invalid/synthetic/{i}" for i in range(n)],
    })
    result = validate_incidents(raw)
    assert not result.errors
    return to_geodataframe(result.valid, "test")


def two_boxes() -> gpd.GeoDataFrame:
    """Two overlapping rectangular 'municipalities' and a third far away (no incidents)."""
    return gpd.GeoDataFrame(
        {"municipality": ["West", "East", "Elsewhere"]},
        geometry=[box(20.4, 42.6, 20.75, 43.2), box(20.7, 42.6, 21.0, 43.0), box(10, 10, 11, 11)],
        crs="EPSG:4326",
    )
