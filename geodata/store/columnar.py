"""An in-process columnar copy of the stored incidents (DuckDB) that answers the dashboard's reads.

The durable store (SQLite or PostGIS) keeps every guarantee it has: transactions, several
processes, migrations, triggers, the audit log. What it is slow at is scanning: at a million
incidents a count with an actor filter, the filter choices (``SELECT DISTINCT`` on three actor
columns) and a lean read of every row take 1-3 s each. A :class:`ColumnarMirror` holds the columns
those reads need (:data:`MIRROR_COLUMNS`) in an in-memory DuckDB table named like the store's,
and runs the *same* SQL on it (:func:`geodata.store.records.filter_sql`, ``select_sql`` and the
bounding-box condition of a proximity filter): one rule, two engines.

Freshness: every read first asks the store for its data version (one tiny query). When it moved
on and the only changes of incident rows since are uploads (:meth:`IncidentStore.added_uploads`
with ``rows_only``), just those rows are read (through the upload index) and appended; a change of
the curation alone (status, sources, sequences, a duplicate decision) changes nothing copied; any
other change (undo, sync, relocation) rebuilds the copy from one read. A question the copy cannot answer exactly the way the store
would (every column, a verification-status filter, rows of given uploads, an explicit order) goes
to the store.

Choice, written down: the copy is kept only for stores of at least
``Settings.analytic_rows`` incidents (``CONFLICTMAP_ANALYTIC_ROWS``, default 100,000): below that
the store's own indexes answer in milliseconds and the copy would only cost memory. One copy per
store and process (:func:`reads_for`), shared by every dashboard session under a lock.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
import threading
from pathlib import Path
from typing import Any, Sequence

import pandas as pd
import pyarrow as pa

from geodata.model.filters import ACTOR_COLUMNS, FilterSpec
from geodata.model.schema import split_multi
from geodata.store.protocol import IncidentStore
from geodata.store.records import Proximity, StoreFacets, checked_column, filter_sql

#: The columns kept in the copy: every column a lean or aggregated map read, a count or the filter
#: choices need (``notes``, the one long text, stays in the store: a text search reads the store).
MIRROR_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "event_type", "sub_event_type", "fatalities", "latitude", "longitude",
    "location", "admin2", "source", "source_url", "municipality", *ACTOR_COLUMNS,
)


_STR = pd.StringDtype("pyarrow", na_value=float("nan"))
_PANDAS_TYPES = {pa.string(): _STR, pa.large_string(): _STR, pa.string_view(): _STR, pa.int64(): pd.Int64Dtype()}


class ColumnarMirror:
    """The columnar copy of one store's incidents (see the module docstring). Each method takes the
    durable store it copies, used only through its public read methods.

    Thread-safe: one lock guards refreshing and reading (a DuckDB connection runs one statement at
    a time; the reads it answers take milliseconds).
    """

    def __init__(self, snapshot_dir: Path | None = None) -> None:
        import duckdb

        self._con = duckdb.connect(":memory:")
        self._lock = threading.Lock()
        #: Where the copy is kept between runs (``None``: in memory only); see :meth:`_load_snapshot`.
        self.snapshot_dir = snapshot_dir
        self._saving: threading.Thread | None = None
        self._version: str | None = None
        #: Column types of the store's frames: DuckDB hands back ``int64`` where the store says
        #: ``Int64`` (no NULL in the result), and callers must not see the difference.
        self._dtypes: dict[str, Any] = {}
        #: Incidents in the copy at :attr:`_version`.
        self.rows = 0

    # -- freshness ---------------------------------------------------------------------------------
    def _refresh(self, store: IncidentStore, *, snapshot: bool = True) -> None:
        """Bring the copy to the store's current data version (append uploads, else rebuild; on the
        first read, start from the newest snapshot when ``snapshot``)."""
        now = store.data_version()
        if now == self._version:
            return
        loaded = snapshot and self._version is None and self._load_snapshot(store, now)
        # A status change, a merge or new sources leave the copied columns as they were: only uploads
        # add rows, anything else that touches the rows (undo, sync, relocation) rebuilds the copy.
        uploads = store.added_uploads(self._version, rows_only=True) if self._version is not None else None
        if uploads is not None:
            self._insert(store.read(None, MIRROR_COLUMNS, order=False, uploads=uploads))
        else:
            frame = store.read(None, MIRROR_COLUMNS, order=False)
            self._dtypes = frame.dtypes.to_dict()
            self._con.execute("DROP TABLE IF EXISTS incidents")
            self._con.register("fresh_rows", frame)
            try:
                self._con.execute("CREATE TABLE incidents AS SELECT * FROM fresh_rows")
            finally:
                self._con.unregister("fresh_rows")
            self._save_snapshot(now)
        self.rows = int(self._con.execute("SELECT COUNT(*) FROM incidents").fetchall()[0][0])
        self._version = now
        if loaded and self.rows != store.count():  # a snapshot of another life of this store: read anew
            self._version = None
            self._refresh(store, snapshot=False)

    # -- kept between runs -------------------------------------------------------------------------
    def _snapshots(self, store_id: str) -> list[tuple[int, Path]]:
        """``(data version step, file)`` of this store's snapshots, newest first."""
        if self.snapshot_dir is None:
            return []
        found = []
        for path in self.snapshot_dir.glob(f"copy-{store_id}-*.parquet"):
            step = path.name[len(f"copy-{store_id}-"):-len(".parquet")]
            if step.isdigit():
                found.append((int(step), path))
        return sorted(found, reverse=True)

    def _load_snapshot(self, store: IncidentStore, now: str) -> bool:
        """Start from the newest snapshot of this store at or before data version ``now``.

        A server restart at a million incidents then reads one Parquet file (a fraction of a second)
        instead of the store (3 s); what changed since is applied as after any change (uploads
        appended, anything else rebuilt). The snapshot is named by the store's id and data version
        step, so it is never taken for another store; the row count is checked against the store after
        loading (a store restored from an older backup could reach the same step with other rows).

        Returns:
            Whether a snapshot was loaded (:attr:`_version` is then its version).
        """
        import duckdb

        store_id, _, step = now.rpartition(":")
        for n, path in self._snapshots(store_id):
            if not step.isdigit() or n > int(step):
                continue
            try:
                self._con.execute("DROP TABLE IF EXISTS incidents")
                self._con.execute("CREATE TABLE incidents AS SELECT * FROM read_parquet(?)", [str(path)])
            except (duckdb.Error, OSError):
                continue  # unreadable (half-written by a process that died): the store is read instead
            self._dtypes = store.read(None, MIRROR_COLUMNS, order=False, limit=1).dtypes.to_dict()
            self._version = f"{store_id}:{n}"
            return True
        return False

    def _save_snapshot(self, now: str) -> None:
        """Write the copy at data version ``now`` to :attr:`snapshot_dir`, in the background (a
        million rows take about half a second; readers do not wait), then remove older ones."""
        if self.snapshot_dir is None:
            return
        store_id = now.rpartition(":")[0]
        target = self.snapshot_dir / f"copy-{now.replace(':', '-')}.parquet"
        cursor = self._con.cursor()  # its own connection to the same in-memory database

        def save() -> None:
            import duckdb

            partial = target.with_name(f".{target.name}.{threading.get_ident()}.partial")
            try:
                self.snapshot_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[union-attr]
                quoted = str(partial).replace("'", "''")
                cursor.execute(f"COPY incidents TO '{quoted}' (FORMAT parquet)")
                os.replace(partial, target)
                for _n, old in self._snapshots(store_id):
                    if old != target:
                        old.unlink(missing_ok=True)
            except (duckdb.Error, OSError):
                with contextlib.suppress(OSError):  # a read-only or full disk: the copy stays in memory only
                    partial.unlink(missing_ok=True)
            finally:
                cursor.close()

        self._saving = threading.Thread(target=save, name="conflictmap-columnar-snapshot", daemon=True)
        self._saving.start()

    def saved(self, timeout: float | None = None) -> bool:
        """Wait for the snapshot being written (if any); ``True`` when none is being written any more."""
        saving = self._saving
        if saving is not None:
            saving.join(timeout)
        return saving is None or not saving.is_alive()

    def _insert(self, frame: pd.DataFrame) -> None:
        if frame.empty:
            return
        self._con.register("added_rows", frame)
        try:
            self._con.execute("INSERT INTO incidents SELECT * FROM added_rows")
        finally:
            self._con.unregister("added_rows")

    # -- the reads it answers ----------------------------------------------------------------------
    @staticmethod
    def answers(spec: FilterSpec | None, columns: Sequence[str] | None = MIRROR_COLUMNS,
                order: bool | None = None, uploads: Sequence[int] | None = None) -> bool:
        """Whether the copy answers this read exactly as the store would."""
        return (columns is not None and all(c in MIRROR_COLUMNS for c in columns) and not order
                and uploads is None and not (spec is not None and spec.statuses))

    def _where(self, spec: FilterSpec | None, near: Proximity | None) -> tuple[str, list[object]]:
        where, params = filter_sql(spec, "?", lambda d: d)
        if near is not None:
            # The store's own proximity superset (the bounding box), as its SQLite back-end says it.
            minx, miny, maxx, maxy = near.bbox
            cond = "longitude BETWEEN ? AND ? AND latitude BETWEEN ? AND ?"
            where = (where + " AND " if where else " WHERE ") + cond
            params = [*params, minx, maxx, miny, maxy]
        return where, params

    def read(self, store: IncidentStore, spec: FilterSpec | None, columns: Sequence[str],
             near: Proximity | None = None, *, limit: int | None = None) -> pd.DataFrame:
        """:meth:`IncidentStore.read` of ``columns`` (unordered), answered by the copy.

        Returns:
            The same frame the store would return (columns, types, ``origin``).
        Raises:
            ValueError: for an unknown column name.
            StoreError: if the store cannot be read when the copy is refreshed.
        """
        names = ", ".join(checked_column(c) for c in dict.fromkeys(columns))
        where, params = self._where(spec, near)
        sql = f"SELECT {names}, origin FROM incidents{where}" + (f" LIMIT {int(limit)}" if limit is not None else "")
        with self._lock:
            self._refresh(store)
            table = self._con.sql(sql, params=params).to_arrow_table()
        # Through Arrow: ten times faster than DuckDB's own DataFrame conversion at a million rows.
        frame = table.to_pandas(types_mapper=_PANDAS_TYPES.get, self_destruct=True)
        return frame.astype({c: self._dtypes[c] for c in frame.columns if c in self._dtypes})

    def count(self, store: IncidentStore, spec: FilterSpec | None = None, near: Proximity | None = None) -> int:
        """:meth:`IncidentStore.count`, answered by the copy."""
        where, params = self._where(spec, near)
        with self._lock:
            self._refresh(store)
            return int(self._con.execute(f"SELECT COUNT(*) FROM incidents{where}", params).fetchall()[0][0])

    def facets(self, store: IncidentStore) -> StoreFacets:
        """:meth:`IncidentStore.facets` of every incident, answered by the copy."""
        with self._lock:
            self._refresh(store)
            actors: set[str] = set()
            for col in ACTOR_COLUMNS:
                for (cell,) in self._con.execute(f"SELECT DISTINCT {col} FROM incidents "
                                                 f"WHERE {col} IS NOT NULL AND {col} <> ''").fetchall():
                    actors.update(split_multi(cell))
            munis = [str(r[0]) for r in self._con.execute(
                "SELECT DISTINCT municipality FROM incidents WHERE municipality IS NOT NULL AND municipality <> ''"
            ).fetchall()]
            n, first, last = self._con.execute(
                "SELECT COUNT(*), MIN(event_date), MAX(event_date) FROM incidents").fetchall()[0]
        return StoreFacets(
            count=int(n), first=_day(first), last=_day(last),
            actors=tuple(sorted(actors, key=str.casefold)),
            municipalities=tuple(sorted(munis, key=str.casefold)),
        )


