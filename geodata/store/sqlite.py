"""The default incident store: one SQLite file in the data folder.

WAL journal and one transaction per upload: a crash or kill part-way leaves only uncommitted
WAL frames, which SQLite discards on the next open, so the store is exactly as before the upload.
Large uploads are first written to a scratch SQLite file in the system's temporary folder (through
ADBC, from Arrow), outside the store; only the ``INSERT … SELECT`` from it into the store runs in
the upload's transaction, so a crash during either step leaves the store unchanged.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
import tempfile
from pathlib import Path

from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from geodata.store.base import BaseStore
from geodata.store.migrations import Migration
from geodata.store.records import (
    STORED_COLUMNS, BatchHook, Proximity, StoreError, arrow_rows, batches, incidents_frame_from_arrow,
)

BATCH_ROWS = 50_000
#: Uploads of at least this many rows are staged through Arrow/ADBC (see SQLiteStore._staged).
STAGE_ROWS = 20_000
#: Schema name of the attached staging file.
STAGING = "conflictmap_staging"
#: Uploads at least this large into a smaller table rebuild the filter indexes instead of updating them.
BULK_ROWS = 100_000
#: Page cache (PRAGMA cache_size, negative = KiB) for reads, and for uploads: a large cache keeps
#: the five indexes' hot pages in memory while a big upload writes them.
READ_CACHE_KIB = -16384
UPLOAD_CACHE_KIB = -262144


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class SQLiteStore(BaseStore):
    """Incidents and uploads in a SQLite file (see :class:`geodata.store.base.BaseStore`).

    Attributes:
        path: the database file.
        last_query: SQL text of the latest incident read (for tests and diagnostics).
    """

    dialect = "sqlite"
    mark = "?"

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the database at ``path`` and migrate it forward.

        Raises:
            StoreError: if the file is not a SQLite database, cannot be written (read-only, disk
                full) or was written by a newer schema.
        """
        self.path = Path(path)
        self.last_query = ""
        self._adbc: Any = None  # Arrow reads (ADBC), opened on the first read
        try:
            # isolation_level=None: transactions are opened explicitly (BEGIN IMMEDIATE) so that
            # one upload is exactly one transaction.
            # check_same_thread=False: a service shared by Streamlit sessions (threads) serialises its
            # calls with a lock (geodata.service.incidents), so the connection is never used by two threads at once.
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30, check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the incident store {self.path}: {exc}") from exc
        try:
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            # A small page cache for reads: a full scan of a million incidents would otherwise
            # fill up to 256 MB per connection, which counts against the dashboard's memory.
            self.conn.execute(f"PRAGMA cache_size={READ_CACHE_KIB}")
            self._migrate()
        except sqlite3.Error as exc:
            self.conn.close()
            raise StoreError(f"cannot open the incident store {self.path}: {_reason(exc)}") from exc
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        """Close the connections."""
        self._close_adbc()
        self.conn.close()

    def schema_version(self) -> int:
        """The highest migration applied (0 for an empty database)."""
        row = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
        if row is None:
            return 0
        return int(self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])

    def _apply_migration(self, m: Migration) -> None:
        with self._write(f"cannot create or migrate the store schema (version {m.version})") as cur:
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version "
                        "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)")
            if cur.execute("SELECT 1 FROM schema_version WHERE version = ?", (m.version,)).fetchone():
                return  # another process applied it while we waited for the write lock
            for stmt in m.sqlite:
                cur.execute(stmt)
            cur.execute("INSERT INTO schema_version VALUES (?, ?, ?)", (m.version, m.description, _now()))

    # -- primitives --------------------------------------------------------------------------------
    def _date_param(self, d: dt.date) -> object:
        return d.isoformat()

    def _now_sql(self) -> str:
        return "strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')"

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[Any]:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{what} (nothing was changed): {_reason(exc)}") from exc
        try:
            yield self.conn.cursor()
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            raise StoreError(f"{what} (nothing was changed): {_reason(exc)}") from exc
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        """Roll back if a transaction is still open: SQLite already rolled back by itself after a
        full disk or an I/O error, and a second ROLLBACK would fail ("no transaction is active")."""
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, list(params)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the incident store {self.path}: {_reason(exc)}") from exc

    def _chunks(self, sql: str, params: Sequence[object], size: int) -> Iterator[list[tuple[Any, ...]]]:
        try:
            cur = self.conn.execute(sql, list(params))
            while rows := cur.fetchmany(size):
                yield rows
            cur.close()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read the incident store {self.path}: {_reason(exc)}") from exc

    def _read_frame(self, sql: str, params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
        """Incident reads go straight into Arrow through the ADBC SQLite driver when it is installed:
        no Python object per value (about 2-3x faster than sqlite3 rows at a million incidents). Any
        driver problem falls back to the sqlite3 path, which gives the same frame."""
        try:
            import adbc_driver_sqlite.dbapi as adbc
        except ImportError:
            return super()._read_frame(sql, params, columns)
        try:
            if self._adbc is None:
                # autocommit: each read sees the latest commits (no snapshot kept open between reads)
                self._adbc = adbc.connect(str(self.path), autocommit=True)
            with self._adbc.cursor() as cur:
                cur.execute(sql, list(params))
                table = cur.fetch_arrow_table()
            return incidents_frame_from_arrow(table, columns)
        except Exception:  # noqa: BLE001 (any driver or typing problem: the row path is always right)
            self._close_adbc()
            return super()._read_frame(sql, params, columns)

    def _close_adbc(self) -> None:
        if self._adbc is not None:
            with contextlib.suppress(Exception):
                self._adbc.close()
            self._adbc = None

    def _proximity_sql(self, near: Proximity) -> tuple[str, list[object]]:
        minx, miny, maxx, maxy = near.bbox
        return "longitude BETWEEN ? AND ? AND latitude BETWEEN ? AND ?", [minx, maxx, miny, maxy]

    def _insert_incidents(self, cur: Any, upload_id: int, cols: list[np.ndarray], after_batch: BatchHook | None,
                          labels: tuple[str, str] = ("", "")) -> int:
        names = ("upload_id",) + STORED_COLUMNS + ("dataset", "licence")
        sql = f"INSERT OR IGNORE INTO incidents ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        n = len(cols[0]) if cols else 0
        cols = cols + [np.full(n, labels[0], dtype=object), np.full(n, labels[1], dtype=object)]
        with self._upload_cache():
            rebuild, before = self._start_bulk(n)
            inserted = 0
            done = 0
            for count, rows in batches(cols, BATCH_ROWS, lead=upload_id):
                inserted += cur.executemany(sql, rows).rowcount
                done += count
                if after_batch:
                    after_batch(done)
            for stmt in rebuild:
                cur.execute(stmt)
            self._link_rows(cur, upload_id, before, inserted < n, lambda: ((k,) for k in cols[0]))
        return inserted

    @contextlib.contextmanager
    def _staged(self, valid: pd.DataFrame) -> Iterator[str | None]:
        """Large uploads are written first, outside the store, to a scratch SQLite file through ADBC
        (values bound straight from Arrow, no Python object per cell), which is then attached, so
        that one ``INSERT … SELECT`` inside the upload's transaction moves them into the store.
        That is several times faster than binding a million rows through :mod:`sqlite3`.

        Yields:
            The attached schema's name, or ``None`` (small upload, or no ADBC driver, or staging
            failed for any reason: the rows then take the ``executemany`` path, which stores the same).
        """
        if len(valid) < STAGE_ROWS:
            yield None
            return
        folder = tempfile.TemporaryDirectory(prefix="conflictmap-staging-")
        try:
            path = Path(folder.name) / "rows.sqlite"
            _write_staging(path, arrow_rows(valid))
            self.conn.execute(f"ATTACH DATABASE ? AS {STAGING}", (str(path),))
        except Exception:  # noqa: BLE001 (any driver, disk or typing problem: the row path is always right)
            folder.cleanup()
            yield None
            return
        try:
            yield STAGING
        finally:
            with contextlib.suppress(sqlite3.Error):
                self.conn.execute(f"DETACH DATABASE {STAGING}")
            folder.cleanup()

    def _insert_staged(self, cur: Any, upload_id: int, staged: Any, after_batch: BatchHook | None,
                       labels: tuple[str, str]) -> int:
        names = ", ".join(STORED_COLUMNS)
        n = int(cur.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {staged}.rows").fetchone()[0])
        with self._upload_cache():
            rebuild, before = self._start_bulk(n)
            inserted = 0
            for start in range(1, n + 1, BATCH_ROWS):
                stop = min(start + BATCH_ROWS - 1, n)
                # In file order (the staging rowids), so ids and the first of repeated keys are as before.
                cur.execute(f"INSERT OR IGNORE INTO incidents (upload_id, {names}, dataset, licence) "
                            f"SELECT ?, {names}, ?, ? FROM {staged}.rows WHERE rowid BETWEEN ? AND ? ORDER BY rowid",
                            (upload_id, labels[0], labels[1], start, stop))
                inserted += cur.rowcount
                if after_batch:
                    after_batch(stop)
            for stmt in rebuild:
                cur.execute(stmt)
            self._link_rows(cur, upload_id, before, inserted < n, None, staged)
        return inserted

    @contextlib.contextmanager
    def _upload_cache(self) -> Iterator[None]:
        """A large page cache while an upload writes (the indexes' hot pages stay in memory)."""
        self.conn.execute(f"PRAGMA cache_size={UPLOAD_CACHE_KIB}")
        try:
            yield
        finally:
            with contextlib.suppress(sqlite3.Error):  # never hide the upload's own error
                self.conn.execute(f"PRAGMA cache_size={READ_CACHE_KIB}")  # also frees the upload's pages

    def _start_bulk(self, n: int) -> tuple[list[str], int]:
        """Before inserting ``n`` rows: for a bulk load into a smaller table, drop the filter indexes.

        Returns:
            The statements that rebuild the dropped indexes (run them after the insert, in the same
            transaction) and the largest incident id before the insert.
        """
        rebuild = self._drop_secondary_indexes() if n >= BULK_ROWS and n > self._approx_rows() else []
        return rebuild, self._approx_rows()

    def _link_rows(self, cur: Any, upload_id: int, before: int, duplicates: bool,
                   keys: Callable[[], Iterable[tuple[str]]] | None, staged: str | None = None) -> None:
        """Link every row of the file to its upload (``upload_rows``): the new ones (ids above the
        old maximum, a range scan) and, when some keys were already stored, those another upload
        stored first (looked up by key: from the staging table, or from ``keys``)."""
        cur.execute("INSERT OR IGNORE INTO upload_rows (upload_id, incident_id) "
                    "SELECT ?, id FROM incidents WHERE id > ? AND upload_id = ?", (upload_id, before, upload_id))
        if not duplicates:
            return
        if staged is not None:
            cur.execute("INSERT OR IGNORE INTO upload_rows (upload_id, incident_id) SELECT ?, i.id "
                        f"FROM {staged}.rows k JOIN incidents i ON i.dedup_key = k.dedup_key", (upload_id,))
            return
        assert keys is not None
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS upload_keys (dedup_key TEXT PRIMARY KEY) WITHOUT ROWID")
        cur.execute("DELETE FROM upload_keys")
        cur.executemany("INSERT OR IGNORE INTO upload_keys VALUES (?)", keys())
        cur.execute("INSERT OR IGNORE INTO upload_rows (upload_id, incident_id) SELECT ?, i.id "
                    "FROM upload_keys k JOIN incidents i ON i.dedup_key = k.dedup_key", (upload_id,))
        cur.execute("DELETE FROM upload_keys")

    def _approx_rows(self) -> int:
        """Largest incident rowid (instant, unlike COUNT(*)): an upper bound of stored incidents."""
        return int(self.conn.execute("SELECT COALESCE(MAX(id), 0) FROM incidents").fetchone()[0])

    def _drop_secondary_indexes(self) -> list[str]:
        """Drop the filter indexes for a bulk load (inside the upload's transaction) and return
        the statements that recreate them. Building an index once after a large insert is faster
        than updating it row by row; the unique dedup index stays, INSERT OR IGNORE needs it."""
        rows = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'incidents' "
            "AND sql IS NOT NULL AND name != 'incidents_dedup_key'").fetchall()
        for name, _sql in rows:
            self.conn.execute(f'DROP INDEX "{name}"')  # names come from sqlite_master, not from input
        return [sql for _name, sql in rows]


def _write_staging(path: Path, table: Any) -> None:
    """Write ``table`` (:func:`geodata.store.records.arrow_rows`) to a new SQLite file as table ``rows``
    through the ADBC driver. A scratch file: no journal, no sync.

    Raises:
        ImportError: without the ``adbc_driver_sqlite`` package; any driver error as raised.
    """
    import adbc_driver_sqlite.dbapi as adbc

    with adbc.connect(str(path), autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("PRAGMA journal_mode=OFF")
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("BEGIN")
        cur.adbc_ingest("rows", table, mode="create")
        cur.execute("COMMIT")


def _reason(exc: sqlite3.Error) -> str:
    """SQLite's message in words a user can act on."""
    text = str(exc)
    if "disk is full" in text or getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
        return "the disk is full (free some space and try again)"
    if "readonly" in text or "read-only" in text:
        return "the store is read-only (check the file's permissions or the disk)"
    return text
