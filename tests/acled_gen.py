"""Synthetic ACLED-shaped CSV files for size and crash tests (clearly synthetic: ids SYN…)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geodata.model.schema import ACLED_COLUMNS


def write_acled_csv(path: Path, n: int, seed: int = 1) -> Path:
    """Write ``n`` valid, distinct, synthetic ACLED-format rows (current generation) to ``path``."""
    rng = np.random.default_rng(seed)
    days = pd.Timestamp("2018-01-01") + pd.to_timedelta(rng.integers(0, 2000, n), unit="D")
    df = pd.DataFrame({c: "" for c in ACLED_COLUMNS}, index=range(n))
    df["event_id_cnty"] = [f"SYN{i}" for i in range(n)]
    df["event_date"] = days.strftime("%Y-%m-%d")
    df["year"] = days.year
    df["time_precision"] = 1
    df["disorder_type"] = "Political violence"
    df["event_type"] = "Battles"
    df["sub_event_type"] = "Armed clash"
    df["actor1"] = np.where(rng.random(n) < 0.5, "Synthetic Actor A", "Synthetic Actor B")
    df["inter1"] = "State forces"
    df["actor2"] = "Synthetic Actor C"
    df["inter2"] = "Political militia"
    df["interaction"] = "State forces-Political militia"
    df["iso"] = 0
    df["region"] = "Europe"
    df["country"] = "Kosovo"
    df["admin1"] = "Mitrovica"
    df["admin2"] = "Zvečan"
    df["location"] = "Synthetic place"
    df["latitude"] = np.round(42.8 + rng.random(n) * 0.3, 4)
    df["longitude"] = np.round(20.6 + rng.random(n) * 0.3, 4)
    df["geo_precision"] = 1
    df["source"] = "Synthetic source; Other synthetic source"
    df["source_scale"] = "National"
    df["notes"] = "Synthetic test row: security incident near a synthetic place, no real event."
    df["fatalities"] = rng.integers(0, 3, n)
    df["timestamp"] = 1700000000
    df.to_csv(path, index=False)
    return path
