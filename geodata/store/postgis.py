"""The incident store on PostgreSQL with PostGIS (when the settings name a postgresql:// URL).

Rows are loaded with COPY into a temporary staging table and moved with one
``INSERT … SELECT … ON CONFLICT (dedup_key) DO NOTHING`` that also builds the point geometry
(GIST-indexed). Everything happens in one transaction: a killed client leaves an aborted
transaction that the server rolls back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Iterator, Sequence

import numpy as np

from geodata.settings import METRIC_CRS
from geodata.store.base import BaseStore
from geodata.store.migrations import Migration
from geodata.store.records import STORED_COLUMNS, BatchHook, Proximity, StoreError, batches

BATCH_ROWS = 50_000


class PostGISStore(BaseStore):
    """Incidents and uploads in a PostgreSQL/PostGIS database (see :class:`geodata.store.base.BaseStore`).

    Attributes:
        url: the connection URL.
        last_query: SQL text of the latest incident read.
    """

    dialect = "postgres"
    mark = "%s"

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
            raise StoreError(f"cannot connect to the incident store: {_reason(exc)}") from exc
        try:
            if create or self.schema_version() > 0:
                self._migrate()
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()

    def schema_version(self) -> int:
        """The highest migration applied (0 for a database without the conflictmap schema)."""
        rows = self._rows("SELECT to_regclass('schema_version') IS NOT NULL")
        if not rows[0][0]:
            return 0
        return int(self._rows("SELECT COALESCE(MAX(version), 0) FROM schema_version")[0][0])

    def _apply_migration(self, m: Migration) -> None:
        with self._write(f"cannot create or migrate the store schema (version {m.version})") as cur:
            # Two processes opening a fresh store at once must not both migrate.
            cur.execute("SELECT pg_advisory_xact_lock(4021)")
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, "
                        "description TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
            cur.execute("SELECT 1 FROM schema_version WHERE version = %s", (m.version,))
            if cur.fetchone():
                return
            for stmt in m.postgres:
                cur.execute(stmt)
            cur.execute("INSERT INTO schema_version (version, description) VALUES (%s, %s)", (m.version, m.description))

    # -- primitives --------------------------------------------------------------------------------
    def _date_param(self, d: dt.date) -> object:
        return d

    def _now_sql(self) -> str:
        return "now()"

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[Any]:
        self._end_read()
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                yield cur
        except self._psycopg.Error as exc:
            raise StoreError(f"{what} (nothing was changed): {_reason(exc)}") from exc

    def _end_read(self) -> None:
        """End the implicit read transaction, so every read and write sees the latest commits."""
        with contextlib.suppress(self._psycopg.Error):
            self.conn.rollback()

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, list(params))
                return cur.fetchall()
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot read the incident store: {_reason(exc)}") from exc
        finally:
            self._end_read()

    def _chunks(self, sql: str, params: Sequence[object], size: int) -> Iterator[list[tuple[Any, ...]]]:
        try:
            # A server-side cursor: rows cross the wire and become Python objects one chunk at a
            # time, and each chunk is turned into Arrow columns before the next is fetched.
            with self.conn.cursor(name="conflictmap_read") as cur:
                cur.itersize = size
                cur.execute(sql, list(params))
                while rows := cur.fetchmany(size):
                    yield rows
        except self._psycopg.Error as exc:
            raise StoreError(f"cannot read the incident store: {_reason(exc)}") from exc
        finally:
            self._end_read()

    def _proximity_sql(self, near: Proximity) -> tuple[str, list[object]]:
        srid = int(METRIC_CRS.split(":")[1])
        return (f"geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326) AND "
                f"ST_DWithin(ST_Transform(geom, {srid}), ST_GeomFromText(%s, {srid}), %s)",
                [*near.bbox, near.metric_wkt, near.radius_m])

    def _insert_incidents(self, cur: Any, upload_id: int, cols: list[np.ndarray], after_batch: BatchHook | None,
                          labels: tuple[str, str] = ("", "")) -> int:
        names = ", ".join(STORED_COLUMNS)
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
            f"INSERT INTO incidents (upload_id, {names}, dataset, licence, geom) "
            f"SELECT %s, {names}, %s, %s, ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) "
            "FROM staging_incidents ON CONFLICT (dedup_key) DO NOTHING", (upload_id, labels[0], labels[1]))
        inserted = cur.rowcount
        cur.execute("INSERT INTO upload_rows (upload_id, incident_id) SELECT DISTINCT %s, i.id "
                    "FROM staging_incidents s JOIN incidents i ON i.dedup_key = s.dedup_key "
                    "ON CONFLICT DO NOTHING", (upload_id,))
        return inserted


def _reason(exc: Exception) -> str:
    """The server's message in words a user can act on (first line only)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "No space left" in text or "could not extend file" in text:
        return "the database server's disk is full (free some space and try again)"
    if "read-only" in text or "read only" in text:
        return "the store is read-only"
    return text