def _day(value: Any) -> dt.date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


class Reads:
    """The read verbs of a store, answered by its :class:`ColumnarMirror` where it can, else by the
    store (the same signatures as :class:`IncidentStore`'s ``read``, ``count`` and ``facets``).

    Args:
        store: the open durable store.
        mirror: its copy, or ``None`` (every read goes to the store).
    """

    def __init__(self, store: IncidentStore, mirror: ColumnarMirror | None) -> None:
        self.store = store
        self.mirror = mirror

    def read(self, spec: FilterSpec | None = None, columns: Sequence[str] | None = None,
             near: Proximity | None = None, *, order: bool | None = None, limit: int | None = None,
             uploads: Sequence[int] | None = None) -> pd.DataFrame:
        """:meth:`IncidentStore.read`."""
        if self.mirror is not None and columns is not None and ColumnarMirror.answers(spec, columns, order, uploads):
            return self.mirror.read(self.store, spec, columns, near, limit=limit)
        return self.store.read(spec, columns, near, order=order, limit=limit, uploads=uploads)

    def count(self, spec: FilterSpec | None = None, near: Proximity | None = None) -> int:
        """:meth:`IncidentStore.count`."""
        if self.mirror is not None and ColumnarMirror.answers(spec):
            return self.mirror.count(self.store, spec, near)
        return self.store.count(spec, near)

    def facets(self, uploads: Sequence[int] | None = None) -> StoreFacets:
        """:meth:`IncidentStore.facets`."""
        if self.mirror is not None and uploads is None:
            return self.mirror.facets(self.store)
        return self.store.facets(uploads=uploads)


