"""What a large incident store offers the filter widgets, from cheap SQL instead of every row.

The dashboard keeps a big store in the database (see ``CONFLICTMAP_PUSHDOWN_ROWS`` in
:mod:`geodata.settings`); its actor, municipality and date choices come from ``SELECT DISTINCT``
and ``MIN``/``MAX`` (indexed columns), so starting the dashboard never reads a million rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from geodata.filters import ACTOR_COLUMNS
from geodata.municipalities import canonical_municipality
from geodata.schema import split_multi


@dataclass(frozen=True)
class StoreFacets:
    """Counts and distinct values of the stored incidents (hashable: safe in Streamlit caches)."""

    count: int
    first: dt.date | None
    last: dt.date | None
    actors: tuple[str, ...]
    municipalities: tuple[str, ...]


def store_facets(store) -> StoreFacets:
    """Distinct actors (associated-actor lists split on ";"), stated municipalities (canonical
    names of the distinct ``admin2`` spellings), the date range and the row count of a store.

    Args:
        store: an open store (:func:`geodata.store.open_store`).
    Returns:
        A :class:`StoreFacets`; empty tuples and ``None`` dates for an empty store.
    """
    actors: set[str] = set()
    for col in ACTOR_COLUMNS:
        for cell in store.distinct_values(col):
            actors.update(split_multi(cell))
    # Unknown spellings give no municipality in geodata.enrich either.
    munis = {canonical_municipality(v) for v in store.distinct_values("admin2")}
    bounds = store.date_range()
    return StoreFacets(
        count=store.count_incidents(),
        first=bounds[0] if bounds else None,
        last=bounds[1] if bounds else None,
        actors=tuple(sorted(actors, key=str.casefold)),
        municipalities=tuple(sorted((m for m in munis if m), key=str.casefold)),
    )
