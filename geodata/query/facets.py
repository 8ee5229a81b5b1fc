"""What the incident store offers the filter widgets, from cheap SQL instead of every row.

Deprecated module: :meth:`geodata.service.incidents.IncidentService.facets` is the entry point; the SQL
(``SELECT DISTINCT``/``MIN``/``MAX`` on indexed columns) lives in :meth:`geodata.store.base.BaseStore.facets`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from geodata.store.records import StoreFacets

if TYPE_CHECKING:
    from geodata.store.protocol import IncidentStore

__all__ = ["StoreFacets", "store_facets"]


def store_facets(store: IncidentStore) -> StoreFacets:
    """Distinct actors (";"-lists split), stored municipalities, the date range and the row count.

    Args:
        store: an open :class:`geodata.store.IncidentStore`.
    Returns:
        A :class:`StoreFacets`; empty tuples and ``None`` dates for an empty store.
    """
    return store.facets()
