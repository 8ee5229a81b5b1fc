"""The durable incident store: SQLite by default, PostgreSQL/PostGIS for ``postgresql://`` URLs.

Both back-ends implement :class:`geodata.store.protocol.IncidentStore` (``add_upload``,
``list_uploads``, ``undo_upload``, ``read``, ``count``, ``facets``, ``data_version`` …) through
one shared base class (:mod:`geodata.store.base`); every SQL statement of conflictmap lives in
this package. Stores are context managers: ``with open_store(url) as s: ...``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, overload

from geodata.store.protocol import IncidentStore
from geodata._errors import UploadNotFound
from geodata.store.records import Proximity, StoreError, StoreFacets, UndoResult, UploadMeta
from geodata.store.sqlite import SQLiteStore

#: Kept for older imports: every store implements :class:`IncidentStore`.
Store = IncidentStore

__all__ = ["open_store", "IncidentStore", "Store", "StoreError", "StoreFacets", "UndoResult", "UploadMeta",
           "UploadNotFound", "Proximity", "SQLiteStore", "sqlite_path", "store_exists"]


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///path`` URL (``sqlite:////abs`` and ``sqlite:///rel`` both work).

    Raises:
        StoreError: if the URL is not a SQLite URL.
    """
    if not url.startswith("sqlite:///"):
        raise StoreError(f"not a SQLite URL: {url!r} (expected sqlite:///path/to/file.sqlite)")
    return Path(url[len("sqlite:///"):]).expanduser()


@overload
def open_store(url: str, create: Literal[True] = ...) -> IncidentStore: ...


@overload
def open_store(url: str, create: bool) -> IncidentStore | None: ...


def open_store(url: str, create: bool = True) -> IncidentStore | None:
    """Open the incident store named by ``url``.

    Args:
        url: ``sqlite:///path`` or ``postgresql://…`` (``postgres://`` also accepted).
        create: create the database/schema if missing; with ``False`` a store that does not
            exist yet gives ``None`` (nothing has been uploaded).
    Returns:
        A :class:`SQLiteStore` or :class:`geodata.store.postgis.PostGISStore`, or ``None``.
    Raises:
        StoreError: if the URL scheme is unknown or the store cannot be opened.
    """
    if url.startswith("sqlite:"):
        path = sqlite_path(url)
        if not path.exists():
            if not create:
                return None
            path.parent.mkdir(parents=True, exist_ok=True)
        return SQLiteStore(path)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from geodata.store.postgis import PostGISStore

        store = PostGISStore(url.replace("postgresql+psycopg://", "postgresql://"), create=create)
        if not create and store.schema_version() == 0:
            store.close()
            return None
        return store
    raise StoreError(f"unknown store URL {url!r}: use sqlite:///path or postgresql://user@host/db")


def store_exists(url: str) -> bool:
    """Whether the store named by ``url`` exists and has the conflictmap schema (nothing is created).

    Raises:
        StoreError: if the URL is unknown or the server cannot be reached.
    """
    store = open_store(url, create=False)
    if store is None:
        return False
    store.close()
    return True
