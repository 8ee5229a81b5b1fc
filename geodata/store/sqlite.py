"""The default incident store: one SQLite file in the data folder.

WAL journal and one transaction per upload: a crash or kill part-way leaves only uncommitted
WAL frames, which SQLite discards on the next open, so the store is exactly as before the upload.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import sqlite3
from pathlib import Path

import pandas as pd

from geodata.filters import FilterSpec
from geodata.store.migrations import LATEST_VERSION, MIGRATIONS
from geodata.store.records import (
    STORED_COLUMNS, UPLOAD_COLUMNS, BatchHook, StoreError, UploadMeta, batches, checked_column, filter_sql,
    incidents_frame_from_chunks, READ_CHUNK_ROWS, row_columns, select_sql, uploads_frame,
)

BATCH_ROWS = 50_000
#: Uploads at least this large into a smaller table rebuild the filter indexes instead of updating them.
BULK_ROWS = 100_000
#: Page cache (PRAGMA cache_size, negative = KiB) for reads, and for uploads: a large cache keeps
#: the five indexes' hot pages in memory while a big upload writes them.
READ_CACHE_KIB = -16384
UPLOAD_CACHE_KIB = -262144


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class SQLiteStore:
    """Incidents and uploads in a SQLite file.

    Attributes:
        path: the database file.
        last_query: SQL text of the latest :meth:`read_incidents` (for tests and diagnostics).
    """

    dialect = "sqlite"

    def __init__(self, path: Path) -> None:
        """Open (creating if needed) the database at ``path`` and migrate it forward.

        Raises:
            StoreError: if the file is not a SQLite database or was written by a newer schema.
        """
        self.path = Path(path)
        self.last_query = ""
        try:
            # isolation_level=None: transactions are opened explicitly (BEGIN IMMEDIATE) so that
            # one upload is exactly one transaction.
            self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute("PRAGMA foreign_keys=ON")
            # A small page cache for reads: a full scan of a million incidents would otherwise
            # fill up to 256 MB per connection, which counts against the dashboard's memory.
            self.conn.execute(f"PRAGMA cache_size={READ_CACHE_KIB}")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot open the incident store {self.path}: {exc}") from exc

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def schema_version(self) -> int:
        """The highest migration applied (0 for an empty database)."""
        row = self.conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name='schema_version'").fetchone()
        if row is None:
            return 0
        return int(self.conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > LATEST_VERSION:
            raise StoreError(f"the store {self.path} has schema version {current}, newer than this "
                             f"conflictmap knows ({LATEST_VERSION}); upgrade conflictmap")
        for m in MIGRATIONS:
            if m.version <= current:
                continue
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_version "
                    "(version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)")
                for stmt in m.sqlite:
                    self.conn.execute(stmt)
                self.conn.execute("INSERT INTO schema_version VALUES (?, ?, ?)", (m.version, m.description, _now()))
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise

    def add_upload(self, valid: pd.DataFrame, meta: UploadMeta, after_batch: BatchHook | None = None) -> tuple[int, int, int]:
        """Store validated rows as one upload, in one transaction.

        Args:
            valid: rows from :func:`geodata.validation.validate_incidents` (``.valid``).
            meta: provenance and validation counts.
            after_batch: called inside the transaction after each batch (progress, test hooks).
        Returns:
            ``(upload_id, inserted, duplicates)``; rows whose key is already stored (or repeated
            in the file) count as duplicates and are not inserted.
        Raises:
            StoreError: if the database rejects the write (nothing is kept).
        """
        cols = row_columns(valid)
        names = ("upload_id",) + STORED_COLUMNS
        sql = f"INSERT OR IGNORE INTO incidents ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        inserted = 0
        self.conn.execute(f"PRAGMA cache_size={UPLOAD_CACHE_KIB}")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            cur = self.conn.execute(
                "INSERT INTO uploads (file_name, sha256, format, uploaded_at, rows_read, rejected, warnings) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (meta.file_name, meta.sha256, meta.format, _now(), meta.rows_read, meta.rejected, meta.warnings))
            upload_id = int(cur.lastrowid)
            rebuild = self._drop_secondary_indexes() if len(valid) >= BULK_ROWS and len(valid) > self._approx_rows() else []
            done = 0
            for count, rows in batches(cols, BATCH_ROWS, lead=upload_id):
                cur = self.conn.executemany(sql, rows)
                inserted += cur.rowcount
                done += count
                if after_batch:
                    after_batch(done)
            for stmt in rebuild:
                self.conn.execute(stmt)
            duplicates = len(valid) - inserted
            self.conn.execute("UPDATE uploads SET accepted = ?, duplicates = ? WHERE id = ?",
                              (inserted, duplicates, upload_id))
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            self.conn.execute("ROLLBACK")
            raise StoreError(f"the upload was not stored (nothing was kept): {exc}") from exc
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        finally:
            with contextlib.suppress(sqlite3.Error):  # never hide the upload's own error
                self.conn.execute(f"PRAGMA cache_size={READ_CACHE_KIB}")  # also frees the upload's pages
        return upload_id, inserted, duplicates

    def _approx_rows(self) -> int:
        """Upper bound of stored incidents (largest rowid: instant, unlike COUNT(*))."""
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

    def list_uploads(self) -> pd.DataFrame:
        """Every upload, newest first, with provenance and counts."""
        rows = self.conn.execute(f"SELECT {', '.join(UPLOAD_COLUMNS)} FROM uploads ORDER BY id DESC").fetchall()
        return uploads_frame(rows)

    def undo_upload(self, upload_id: int) -> int:
        """Remove the incidents an upload added and mark it undone (its provenance row stays).

        Returns:
            Number of incidents removed.
        Raises:
            KeyError: if there is no such upload or it was already undone.
        """
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            row = self.conn.execute("SELECT status FROM uploads WHERE id = ?", (int(upload_id),)).fetchone()
            if row is None or row[0] != "complete":
                raise KeyError(f"no upload {upload_id} to undo" if row is None else f"upload {upload_id} was already undone")
            removed = self.conn.execute("DELETE FROM incidents WHERE upload_id = ?", (int(upload_id),)).rowcount
            self.conn.execute("UPDATE uploads SET status = 'undone', undone_at = ? WHERE id = ?", (_now(), int(upload_id)))
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        return removed

    def read_incidents(self, spec: FilterSpec | None = None) -> pd.DataFrame:
        """Stored incidents, with the store-side part of ``spec`` applied in SQL.

        Args:
            spec: the selection; text, municipality, proximity and exact associated-actor matches
                are left to :func:`geodata.filters.apply_filters` at the call site.
        Returns:
            Canonical columns (``event_date`` datetime64) plus ``origin`` = "upload:<id>".
        """
        where, params = filter_sql(spec, "?", lambda d: d.isoformat())
        self.last_query = select_sql(where)
        cur = self.conn.execute(self.last_query, params)
        # Chunk by chunk into Arrow columns: never a million rows of Python tuples at once.
        return incidents_frame_from_chunks(iter(lambda: cur.fetchmany(READ_CHUNK_ROWS), []))

    def count_incidents(self) -> int:
        """Number of stored incidents."""
        return int(self.conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0])

    def distinct_values(self, column: str) -> list[str]:
        """Distinct non-empty values of one incident column, for filter choices without reading rows.

        Raises:
            ValueError: if ``column`` is not an incident column.
        """
        col = checked_column(column)
        rows = self.conn.execute(f"SELECT DISTINCT {col} FROM incidents WHERE {col} IS NOT NULL AND {col} != ''")
        return [str(r[0]) for r in rows]

    def date_range(self) -> tuple[dt.date, dt.date] | None:
        """First and last stored event date (``MIN``/``MAX`` on the date index), or ``None`` when empty."""
        first, last = self.conn.execute("SELECT MIN(event_date), MAX(event_date) FROM incidents").fetchone()
        if first is None:
            return None
        return dt.date.fromisoformat(str(first)[:10]), dt.date.fromisoformat(str(last)[:10])
