"""Clearly synthetic, ACLED-shaped incident tables over Kosovo, for benchmarks only.

Every row is marked as synthetic three ways: ``notes`` is "SYNTHETIC benchmark row",
``source_url`` points at ``https://example.invalid/`` (a reserved domain that can never
resolve) and ``event_id_cnty`` starts with ``SYN``. Actors and places are invented
("Synthetic actor 17", "Synthetic place 123"), so nothing here can be mistaken for a real
incident. Files are written as the ACLED export tool writes them (UTF-8 BOM, dates like
"24 September 2023", the 31 ACLED columns plus ``source_url``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geodata.model.schema import ACLED_COLUMNS, EVENT_TYPES, INCIDENT_COLUMNS

SYNTHETIC_NOTE = "SYNTHETIC benchmark row"
SYNTHETIC_URL = "https://example.invalid/synthetic-incident/"

#: Points cluster around these (lat, lon) centres, as real incidents cluster around towns;
#: the rest are spread over Kosovo's extent.
_CENTRES = ((42.89, 20.87), (42.91, 20.86), (43.04, 20.83), (42.86, 20.66), (43.19, 20.80),
            (42.66, 21.16), (42.21, 20.74), (42.66, 20.29), (42.46, 21.47), (42.38, 20.43))
_MUNIS = ("North Mitrovica", "Zveçan", "Zubin Potok", "Leposaviq", "Mitrovica", "Pristina", "Prizren",
          "Peja", "Gjilan", "Gjakova")
#: Actor pool size; actor 0 appears in ~1 in 30 rows, as a frequently-named actor does.
N_ACTORS = 200


def actor_name(i: int) -> str:
    """The name of synthetic actor ``i``."""
    return f"Synthetic actor {i}"


def generate(n: int, seed: int = 2023) -> pd.DataFrame:
    """Return ``n`` synthetic ACLED-shaped rows (all text columns as str, dates ISO).

    Args:
        n: number of rows.
        seed: random seed, so a size always yields the same table.
    Returns:
        DataFrame with :data:`geodata.model.schema.INCIDENT_COLUMNS`.
    """
    rng = np.random.default_rng(seed)
    subs = [(t, s) for t, ss in EVENT_TYPES.items() for s in ss]
    # Skewed towards the types that dominate Kosovo's record (protests, strategic developments).
    weights = np.array([3 if t in ("Protests", "Strategic developments") else 1 for t, _ in subs], float)
    pick = rng.choice(len(subs), size=n, p=weights / weights.sum())
    etype = np.array([t for t, _ in subs], dtype=object)[pick]
    stype = np.array([s for _, s in subs], dtype=object)[pick]

    centre = rng.integers(0, len(_CENTRES), n)
    spread = rng.random(n) < 0.25
    clat = np.array([c[0] for c in _CENTRES])[centre]
    clon = np.array([c[1] for c in _CENTRES])[centre]
    lat = np.where(spread, rng.uniform(41.9, 43.2, n), clat + rng.normal(0, 0.04, n))
    lon = np.where(spread, rng.uniform(20.1, 21.7, n), clon + rng.normal(0, 0.05, n))

    days = pd.Timestamp("2015-01-01") + pd.to_timedelta(rng.integers(0, 4380, n), unit="D")
    # Zipf-like actor popularity: a few actors appear often, most rarely.
    actor_p = 1.0 / np.arange(1, N_ACTORS + 1)
    actor_p /= actor_p.sum()
    names = np.array([actor_name(i) for i in range(N_ACTORS)], dtype=object)
    a1 = names[rng.choice(N_ACTORS, n, p=actor_p)]
    a2 = np.where(rng.random(n) < 0.5, names[rng.choice(N_ACTORS, n, p=actor_p)], "")
    pair = names[rng.choice(N_ACTORS, n, p=actor_p)] + "; " + names[rng.choice(N_ACTORS, n, p=actor_p)]
    r = rng.random(n)
    assoc1 = np.where(r < 0.15, pair, np.where(r < 0.4, names[rng.choice(N_ACTORS, n, p=actor_p)], ""))
    fat = np.where(rng.random(n) < 0.9, 0, rng.integers(1, 12, n))
    muni_idx = np.minimum(centre, len(_MUNIS) - 1)
    places = np.array([f"Synthetic place {i}" for i in range(500)], dtype=object)

    ids = np.arange(n)
    df = pd.DataFrame({
        "event_id_cnty": pd.Series(ids).map("SYN{:07d}".format),
        "event_date": days.strftime("%Y-%m-%d"),
        "year": days.year.astype(str),
        "time_precision": "1",
        "disorder_type": np.where(etype == "Protests", "Demonstrations",
                                  np.where(etype == "Strategic developments", "Strategic developments",
                                           "Political violence")),
        "event_type": etype, "sub_event_type": stype,
        "actor1": a1, "assoc_actor_1": assoc1, "inter1": "State forces",
        "actor2": a2, "assoc_actor_2": "", "inter2": np.where(a2 == "", "", "Civilians"),
        "interaction": "State forces-Civilians", "civilian_targeting": "",
        "iso": "0", "region": "Europe", "country": "Kosovo", "admin1": "Synthetic region",
        "admin2": np.array(_MUNIS, dtype=object)[muni_idx], "admin3": "",
        "location": places[rng.integers(0, len(places), n)],
        "latitude": np.round(lat, 4).astype(str), "longitude": np.round(lon, 4).astype(str),
        "geo_precision": "1", "source": "Synthetic source", "source_scale": "National",
        "notes": SYNTHETIC_NOTE, "fatalities": fat.astype(str), "tags": "",
        "timestamp": "1700000000",
        "source_url": SYNTHETIC_URL + pd.Series(ids).astype(str),
    })
    return df[list(INCIDENT_COLUMNS)]


def write_acled_csv(df: pd.DataFrame, path: Path) -> Path:
    """Write ``df`` as an ACLED export-tool CSV: UTF-8 BOM, "24 September 2023" dates.

    The date text is produced once per distinct day (a few thousand), not per row.
    """
    out = df.copy()
    days = pd.to_datetime(out["event_date"])
    uniq = pd.Series(days.unique())
    text = dict(zip(uniq, uniq.dt.day.astype(str) + uniq.dt.strftime(" %B %Y")))
    out["event_date"] = days.map(text)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    out[list(ACLED_COLUMNS) + ["source_url"]].to_csv(tmp, index=False, encoding="utf-8-sig")
    tmp.replace(path)
    return path


def synthetic_csv(n: int, folder: Path, seed: int = 2023) -> Path:
    """Path of the synthetic ACLED CSV with ``n`` rows in ``folder``, generating it if missing."""
    path = folder / f"synthetic_acled_{n}_{seed}.csv"
    if not path.exists():
        write_acled_csv(generate(n, seed), path)
    return path