#: Copies kept per process (one per store URL, least recently used dropped first).
MAX_MIRRORS = 2
_mirrors: dict[str, ColumnarMirror] = {}
_mirrors_lock = threading.Lock()
#: Stores found below the size for a copy: (data version, size asked for) when counted.
_small: dict[str, tuple[str, int]] = {}


def reads_for(store: IncidentStore, key: str, min_rows: int, snapshot_dir: Path | None = None) -> Reads:
    """The reads of ``store``, through the process's copy of it once it holds ``min_rows`` incidents.

    Args:
        store: the open store.
        key: names the store for this process (its URL): sessions of one store share one copy.
        min_rows: keep a copy only for stores at least this large (``Settings.analytic_rows``).
        snapshot_dir: where the copy is kept between runs (:meth:`ColumnarMirror._load_snapshot`).
    Returns:
        A :class:`Reads`.
    Raises:
        StoreError: if the store cannot be read.
    """
    with _mirrors_lock:
        mirror = _mirrors.pop(key, None)
    if mirror is None:
        # Every service call asks: count the store once per data version, not on each rerun.
        version = store.data_version()
        if _small.get(key) == (version, min_rows):
            return Reads(store, None)
        if store.count() < min_rows:
            _small[key] = (version, min_rows)
            return Reads(store, None)
        mirror = ColumnarMirror(snapshot_dir)
    with _mirrors_lock:
        mirror = _mirrors.setdefault(key, mirror)  # another session may have made one meanwhile
        _mirrors.pop(key)
        _mirrors[key] = mirror  # newest last
        while len(_mirrors) > MAX_MIRRORS:  # a process serving another store lets the oldest go
            del _mirrors[next(iter(_mirrors))]
    return Reads(store, mirror)
