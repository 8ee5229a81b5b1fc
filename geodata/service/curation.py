"""The analyst workflow as one object for the command line and the dashboard (no Streamlit here).

:class:`CurationService` opens the configured store (seeding the bundled sources, statuses and
sequences once per version of those files) and offers what the ``verify``, ``sequences`` and
``duplicates`` commands and the dashboard's incident details and sequence page need.

Usage::

    with CurationService(get_settings()) as cur:
        cur.change_status("CM-XKX-0028", "disputed", who="ana", why="police said no arrests")
        shown = cur.annotate(incidents)
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Self

import geopandas as gpd
import pandas as pd

from geodata.curation.joined import Curation, annotate
from geodata.curation.duplicates import Decision, suggest_duplicates
from geodata.curation.sequences import Sequence
from geodata.curation.verification import StatusChange

if TYPE_CHECKING:
    from geodata.model.selection import Selection
    from geodata.store.curation_sql import CurationStore


def seed_bundled_curation(store: Any) -> "CurationStore":
    """The curation tables of ``store`` with the bundled verification, sources and sequences seeded
    (once per version of those files; the bundled incidents' ids and sources count as known).

    Raises:
        StoreError: if the store cannot be written.
        DataError: if a bundled curation file is invalid.
    """
    from geodata.ingest.bundled import BUNDLED_INCIDENTS
    from geodata.store.curation_sql import open_curation

    ids, sources = _bundled_known(BUNDLED_INCIDENTS.stat().st_mtime_ns)
    return open_curation(store, ids, sources)


@functools.lru_cache(maxsize=1)
def _bundled_known(_stamp: int) -> "tuple[frozenset[str], pd.DataFrame]":
    """The bundled incidents' ids and own sources, read once per version of the file (every store
    opening seeds the curation, so this sits on each dashboard rerun's path). Shared: do not mutate."""
    from geodata.ingest.bundled import BUNDLED_INCIDENTS
    from geodata.curation.sources import fallback_sources

    bundled = pd.read_csv(BUNDLED_INCIDENTS, usecols=["event_id_cnty", "source", "source_url"], dtype=str,
                          keep_default_na=False)
    return frozenset(bundled["event_id_cnty"]), fallback_sources(bundled)


class CurationService:
    """Sources, verification, sequences and duplicate decisions of the configured store.

    Args:
        settings: :class:`geodata.settings.Settings` (its ``db_url`` names the store).
        db_url: another store URL (the command line's ``--db``).
    """

    def __init__(self, settings: Any, db_url: str | None = None) -> None:
        self.settings = settings
        self.db_url = db_url or settings.db_url
        self._store: Any = None
        self._cur: CurationStore | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store connection (if opened)."""
        if self._store is not None:
            self._store.close()
            self._store, self._cur = None, None

    @property
    def tables(self) -> CurationStore:
        """The :class:`geodata.store.curation_sql.CurationStore`, opened and seeded on first use.

        Raises:
            StoreError: if the store cannot be opened or written.
            DataError: if a bundled curation file is invalid.
        """
        if self._cur is None:
            from geodata.store import open_store

            self._store = open_store(self.db_url, create=True)
            try:
                self._cur = seed_bundled_curation(self._store)
            except BaseException:
                self.close()
                raise
        return self._cur

    def data_version(self) -> str:
        """The store's change token (changes with every status change, merge, upload…)."""
        return str(self.tables.store.data_version())

    def curation(self) -> Curation:
        """Every curation table as a :class:`Curation`."""
        return self.tables.curation()

    def annotate(self, incidents: pd.DataFrame) -> pd.DataFrame:
        """``incidents`` with status, sources, sequence and aliases (:func:`geodata.curation.joined.annotate`)."""
        return annotate(incidents, self.curation())

    def change_status(self, event_id: str, status: str, who: str, why: str) -> StatusChange:
        """Record a status change (see :meth:`CurationStore.change_status`)."""
        return self.tables.change_status(event_id, status, who, why)

    def undo_status(self, event_id: str, who: str, why: str = "undo") -> StatusChange:
        """Undo the incident's latest status change."""
        return self.tables.undo_status(event_id, who, why)

    def history(self, event_id: str | None = None) -> list[StatusChange]:
        """Status changes, oldest first."""
        return self.tables.history(event_id)

    def sequences(self) -> list[Sequence]:
        """Stored sequences."""
        return self.tables.sequences()

    def suggestions(self, incidents: gpd.GeoDataFrame, across_datasets: bool = True) -> pd.DataFrame:
        """Possible duplicate pairs among ``incidents`` not yet decided or merged, never two steps of one sequence."""
        cur = self.tables
        merged = set(cur.aliases())
        live = incidents[~incidents["event_id_cnty"].astype(str).isin(merged).to_numpy()]
        return suggest_duplicates(live, across_datasets=across_datasets, exclude=cur.decisions().decided_pairs(),
                                  sequences=[q.event_ids for q in cur.sequences()])

    def decide(self, action: str, keep: str, alias: str, who: str, why: str = "") -> Decision:
        """Confirm (merge) or dismiss a pair."""
        return self.tables.decide(action, keep, alias, who, why)

    def undo_decision(self, decision_id: int, who: str, why: str = "undo") -> Decision:
        """Undo a confirm, dismiss or undo."""
        return self.tables.undo_decision(decision_id, who, why)

    def decisions(self) -> list[Decision]:
        """Every duplicate decision, oldest first."""
        return self.tables.decisions().decisions


def current_curation(settings: Any = None) -> Curation:
    """The curation to show: the store's (bundled curation seeded into it) when the store can be
    opened, else the bundled files alone — exports and popups still carry sources and statuses
    when the store is unavailable.

    Raises:
        DataError: if a bundled curation file is invalid.
    """
    from geodata._errors import StoreFailure
    from geodata.curation.joined import bundled_curation
    from geodata.settings import get_settings

    try:
        with CurationService(settings or get_settings()) as svc:
            return svc.curation()
    except StoreFailure:
        return bundled_curation()


def with_curation(incidents: pd.DataFrame, settings: Any = None) -> pd.DataFrame:
    """``incidents`` annotated with the current curation, unless it already is (then returned as is)."""
    if "verification_status" in incidents or "event_id_cnty" not in incidents:
        return incidents
    return annotate(incidents, current_curation(settings))


#: Up to this many incidents a selection's rows carry their curation (status, every source,
#: sequence): the size up to which maps draw full popups (:data:`layers.incidents.MARKER_LIMIT`).
CURATED_ROWS = 2_000


def curated(selection: Selection, settings: Any = None) -> Selection:
    """``selection`` with the curation in force attached, and joined to its rows when they are few
    enough for full popups (:data:`CURATED_ROWS`): drawing code gets what it shows and never opens
    the store (see :func:`current_curation` for what happens when the store is down).

    Raises:
        DataError: if a bundled curation file is invalid.
    """
    from dataclasses import replace

    curation = current_curation(settings)
    incidents = selection.incidents
    if len(incidents) <= CURATED_ROWS and "event_id_cnty" in incidents and "verification_status" not in incidents:
        incidents = annotate(incidents, curation)
    return replace(selection, incidents=incidents, curation=curation)
