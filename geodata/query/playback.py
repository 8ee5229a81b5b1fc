"""Time playback: cut a selection of incidents into days, weeks or months and step through them.

Periods are calendar periods: a day, an ISO week (Monday to Sunday) or a calendar month. Each
period is named by its first day (a :class:`datetime.date`), which is what the dashboard's slider
holds and what :func:`select_period` takes.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

#: Playback step -> pandas period frequency (weeks end on Sunday, i.e. start on Monday).
FREQUENCIES: dict[str, str] = {"day": "D", "week": "W-SUN", "month": "M"}


def _check(freq: str) -> str:
    if freq not in FREQUENCIES:
        raise ValueError(f"unknown step {freq!r}; expected one of {', '.join(FREQUENCIES)}")
    return FREQUENCIES[freq]


def period_starts(dates: pd.Series, freq: str) -> pd.Series:
    """The first day of the period each date falls in.

    Args:
        dates: datetimes (or values ``pd.to_datetime`` understands).
        freq: ``"day"``, ``"week"`` or ``"month"``.
    Returns:
        Series of normalised timestamps, indexed like ``dates``.
    Raises:
        ValueError: for an unknown ``freq``.
    """
    code = _check(freq)
    return pd.to_datetime(dates).dt.to_period(code).dt.start_time.dt.normalize()


def periods(dates: pd.Series, freq: str) -> list[dt.date]:
    """Every period from the first to the last date, empty ones included (time runs evenly).

    Args:
        dates: event dates of the selection.
        freq: ``"day"``, ``"week"`` or ``"month"``.
    Returns:
        First days of the periods, in order; empty when there are no dates.
    Raises:
        ValueError: for an unknown ``freq``.
    """
    code = _check(freq)
    d = pd.to_datetime(pd.Series(dates)).dropna()
    if d.empty:
        return []
    rng = pd.period_range(d.min().to_period(code), d.max().to_period(code), freq=code)
    return [p.start_time.date() for p in rng]


def period_end(start: dt.date, freq: str) -> dt.date:
    """Last day (inclusive) of the period beginning on ``start``."""
    code = _check(freq)
    return pd.Period(pd.Timestamp(start), freq=code).end_time.date()


def period_label(start: dt.date, freq: str) -> str:
    """Human label: ``2023-09-24``, ``week of 2023-09-18`` or ``Sep 2023``."""
    _check(freq)
    if freq == "day":
        return start.isoformat()
    if freq == "week":
        return f"week of {start.isoformat()}"
    return pd.Timestamp(start).strftime("%b %Y")


def select_period(incidents: pd.DataFrame, start: dt.date, freq: str, cumulative: bool) -> pd.DataFrame:
    """Incidents in the period beginning on ``start`` — or up to its end when ``cumulative``.

    Args:
        incidents: rows with an ``event_date`` column.
        start: first day of the period (one of :func:`periods`).
        freq: ``"day"``, ``"week"`` or ``"month"``.
        cumulative: True for everything up to and including the period.
    Returns:
        The matching rows (original index kept).
    Raises:
        ValueError: for an unknown ``freq``.
    """
    end = pd.Timestamp(period_end(start, freq))
    dates = pd.to_datetime(incidents["event_date"]).dt.normalize()
    mask = dates <= end
    if not cumulative:
        mask &= dates >= pd.Timestamp(start)
    return incidents[mask.to_numpy()]


def step(options: list[dt.date], current: dt.date | None, delta: int) -> dt.date | None:
    """The period ``delta`` steps from ``current``, clamped to the ends (None when no options)."""
    if not options:
        return None
    i = options.index(current) if current in options else 0
    return options[max(0, min(len(options) - 1, i + delta))]
