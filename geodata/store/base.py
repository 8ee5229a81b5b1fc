"""What the SQLite and PostGIS stores share: uploads, exact undo, reads, facets, the data version.

Each back-end supplies a handful of primitives (a write transaction, a read, chunked fetching,
bulk insertion, error translation); everything else — the SQL of undo, facets, counts, the
change counter, migrations — is written once here. Every SQL statement of conflictmap lives in
:mod:`geodata.store`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any, Callable, Iterator, Self, Sequence

import numpy as np
import pandas as pd

from geodata._errors import UploadNotFound
from geodata.model.filters import ACTOR_COLUMNS, FilterSpec
from geodata.export.licence import licence_for_format
from geodata.model.schema import split_multi
from geodata.store import audit_sql
from geodata.store.migrations import LATEST_VERSION, MIGRATIONS, Migration
from geodata.store.watch_sql import log_rows, log_upload
from geodata.store.sync_sql import restore_sync_rows
from geodata.store.records import (
    READABLE_COLUMNS, READ_CHUNK_ROWS, UPLOAD_COLUMNS, BatchHook, Proximity, StoreError, StoreFacets, UndoResult,
    UploadMeta, filter_sql, incidents_frame_from_chunks, row_columns, select_sql, uploads_frame,
)

#: Upload ``format`` of the bundled incidents (seeded by :func:`geodata.ingest.bundled.seed_bundled`).
BUNDLED_FORMAT = "bundled"
#: Steps of the data version whose kind is kept (:meth:`BaseStore.added_uploads` looks this far back).
CHANGE_LOG_STEPS = 1000
#: Rows re-enriched per transaction by :meth:`BaseStore.fill_municipalities`.
FILL_ROWS = 50_000
#: ``locate(rows) -> DataFrame(municipality, admin2_mismatch)`` for rows with admin2/latitude/longitude.
Locator = Callable[[pd.DataFrame], pd.DataFrame]


#: Kinds of change (:meth:`BaseStore._bump`) that leave every stored incident row as it was: the
#: curation lives in its own tables (a merge hides the alias when read, it deletes nothing). A kind
#: not listed counts as changing rows, so a new kind is safe until it is added here.
ROWS_UNCHANGED = frozenset({"status", "sources", "sequences", "bundled-curation", "users", "setting"})


def rows_unchanged(kind: str) -> bool:
    """Whether a change of ``kind`` left every stored incident row as it was (see :data:`ROWS_UNCHANGED`)."""
    return kind in ROWS_UNCHANGED or kind.startswith("duplicates-")


class BaseStore:
    """Incidents and uploads in a SQL database (see :class:`geodata.store.protocol.IncidentStore`).

    Subclasses set :attr:`dialect` and :attr:`mark` and implement the primitives marked below.

    Attributes:
        last_query: SQL text of the latest incident read (for tests and diagnostics).
    """

    dialect = ""
    #: The driver's parameter marker.
    mark = "?"
    last_query: str = ""

    # -- primitives (per back-end) -----------------------------------------------------------------
    def _date_param(self, d: dt.date) -> object:
        raise NotImplementedError

    @contextlib.contextmanager
    def _write(self, what: str) -> Iterator[Any]:
        """One write transaction; yields a cursor with ``execute(sql, params)``/``fetchone``/``rowcount``.

        Raises:
            StoreError: "<what> (nothing was changed): <reason>" when the database refuses.
        """
        raise NotImplementedError
        yield

    def _rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run a read query and return every row (ends the read transaction)."""
        raise NotImplementedError

    def _chunks(self, sql: str, params: Sequence[object], size: int) -> Iterator[list[tuple[Any, ...]]]:
        """Run a read query and yield its rows ``size`` at a time (ends the read transaction)."""
        raise NotImplementedError

    def _insert_incidents(self, cur: Any, upload_id: int, cols: list[np.ndarray], after_batch: BatchHook | None,
                          labels: tuple[str, str] = ("", "")) -> int:
        """Insert new incidents (existing dedup keys ignored) and link every row's key to the upload.

        Args:
            cur: the upload's cursor (inside its transaction).
            upload_id: the upload the rows belong to.
            cols: :func:`geodata.store.records.row_columns` of the rows.
            after_batch: called after each batch (progress).
            labels: ``(dataset, licence)`` written into every inserted row ("" = set later by the caller).
        Returns:
            The number of incidents inserted.
        """
        raise NotImplementedError

    def _staged(self, valid: pd.DataFrame) -> contextlib.AbstractContextManager[Any]:
        """Rows made ready for a bulk load *before* the upload's transaction opens, or ``None`` (the
        rows then go through :meth:`_insert_incidents`). The SQLite store stages large uploads
        through Arrow (see :meth:`geodata.store.sqlite.SQLiteStore._staged`)."""
        return contextlib.nullcontext(None)

    def _insert_staged(self, cur: Any, upload_id: int, staged: Any, after_batch: BatchHook | None,
                       labels: tuple[str, str]) -> int:
        """:meth:`_insert_incidents` for rows that :meth:`_staged` prepared."""
        raise NotImplementedError

    def _proximity_sql(self, near: Proximity) -> tuple[str, list[object]]:
        """A WHERE condition keeping (a superset of) the incidents within ``near``."""
        raise NotImplementedError

    def _read_frame(self, sql: str, params: Sequence[object], columns: Sequence[str]) -> pd.DataFrame:
        """Run an incident SELECT (``columns`` + upload id) into a typed frame, chunk by chunk."""
        return incidents_frame_from_chunks(self._chunks(sql, params, READ_CHUNK_ROWS), columns)

    def _now_sql(self) -> str:
        raise NotImplementedError

    def schema_version(self) -> int:
        """The highest migration applied (0 for a database without the conflictmap schema)."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection."""
        raise NotImplementedError

    # -- context manager ---------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- migrations --------------------------------------------------------------------------------
    def applied_versions(self) -> set[int]:
        """Versions of every migration applied to this store."""
        if self.schema_version() == 0:
            return set()
        return {int(r[0]) for r in self._rows("SELECT version FROM schema_version")}

    def _migrate(self) -> None:
        """Apply every missing migration in order, each in its own transaction.

        Gaps are fine: a store is upgraded by the versions it lacks (another branch may have
        reserved numbers this code does not know yet — only a *newer* store than the code is refused).
        """
        applied = self.applied_versions()
        if applied and max(applied) > LATEST_VERSION:
            raise StoreError(f"the store has schema version {max(applied)}, newer than this conflictmap "
                             f"knows ({LATEST_VERSION}); upgrade conflictmap")
        for m in sorted(MIGRATIONS, key=lambda m: m.version):
            if m.version not in applied:
                self._apply_migration(m)
        # After every migration (filling writes through the newest schema, e.g. the change log).
        if 3 not in applied and self._any("SELECT 1 FROM incidents WHERE municipality IS NULL LIMIT 1"):
            from geodata.geo.enrich import locate_rows

            # Stores made before schema 3: fill from the stated admin2 (alias table) now; the
            # service re-enriches from coordinates once boundaries are installed.
            from geodata.model.actor import maintenance

            with maintenance():
                self.fill_municipalities(lambda rows: locate_rows(rows, None))

    def _apply_migration(self, m: Migration) -> None:
        raise NotImplementedError

    def _any(self, sql: str, params: Sequence[object] = ()) -> bool:
        return bool(self._rows(sql, params))

    # -- writing -----------------------------------------------------------------------------------
    def _bump(self, cur: Any, kind: str = "change", upload_id: int | None = None,
              targets: Sequence[object] | None = None) -> None:
        """Advance the change counter inside the caller's transaction (see :meth:`data_version`) and
        log what the step was: ``"upload"`` (rows added by ``upload_id``, nothing else changed) or
        any other change. Readers use the log to extend what they read before (:meth:`added_uploads`).
        The same transaction writes the audit entry (schema 10): action ``kind``, ``targets`` (default:
        the upload id), who from :func:`geodata.model.actor.current_actor`, after checking that their role
        may (:mod:`geodata.model.roles`; raises :class:`geodata._errors.PermissionDenied`)."""
        p = self.mark
        cur.execute("UPDATE data_version SET n = n + 1 WHERE id = 1")
        cur.execute(f"INSERT INTO data_changes (n, kind, upload_id) SELECT n, {p}, {p} FROM data_version WHERE id = 1",
                    (kind, upload_id))
        cur.execute(f"DELETE FROM data_changes WHERE n <= (SELECT n FROM data_version WHERE id = 1) - {CHANGE_LOG_STEPS}")
        # The role check and the audit entry join the same transaction: no change reaches the store
        # unrecorded, and a refused one is rolled back whole (geodata.model.roles).
        audit_sql.check_and_append(self, cur, kind, targets if targets is not None else
                                   ((upload_id,) if upload_id is not None else ()))

    def add_upload(self, valid: pd.DataFrame, meta: UploadMeta, after_batch: BatchHook | None = None) -> tuple[int, int, int]:
        """Store validated rows as one upload, in one transaction.

        Every row is linked to the upload (``upload_rows``), also a row whose key another upload
        stored first: so undoing either upload keeps it while the other still holds it.

        Args:
            valid: rows from :func:`geodata.ingest.validation.validate_incidents` (``.valid``), ideally with
                ``municipality``/``admin2_mismatch`` (:func:`geodata.geo.enrich.locate_rows`); without
                them the stated admin2 is resolved through the alias table.
            meta: provenance and validation counts.
            after_batch: called inside the transaction after each batch (progress).
        Returns:
            ``(upload_id, inserted, duplicates)``; rows whose key is already stored (or repeated in
            the file) count as duplicates and are not inserted again.
        Raises:
            StoreError: if the database refuses the write (disk full, read-only…); nothing is kept.
        """
        p = self.mark
        # Every row knows its dataset and licence (geodata.export.licence): from the format or the declaration.
        # They are written by the INSERT itself: an UPDATE afterwards rewrote every new row once more.
        lic = licence_for_format(meta.format, meta.licence or None)
        labels = (lic.dataset, lic.name)
        with self._staged(valid) as staged, self._write("the upload was not stored") as cur:
            cur.execute(
                "INSERT INTO uploads (file_name, sha256, format, uploaded_at, rows_read, rejected, warnings) "
                f"VALUES ({p}, {p}, {p}, {self._now_sql()}, {p}, {p}, {p}) RETURNING id",
                (meta.file_name, meta.sha256, meta.format, meta.rows_read, meta.rejected, meta.warnings))
            upload_id = int(cur.fetchone()[0])
            if staged is not None:
                inserted = self._insert_staged(cur, upload_id, staged, after_batch, labels)
            else:
                inserted = self._insert_incidents(cur, upload_id, row_columns(valid), after_batch, labels)
            duplicates = len(valid) - inserted
            cur.execute(f"UPDATE uploads SET accepted = {p}, duplicates = {p} WHERE id = {p}",
                        (inserted, duplicates, upload_id))
            log_upload(self, cur, upload_id)  # one change-log entry, whatever the upload's size
            self._bump(cur, "upload", upload_id)
        return upload_id, inserted, duplicates

    def list_uploads(self) -> pd.DataFrame:
        """Every upload, newest first, with provenance and counts (:data:`UPLOAD_COLUMNS`)."""
        return uploads_frame(self._rows(f"SELECT {', '.join(UPLOAD_COLUMNS)} FROM uploads ORDER BY id DESC"))

    def undo_upload(self, upload_id: int, *, allow_bundled: bool = False) -> UndoResult:
        """Undo one upload: remove its incidents that no other live upload holds, mark it undone.

        Args:
            upload_id: the upload.
            allow_bundled: the bundled data's upload can be undone only when it is re-seeded.
        Returns:
            :class:`UndoResult` (``removed``, and ``kept`` = its incidents another live upload holds;
            those now belong to that upload).
        Raises:
            UploadNotFound: no such upload, already undone, or the bundled data.
            StoreError: if the database refuses the write (nothing changes).
        """
        p = self.mark
        uid = int(upload_id)
        if not 0 < uid < 2**63:
            raise UploadNotFound(f"no upload {upload_id}")
        lock = " FOR UPDATE" if self.dialect == "postgres" else ""
        with self._write(f"upload {uid} was not undone") as cur:
            cur.execute(f"SELECT status, format FROM uploads WHERE id = {p}{lock}", (uid,))
            row = cur.fetchone()
            if row is None:
                raise UploadNotFound(f"no upload {uid} to undo")
            if row[0] != "complete":
                raise UploadNotFound(f"upload {uid} was already undone")
            if row[1] == BUNDLED_FORMAT and not allow_bundled:
                raise UploadNotFound(f"upload {uid} is the bundled data set, which cannot be undone")
            cur.execute(f"SELECT COUNT(*) FROM upload_rows WHERE upload_id = {p}", (uid,))
            held = int(cur.fetchone()[0])
            cur.execute(f"DELETE FROM upload_rows WHERE upload_id = {p}", (uid,))
            gone = (f"upload_id = {p} AND NOT EXISTS "
                    "(SELECT 1 FROM upload_rows r WHERE r.incident_id = incidents.id)")
            log_rows(self, cur, "undo", "removed", gone, (uid,), f"upload {uid} undone")
            cur.execute(f"DELETE FROM incidents WHERE {gone}", (uid,))
            removed = max(cur.rowcount, 0)
            # What stays is now attributed to the (oldest) live upload that also holds it.
            cur.execute("UPDATE incidents SET upload_id = (SELECT MIN(r.upload_id) FROM upload_rows r "
                        f"WHERE r.incident_id = incidents.id) WHERE upload_id = {p}", (uid,))
            # A sync's updates and deletions are put back exactly (schema 9, sync_before), and watch
            # areas hear of it: each row put back is a change since the sync.
            if restore_sync_rows(self, cur, uid):
                log_rows(self, cur, "undo", "changed", f"id IN (SELECT b.id FROM sync_before b WHERE b.sync_upload_id = {p})",
                         (uid,), f"sync {uid} undone: back as before it")
            cur.execute(f"UPDATE uploads SET status = 'undone', undone_at = {self._now_sql()} WHERE id = {p}", (uid,))
            self._bump(cur, "undo", uid)
        return UndoResult(uid, removed, max(held - removed, 0))

    def fill_municipalities(self, locate: Locator, *, only_missing: bool = True) -> int:
        """(Re)compute the stored ``municipality``/``admin2_mismatch`` with ``locate``.

        Args:
            locate: rows (id, admin2, latitude, longitude) -> municipality, admin2_mismatch
                (:func:`geodata.geo.enrich.locate_rows` with the boundaries in use).
            only_missing: only rows never enriched (NULL municipality); ``False`` redoes every row
                (after boundaries were installed or changed).
        Returns:
            Rows updated.
        Raises:
            StoreError: if the database refuses the write.
        """
        p = self.mark
        where = " WHERE municipality IS NULL" if only_missing else ""
        done = 0
        last = 0
        while True:
            rows = self._rows(f"SELECT id, admin2, latitude, longitude FROM incidents{where}"
                              f"{' AND' if where else ' WHERE'} id > {p} ORDER BY id LIMIT {FILL_ROWS}", (last,))
            if not rows:
                break
            frame = pd.DataFrame(rows, columns=["id", "admin2", "latitude", "longitude"])
            located = locate(frame)
            mismatch = pd.array(located["admin2_mismatch"], dtype="boolean")
            values = [(str(m or ""), None if pd.isna(x) else int(bool(x)), int(i))
                      for m, x, i in zip(located["municipality"], mismatch, frame["id"])]
            with self._write("the municipalities were not stored") as cur:
                cur.executemany(f"UPDATE incidents SET municipality = {p}, admin2_mismatch = {p} WHERE id = {p}", values)
                self._bump(cur, "relocate")
            done += len(rows)
            last = int(frame["id"].iloc[-1])
        return done

    def get_meta(self, key: str) -> str | None:
        """A value of the store's key/value table (``store_meta``), ``None`` if unset."""
        rows = self._rows(f"SELECT value FROM store_meta WHERE key = {self.mark}", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a value of ``store_meta`` (its own transaction; bumps the data version)."""
        p = self.mark
        with self._write("the store setting was not saved") as cur:
            cur.execute(f"DELETE FROM store_meta WHERE key = {p}", (key,))
            cur.execute(f"INSERT INTO store_meta (key, value) VALUES ({p}, {p})", (key, value))
            self._bump(cur, "setting", targets=(key,))

    # -- reading -----------------------------------------------------------------------------------
    def data_version(self) -> str:
        """A token that changes whenever any process commits a change to the data (one tiny query).

        ``<store id>:<change counter>``: the counter is advanced in the same transaction as every
        upload, undo and re-enrichment; the id tells apart two stores that reached the same count.
        """
        rows = self._rows("SELECT (SELECT value FROM store_meta WHERE key = 'store_id'), n FROM data_version WHERE id = 1")
        return f"{rows[0][0]}:{rows[0][1]}" if rows else "0:0"

    def added_uploads(self, since: str, *, rows_only: bool = False) -> tuple[int, ...] | None:
        """The uploads that are the only changes since data version ``since``, oldest first.

        Args:
            since: a token :meth:`data_version` returned earlier.
            rows_only: count only changes of the incident rows themselves: steps that leave every
                stored incident as it was (:data:`ROWS_UNCHANGED`: a status, sources, sequences, a
                duplicate decision, users, a setting) are passed over.
        Returns:
            Their ids (empty when nothing changed), or ``None`` when anything else changed since
            (an undo, a sync, a status change, a migration, another store) or the log no longer
            reaches back that far: the caller then reads everything again.
        """
        store_id, _, n_text = since.rpartition(":")
        rows = self._rows("SELECT (SELECT value FROM store_meta WHERE key = 'store_id'), n FROM data_version WHERE id = 1")
        if not rows or not n_text.isdigit() or str(rows[0][0]) != store_id:
            return None
        old, now = int(n_text), int(rows[0][1])
        if old > now:
            return None
        steps = self._rows(f"SELECT kind, upload_id FROM data_changes WHERE n > {self.mark} ORDER BY n", (old,))
        if len(steps) != now - old:
            return None
        if rows_only:
            steps = [(kind, uid) for kind, uid in steps if not rows_unchanged(str(kind))]
        if any(kind != "upload" or uid is None for kind, uid in steps):
            return None
        return tuple(int(uid) for _, uid in steps)

    def count(self, spec: FilterSpec | None = None, near: Proximity | None = None) -> int:
        """How many stored incidents the store-side part of ``spec`` selects (exact without actors,
        text or proximity in ``spec``; a superset otherwise)."""
        where, params = self._where(spec, near)
        return int(self._rows(f"SELECT COUNT(*) FROM incidents{where}", params)[0][0])

    def _only_uploads(self, where: str, params: list[object], uploads: Sequence[int] | None) -> tuple[str, list[object]]:
        """``where`` narrowed to the incidents of ``uploads`` (unchanged for ``None``)."""
        if uploads is None:
            return where, params
        ids = [int(u) for u in uploads]
        cond = f"upload_id IN ({', '.join([self.mark] * len(ids))})" if ids else "1 = 0"
        return (where + " AND " if where else " WHERE ") + cond, [*params, *ids]

    def _where(self, spec: FilterSpec | None, near: Proximity | None) -> tuple[str, list[object]]:
        date_param = self._date_param
        where, params = filter_sql(spec, self.mark, date_param)
        if near is not None:
            cond, extra = self._proximity_sql(near)
            where = (where + " AND " if where else " WHERE ") + cond
            params = [*params, *extra]
        return where, params

    def read(self, spec: FilterSpec | None = None, columns: Sequence[str] | None = None,
             near: Proximity | None = None, *, order: bool | None = None, limit: int | None = None,
             uploads: Sequence[int] | None = None) -> pd.DataFrame:
        """The stored incidents matching the store-side part of ``spec``, read in chunks.

        Args:
            spec: the selection; dates, types, municipality and fatalities are decided here exactly,
                actors as a superset; text, exact actor-list membership and exact distance are left to
                :func:`geodata.model.filters.apply_filters`.
            columns: columns to read (of :data:`READABLE_COLUMNS`); ``None`` for all of them.
            near: a proximity restriction (superset; see :class:`Proximity`).
            order: sort by date and id (default: only when every column is read).
            limit: read at most this many rows (``None``: all). With ``order`` false, which rows is
                up to the database: a caller uses it to learn "more than N?" in the same scan.
            uploads: only incidents these uploads added (see :meth:`added_uploads`).
        Returns:
            ``columns`` typed (``event_date`` datetime64, integers ``Int64``) plus ``origin``
            ("bundled" or "upload:<id>").
        Raises:
            ValueError: for an unknown column name.
            StoreError: if the store cannot be read.
        """
        cols = tuple(READABLE_COLUMNS if columns is None else dict.fromkeys(columns))
        where, params = self._only_uploads(*self._where(spec, near), uploads)
        if limit is not None and limit < 0:
            raise ValueError("limit must be zero or more")
        self.last_query = select_sql(where, cols, order=columns is None if order is None else order, limit=limit)
        frame = self._read_frame(self.last_query, params, cols)
        bundled = {f"upload:{r[0]}" for r in self._rows("SELECT id FROM uploads WHERE format = "
                                                         f"{self.mark}", (BUNDLED_FORMAT,))}
        if bundled and len(frame):
            frame["origin"] = frame["origin"].where(~frame["origin"].isin(bundled), "bundled")
        return frame

    def facets(self, uploads: Sequence[int] | None = None) -> StoreFacets:
        """Distinct actors (";"-lists split), municipalities, the date range and the row count.

        Args:
            uploads: only of the incidents these uploads added (see :meth:`added_uploads`).
        """
        def rows(select: str, where: str) -> list[tuple[Any, ...]]:
            narrowed, params = self._only_uploads(where, [], uploads)
            return self._rows(f"{select} FROM incidents{narrowed}", params)

        actors: set[str] = set()
        for col in ACTOR_COLUMNS:
            for (cell,) in rows(f"SELECT DISTINCT {col}", f" WHERE {col} IS NOT NULL AND {col} <> ''"):
                actors.update(split_multi(cell))
        munis = [str(r[0]) for r in rows("SELECT DISTINCT municipality",
                                         " WHERE municipality IS NOT NULL AND municipality <> ''")]
        n, first, last = rows("SELECT COUNT(*), MIN(event_date), MAX(event_date)", "")[0]
        return StoreFacets(
            count=int(n),
            first=dt.date.fromisoformat(str(first)[:10]) if first is not None else None,
            last=dt.date.fromisoformat(str(last)[:10]) if last is not None else None,
            actors=tuple(sorted(actors, key=str.casefold)),
            municipalities=tuple(sorted(munis, key=str.casefold)),
        )

    def municipality_counts(self, spec: FilterSpec | None = None) -> pd.DataFrame:
        """Incidents and fatalities per stored municipality for the store-side part of ``spec``.

        Returns:
            DataFrame ``municipality``, ``incidents``, ``fatalities`` (most incidents first).
        """
        where, params = self._where(spec, None)
        rows = self._rows(f"SELECT municipality, COUNT(*), COALESCE(SUM(fatalities), 0) FROM incidents{where} "
                          "GROUP BY municipality ORDER BY 2 DESC, 1", params)
        return pd.DataFrame([(str(m or ""), int(c), int(f)) for m, c, f in rows],
                            columns=["municipality", "incidents", "fatalities"])

    def bundled_uploads(self) -> list[tuple[int, str]]:
        """``(id, sha256)`` of every live upload holding bundled incidents, newest first."""
        rows = self._rows(f"SELECT id, sha256 FROM uploads WHERE format = {self.mark} AND status = 'complete' "
                          "ORDER BY id DESC", (BUNDLED_FORMAT,))
        return [(int(i), str(h)) for i, h in rows]

    def distinct_values(self, column: str) -> list[str]:
        """Distinct non-empty values of one incident column.

        Raises:
            ValueError: if ``column`` is not an incident column.
        """
        from geodata.store.records import checked_column

        col = checked_column(column)
        return [str(r[0]) for r in self._rows(f"SELECT DISTINCT {col} FROM incidents "
                                              f"WHERE {col} IS NOT NULL AND CAST({col} AS TEXT) <> ''")]

    def date_range(self) -> tuple[dt.date, dt.date] | None:
        """First and last stored event date, or ``None`` when the store is empty."""
        f = self.facets()
        return None if f.first is None or f.last is None else (f.first, f.last)
