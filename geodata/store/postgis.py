"""The incident store on PostgreSQL with PostGIS (when the settings name a postgresql:// URL).

Rows are loaded with COPY into a temporary staging table and moved with one
``INSERT … SELECT … ON CONFLICT (dedup_key) DO NOTHING`` that also builds the point geometry
(GIST-indexed). Everything happens in one transaction: a killed client leaves an aborted
transaction that the server rolls back.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geodata.filters import FilterSpec
from geodata.schema import INCIDENT_COLUMNS
from geodata.store.migrations import LATEST_VERSION, MIGRATIONS
from geodata.store.records import (
    STORED_COLUMNS, UPLOAD_COLUMNS, BatchHook, StoreError, UploadMeta, batches, checked_column, filter_sql,
    incidents_frame_from_chunks, READ_CHUNK_ROWS, row_columns, select_sql, uploads_frame,
)

BATCH_ROWS = 50_000


class PostGISStore:
    """Incidents and uploads in a PostgreSQL/PostGIS database.

    Attributes:
        url: the connection URL.
        last_query: SQL text of the latest :meth:`read_incidents`.
    """

    dialect = "postgres"

    def __init__(self, url: str, create: bool = True) -> None:
        """Connect and (when ``create``) migrate forward.

        Raises:
            StoreError: if the server cannot be reached, PostGIS cannot be enabled, or the schema
                is newer than this code.
        """
        import psycopg  # imported here so that SQLite users need no PostgreSQL client library

        self.url = url
        self.last_query = ""
        self._psycopg = psycopg
        try:
            self.conn = psycopg.connect(url, autocommit=False)
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to the incident store: {exc}") from exc
        if create or self.schema_version() > 0:
            self._migrate()

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def schema_version(self) -> int:
        """The highest migration applied (0 for a database without the conflictmap schema)."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT to_regclass('schema_version') IS NOT NULL")
            if not cur.fetchone()[0]:
                self.conn.rollback()
                return 0
            cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version")
            v = int(cur.fetchone()[0])
        self.conn.rollback()
        return v

    def _migrate(self) -> None:
        current = self.schema_version()
        if current > LATEST_VERSION:
            raise StoreError(f"the store has schema version {current}, newer than this conflictmap "
                             f"knows ({LATEST_VERSION}); upgrade conflictmap")
        for m in MIGRATIONS:
            if m.version <= current:
                continue
            try:
                with self.conn.transaction(), self.conn.cursor() as cur:
                    # Two processes opening a fresh store at once must not both migrate.
                    cur.execute("SELECT pg_advisory_xact_lock(4021)")
                    cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                                "description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
                    cur.execute("SELECT 1 FROM schema_version WHERE version = %s", (m.version,))
                    if cur.fetchone():
                        continue
                    for stmt in m.postgres:
                        cur.execute(stmt)
                    cur.execute("INSERT INTO schema_version (version, description) VALUES (%s, %s)",
                                (m.version, m.description))
            except self._psycopg.Error as exc:
                raise StoreError(f"cannot create or migrate the store schema (version {m.version}): {exc}") from exc

    def add_upload(self, valid: pd.DataFrame, meta: UploadMeta, after_batch: BatchHook | None = None) -> tuple[int, int, int]:
        """Store validated rows as one upload, in one transaction (see :class:`SQLiteStore.add_upload`).

        Returns:
            ``(upload_id, inserted, duplicates)``.
        Raises:
            StoreError: if the database rejects the write (nothing is kept).
        """
        cols = row_columns(valid)
        names = ", ".join(STORED_COLUMNS)
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                cur.execute(
                    "INSERT INTO uploads (file_name, sha256, format, uploaded_at, rows_read, rejected, warnings) "
                    "VALUES (%s, %s, %s, now(), %s, %s, %s) RETURNING id",
                    (meta.file_name, meta.sha256, meta.format, meta.rows_read, meta.rejected, meta.warnings))
                upload_id = int(cur.fetchone()[0])
                cur.execute("CREATE TEMP TABLE staging_incidents ON COMMIT DROP AS "
                            f"SELECT {names} FROM incidents WITH NO DATA")
                done = 0
                for count, rows in batches(cols, BATCH_ROWS):
                    with cur.copy(f"COPY staging_incidents ({names}) FROM STDIN") as copy:
                        for r in rows:
                            copy.write_row(r)
                    done += count
                    if after_batch:
                        after_batch(done)
                cur.execute(
                    f"INSERT INTO incidents (upload_id, {names}, geom) "
                    f"SELECT %s, {names}, ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) "
                    "FROM staging_incidents ON CONFLICT (dedup_key) DO NOTHING", (upload_id,))
                inserted = cur.rowcount
                duplicates = len(valid) - inserted
                cur.execute("UPDATE uploads SET accepted = %s, duplicates = %s WHERE id = %s",
                            (inserted, duplicates, upload_id))
        except self._psycopg.Error as exc:
            raise StoreError(f"the upload was not stored (nothing was kept): {exc}") from exc
        return upload_id, inserted, duplicates

    def list_uploads(self) -> pd.DataFrame:
        """Every upload, newest first, with provenance and counts."""
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT {', '.join(UPLOAD_COLUMNS)} FROM uploads ORDER BY id DESC")
            rows = cur.fetchall()
        self.conn.rollback()
        return uploads_frame(rows)

    def undo_upload(self, upload_id: int) -> int:
        """Remove the incidents an upload added and mark it undone.

        Returns:
            Number of incidents removed.
        Raises:
            KeyError: if there is no such upload or it was already undone.
        """
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("SELECT status FROM uploads WHERE id = %s FOR UPDATE", (int(upload_id),))
            row = cur.fetchone()
            if row is None or row[0] != "complete":
                raise KeyError(f"no upload {upload_id} to undo" if row is None else f"upload {upload_id} was already undone")
            cur.execute("DELETE FROM incidents WHERE upload_id = %s", (int(upload_id),))
            removed = cur.rowcount
            cur.execute("UPDATE uploads SET status = 'undone', undone_at = now() WHERE id = %s", (int(upload_id),))
        return removed

    def read_incidents(self, spec: FilterSpec | None = None) -> pd.DataFrame:
        """Stored incidents with the store-side part of ``spec`` applied in SQL (see
        :meth:`SQLiteStore.read_incidents`)."""
        where, params = filter_sql(spec, "%s", lambda d: d)
        self.last_query = select_sql(where)
        try:
            # A server-side cursor: rows cross the wire and become Python objects one chunk at a
            # time, and each chunk is turned into Arrow columns before the next is fetched.
            with self.conn.cursor(name="conflictmap_read_incidents") as cur:
                cur.itersize = READ_CHUNK_ROWS
                cur.execute(self.last_query, params)
                return incidents_frame_from_chunks(iter(lambda: cur.fetchmany(READ_CHUNK_ROWS), []))
        finally:
            self.conn.rollback()

    def count_incidents(self) -> int:
        """Number of stored incidents."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT COUNT(*) FROM incidents")
            n = int(cur.fetchone()[0])
        self.conn.rollback()
        return n

    def distinct_values(self, column: str) -> list[str]:
        """Distinct non-empty values of one incident column (see :meth:`SQLiteStore.distinct_values`).

        Raises:
            ValueError: if ``column`` is not an incident column.
        """
        col = checked_column(column)
        with self.conn.cursor() as cur:
            cur.execute(f"SELECT DISTINCT {col} FROM incidents WHERE {col} IS NOT NULL AND {col}::text <> ''")
            values = [str(r[0]) for r in cur.fetchall()]
        self.conn.rollback()
        return values

    def date_range(self) -> tuple[dt.date, dt.date] | None:
        """First and last stored event date, or ``None`` when the store is empty."""
        with self.conn.cursor() as cur:
            cur.execute("SELECT MIN(event_date), MAX(event_date) FROM incidents")
            first, last = cur.fetchone()
        self.conn.rollback()
        if first is None:
            return None
        return dt.date.fromisoformat(str(first)[:10]), dt.date.fromisoformat(str(last)[:10])
