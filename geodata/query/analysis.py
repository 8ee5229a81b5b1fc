"""Summaries of a selection of incidents: key figures, timeline, breakdowns, table, click lookup.

Pure functions over (Geo)DataFrames, shared by the dashboard's analysis panels and anything else
that needs the same numbers. Nothing here renders HTML: the table keeps text as text and
``source_url`` only when it is an http(s) URL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from geodata.model.filters import ACTOR_COLUMNS
from geodata.query.playback import period_starts
from geodata.settings import METRIC_CRS, WGS84

#: Columns of the dashboard's incident table, in display order.
TABLE_COLUMNS: tuple[str, ...] = (
    "event_date", "event_type", "sub_event_type", "actor1", "actor2", "assoc_actor_1", "assoc_actor_2",
    "location", "municipality", "fatalities", "notes", "source", "source_url", "event_id_cnty",
    "verification_status", "source_count", "sequence",  # present when annotated (geodata.curation.joined)
)


@dataclass(frozen=True)
class KeyFigures:
    """Headline numbers of a selection."""

    incidents: int
    fatalities: int
    actors: int
    first: dt.date | None
    last: dt.date | None

    @property
    def span_days(self) -> int:
        """Days from the first to the last incident, both included (0 when empty)."""
        return 0 if self.first is None or self.last is None else (self.last - self.first).days + 1


def _actor_long(incidents: pd.DataFrame) -> pd.DataFrame:
    """One row per (incident, actor) pair, each actor counted once per incident.

    Cells are split on ";" (ACLED's multi-value separator, as :func:`geodata.model.schema.split_multi`)
    with vectorised string methods: this runs on every selection change.
    """
    cols = [c for c in ACTOR_COLUMNS if c in incidents]
    if incidents.empty or not cols:
        return pd.DataFrame({"incident": pd.Series(dtype=object), "actor": pd.Series(dtype=object)})
    parts = []
    for col in cols:
        cells = incidents[col].dropna().astype(str)
        cells = cells[cells.str.strip() != ""]
        if col.startswith("assoc"):
            cells = cells.str.split(";").explode()
        parts.append(cells.str.strip())
    long = pd.concat(parts) if parts else pd.Series(dtype=object)
    long = long[long != ""]
    frame = pd.DataFrame({"incident": long.index.to_numpy(), "actor": long.to_numpy(dtype=object)})
    return frame.drop_duplicates(ignore_index=True)


def actor_names(incidents: pd.DataFrame) -> set[str]:
    """The distinct actor names (primary and associated, ";"-lists split, stripped) of a selection.

    Each distinct *cell* is split once: a million incidents name a few thousand actors, so this
    costs one ``unique`` per column instead of a Python split per row.
    """
    names: set[str] = set()
    for col in (c for c in ACTOR_COLUMNS if c in incidents):
        for cell in pd.unique(incidents[col].dropna()):
            parts = str(cell).split(";") if col.startswith("assoc") else (str(cell),)
            names.update(p.strip() for p in parts)
    names.discard("")
    return names


def key_figures(incidents: pd.DataFrame) -> KeyFigures:
    """Incidents, fatalities, distinct actors (primary and associated) and date span of a selection."""
    if incidents.empty:
        return KeyFigures(0, 0, 0, None, None)
    dates = pd.to_datetime(incidents["event_date"])
    return KeyFigures(
        incidents=int(len(incidents)),
        fatalities=int(incidents["fatalities"].fillna(0).astype(int).sum()),
        actors=len(actor_names(incidents)),
        first=dates.min().date(),
        last=dates.max().date(),
    )


def timeline(incidents: pd.DataFrame, freq: str = "month") -> pd.DataFrame:
    """Incidents per period and event type, for a stacked timeline chart.

    Args:
        incidents: rows with ``event_date`` and ``event_type``.
        freq: ``"day"``, ``"week"`` or ``"month"``.
    Returns:
        DataFrame with ``period`` (first day, timestamp), ``event_type``, ``incidents`` and
        ``fatalities``; only non-empty (period, type) pairs, sorted by period.
    Raises:
        ValueError: for an unknown ``freq``.
    """
    cols = ["period", "event_type", "incidents", "fatalities"]
    if incidents.empty:
        period_starts(pd.Series([], dtype="datetime64[ns]"), freq)  # still validates freq
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    frame = pd.DataFrame({
        "period": period_starts(incidents["event_date"], freq).to_numpy(),
        "event_type": incidents["event_type"].to_numpy(),
        "fatalities": incidents["fatalities"].fillna(0).astype(int).to_numpy(),
    })
    out = frame.groupby(["period", "event_type"], as_index=False).agg(
        incidents=("fatalities", "size"), fatalities=("fatalities", "sum"))
    return out.sort_values(["period", "event_type"], ignore_index=True)[cols]


def breakdown(incidents: pd.DataFrame, by: str, top: int | None = None) -> pd.DataFrame:
    """Incidents and fatalities per category, largest first.

    Args:
        incidents: the selection.
        by: ``"actor"`` (any of actor1, actor2 and associated actors; an incident counts once for
            each actor involved) or a column name such as ``"event_type"`` or ``"municipality"``.
        top: keep only the first ``top`` rows.
    Returns:
        DataFrame with columns ``by``, ``incidents``, ``fatalities``; blank categories are
        reported as "(unknown)".
    Raises:
        KeyError: if ``by`` is neither "actor" nor a column of ``incidents``.
    """
    cols = [by, "incidents", "fatalities"]
    fat = incidents["fatalities"].fillna(0).astype(int) if "fatalities" in incidents else pd.Series(dtype=int)
    if by == "actor":
        long = _actor_long(incidents)
        keys, values = long["actor"], fat.reindex(long["incident"]).to_numpy()
    else:
        if by not in incidents:
            raise KeyError(by)
        keys = incidents[by].fillna("").astype(str).replace("", "(unknown)")
        values = fat.to_numpy()
    if len(keys) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    frame = pd.DataFrame({by: np.asarray(keys, dtype=object), "fatalities": values})
    out = frame.groupby(by, as_index=False).agg(incidents=("fatalities", "size"), fatalities=("fatalities", "sum"))
    out = out.sort_values(["incidents", "fatalities", by], ascending=[False, False, True], ignore_index=True)
    return (out.head(top) if top else out)[cols]


def http_url_or_none(value: object) -> str | None:
    """``value`` if it is an http(s) URL without spaces or quotes, else None (javascript:, data:, …)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    text = str(value).strip()
    lower = text.lower()
    if not lower.startswith(("http://", "https://")) or any(c in text for c in " \t\n\"'<>`"):
        return None
    return text


def table_view(incidents: pd.DataFrame, limit: int | None = None) -> pd.DataFrame:
    """The selection as a plain table for display (no geometry, dates as dates, safe links only).

    Args:
        incidents: the selection.
        limit: at most this many rows (the newest); ``None`` for all. Only the kept rows are
            converted, so a million-row selection costs a sort, not a million-row table.
    Returns:
        DataFrame with :data:`TABLE_COLUMNS` (those present), newest first; ``source_url`` is None
        unless it is an http(s) URL.
    """
    if limit is not None and len(incidents) > limit and "event_date" in incidents:
        dates = pd.Series(pd.to_datetime(incidents["event_date"]).to_numpy())
        newest = dates.sort_values(ascending=False, kind="stable").index[:limit]
        # Kept in their original order: the stable sort below then orders them as in the full table.
        incidents = incidents.iloc[np.sort(newest.to_numpy())]
    elif limit is not None and len(incidents) > limit:
        incidents = incidents.iloc[:limit]
    cols = [c for c in TABLE_COLUMNS if c in incidents]
    out = pd.DataFrame(incidents[cols]).copy()
    if "event_date" in out:
        out["event_date"] = pd.to_datetime(out["event_date"]).dt.date
    if "source_url" in out:
        # object dtype: missing links stay None (a string dtype would turn them into NaN).
        out["source_url"] = pd.Series([http_url_or_none(v) for v in out["source_url"]], index=out.index, dtype=object)
    if "fatalities" in out:
        out["fatalities"] = out["fatalities"].fillna(0).astype(int)
    if "event_date" in out:
        out = out.sort_values("event_date", ascending=False, kind="stable")
    return out


def nearest_incident(
    incidents: gpd.GeoDataFrame, lat: float, lng: float, max_m: float = 2_000.0
) -> pd.Series | None:
    """The incident nearest to a clicked point, if one lies within ``max_m`` metres.

    Distances are measured in :data:`geodata.settings.METRIC_CRS`. Ties (several incidents at the
    same place) go to the most recent one.

    Args:
        incidents: point layer (EPSG:4326), e.g. the incidents drawn on the map.
        lat, lng: the clicked position (WGS84 degrees).
        max_m: how far the click may be from the incident.
    Returns:
        The incident's row (with an added ``distance_m``), or None when none is close enough.
    """
    if incidents.empty or lat is None or lng is None:
        return None
    pts = incidents.geometry.to_crs(METRIC_CRS)
    click = gpd.GeoSeries([Point(float(lng), float(lat))], crs=WGS84).to_crs(METRIC_CRS).iloc[0]
    dist = pd.Series(pts.distance(click).to_numpy(), index=incidents.index)
    order = pd.DataFrame({"d": dist.round(1), "date": pd.to_datetime(incidents["event_date"])})
    best = order.sort_values(["d", "date"], ascending=[True, False], kind="stable").index[0]
    if dist[best] > max_m:
        return None
    row = incidents.loc[best].copy()
    row["distance_m"] = float(dist[best])
    return row


def integer_ticks(max_value: float, max_ticks: int = 6) -> list[int]:
    """Whole-number axis ticks from 0 up to at least ``max_value`` (counts never get "0.5" ticks).

    Args:
        max_value: the largest value the axis shows.
        max_ticks: at most this many ticks.
    Returns:
        E.g. ``[0, 1, 2, 3]`` for 3, ``[0, 5, 10, 15, 20]`` for 17; ``[0, 1]`` for 0 or less.
    """
    top = max(1, int(-(-max_value // 1)))  # ceiling; at least 1
    step = 1
    for m in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000):
        step = m
        if -(-top // m) + 1 <= max_ticks:
            break
    else:
        while -(-top // step) + 1 > max_ticks:
            step *= 10
    last = -(-top // step) * step
    return list(range(0, last + 1, step))


def count_label(n: int, singular: str, plural: str | None = None) -> str:
    """``"1 day"``, ``"2 days"``, ``"1,250 incidents"``: a count with its unit in the right number."""
    from geodata.model.precision import plural as _plural

    return f"{n:,} {_plural(n, singular, plural)}"
