"""Checks that need more than one row's cells: stated municipality versus coordinates, repeated rows."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.geo.enrich import assign_municipality
from geodata.ingest.bundled import to_geodataframe
from geodata.ingest.validation import RowIssue


def municipality_warnings(valid: pd.DataFrame, municipalities: gpd.GeoDataFrame | None) -> list[RowIssue]:
    """Warn (never reject) where a row's stated ``admin2`` disagrees with its coordinates.

    Args:
        valid: validated rows with their ``line`` column.
        municipalities: official boundaries (:func:`geodata.geo.boundaries.read_municipalities`);
            ``None`` when not installed, in which case nothing can be judged.
    Returns:
        One warning per disagreeing row.
    """
    if municipalities is None or municipalities.empty or valid.empty:
        return []
    stated = valid["admin2"].astype(str).str.strip().ne("")
    if not stated.any():
        return []
    rows = valid.loc[stated]
    gdf = to_geodataframe(rows, "upload")
    gdf["admin2"] = rows["admin2"].to_numpy()
    found = assign_municipality(gdf, municipalities)
    bad = found["admin2_mismatch"].fillna(False).astype(bool)
    return [
        RowIssue(int(rows["line"].iat[i]), "admin2",
                 f"stated municipality {str(rows['admin2'].iat[i])[:60]!r} disagrees with the coordinates, "
                 f"which lie in {found['municipality'].iat[i]!r}", "warning")
        for i in map(int, bad.to_numpy().nonzero()[0])
    ]


def duplicate_warnings(valid: pd.DataFrame) -> list[RowIssue]:
    """Name the lines of within-file duplicates: a row whose ``event_id_cnty`` (or, without an id,
    whose content) repeats an earlier row of the same file is stored once.

    Ids are compared exactly, case included: ACLED's ids are case-sensitive (``XKX1`` and ``xkx1``
    are two events).

    Args:
        valid: validated rows with their ``line`` column.
    Returns:
        One warning per repeated row, naming the line it repeats.
    """
    if valid.empty:
        return []
    from geodata.store.records import dedup_keys

    keys = dedup_keys(valid).reset_index(drop=True)
    lines = valid["line"].reset_index(drop=True)
    repeated = keys.duplicated(keep="first")
    if not repeated.any():
        return []
    first_line = lines.groupby(keys).transform("first")
    return [
        RowIssue(int(lines.iat[i]), "event_id_cnty",
                 f"duplicate of line {int(first_line.iat[i])} in this file; stored once", "warning")
        for i in map(int, np.flatnonzero(repeated.to_numpy()))
    ]
