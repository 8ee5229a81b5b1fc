"""The incident store's interface: what every back-end (SQLite, PostGIS) offers the service.

Only :mod:`geodata.service.incidents` and the ingest pipeline talk to a store; they rely on this protocol,
never on a back-end's connection or dialect.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import pandas as pd

from geodata.model.filters import FilterSpec
from geodata.store.records import BatchHook, Proximity, StoreFacets, UndoResult, UploadMeta

if TYPE_CHECKING:  # the base class implements this protocol; only its Locator alias is needed here
    from geodata.store.base import Locator


@runtime_checkable
class IncidentReads(Protocol):
    """The read verbs: what :class:`IncidentStore` and its columnar copy
    (:class:`geodata.store.columnar.Reads`) both answer, with the same results."""

    def read(self, spec: FilterSpec | None = None, columns: Sequence[str] | None = None,
             near: Proximity | None = None, *, order: bool | None = None, limit: int | None = None,
             uploads: Sequence[int] | None = None) -> pd.DataFrame:
        """See :meth:`IncidentStore.read`."""
        ...

    def count(self, spec: FilterSpec | None = None, near: Proximity | None = None) -> int:
        """See :meth:`IncidentStore.count`."""
        ...

    def facets(self, uploads: Sequence[int] | None = None) -> StoreFacets:
        """See :meth:`IncidentStore.facets`."""
        ...


@runtime_checkable
class IncidentStore(Protocol):
    """A durable store of incidents and the uploads that brought them.

    Every method raises :class:`geodata.store.StoreError` when the database cannot be read or
    written; a failed write changes nothing.
    """

    dialect: str
    last_query: str

    def add_upload(self, valid: pd.DataFrame, meta: UploadMeta,
                   after_batch: BatchHook | None = None) -> tuple[int, int, int]:
        """Store validated (and enriched) rows as one upload in one transaction.

        Args:
            valid: validated rows (with ``municipality``/``admin2_mismatch`` when enriched).
            meta: the upload's provenance and counts.
            after_batch: called inside the transaction after each batch with the rows written so far.
        Returns:
            ``(upload id, incidents inserted, rows whose incident was stored already)``.
        """
        ...

    def list_uploads(self) -> pd.DataFrame:
        """Every upload, newest first (id, file_name, sha256, format, counts, status, dates)."""
        ...

    def undo_upload(self, upload_id: int, *, allow_bundled: bool = False) -> UndoResult:
        """Remove the upload's incidents that no other live upload holds.

        Args:
            upload_id: the upload.
            allow_bundled: also undo the bundled data's upload (only when it is re-seeded).
        Returns:
            What was removed and kept.
        Raises:
            UploadNotFound: no such live upload (or it is the bundled data).
        """
        ...

    def read(self, spec: FilterSpec | None = None, columns: Sequence[str] | None = None,
             near: Proximity | None = None, *, order: bool | None = None, limit: int | None = None,
             uploads: Sequence[int] | None = None) -> pd.DataFrame:
        """The incidents the store-side part of ``spec`` selects, ``columns`` only (at most ``limit``
        rows), read in chunks.

        Args:
            spec: the selection (``None``: every incident); see :func:`geodata.store.records.filter_sql`.
            columns: readable columns (``None``: every incident column).
            near: a proximity restriction (a superset on SQLite).
            order: sort by date and id (``None``: only when every column is read).
            limit: at most this many rows.
            uploads: only incidents of these uploads (read through the upload index).
        Returns:
            Typed incident columns plus ``origin`` ("upload:<id>").
        Raises:
            ValueError: for an unknown column name or a negative ``limit``.
        """
        ...

    def count(self, spec: FilterSpec | None = None, near: Proximity | None = None) -> int:
        """How many incidents the store-side part of ``spec`` selects (``near``: as :meth:`read`)."""
        ...

    def facets(self, uploads: Sequence[int] | None = None) -> StoreFacets:
        """Distinct actors and municipalities, date range and count (of ``uploads``' incidents only,
        when given)."""
        ...

    def added_uploads(self, since: str, *, rows_only: bool = False) -> tuple[int, ...] | None:
        """The uploads that are the only changes since data version ``since`` (``None``: other changes;
        ``rows_only``: changes that leave the incident rows as they were do not count)."""
        ...

    def municipality_counts(self, spec: FilterSpec | None = None) -> pd.DataFrame:
        """Incidents and fatalities per stored municipality."""
        ...

    def data_version(self) -> str:
        """A token that changes whenever any process changes the data."""
        ...

    def fill_municipalities(self, locate: Locator, *, only_missing: bool = True) -> int:
        """(Re)compute the stored municipality of incidents.

        Args:
            locate: gives ``municipality`` and ``admin2_mismatch`` for rows with admin2 and coordinates.
            only_missing: only incidents never enriched (``False``: every incident).
        Returns:
            Rows updated.
        """
        ...

    def get_meta(self, key: str) -> str | None:
        """A store setting."""
        ...

    def set_meta(self, key: str, value: str) -> None:
        """Save a store setting."""
        ...

    def bundled_uploads(self) -> list[tuple[int, str]]:
        """(id, sha256) of every live upload holding the bundled incidents, newest first."""
        ...

    def schema_version(self) -> int:
        """The highest migration applied."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...

    def __enter__(self) -> "IncidentStore":
        ...

    def __exit__(self, *exc: object) -> None:
        ...
