"""The store side of ``sync``: one transaction that upserts a pull, applies deletions and records state.

Works on both stores (:class:`~geodata.store.sqlite.SQLiteStore`,
:class:`~geodata.store.postgis.PostGISStore`) through their connection; every statement is here.

Rules (issue 12):

* A pulled row whose key (``id:<event_id_cnty>``) is not stored is **new**; new rows of one sync
  form one upload (format "acled-sync"/"ucdp-sync"), so they can be listed and undone like a file.
* A stored row is **updated** when the pull is newer: ACLED's ``timestamp`` is larger (compare
  "timestamp"), or any value differs (compare "content", for UCDP, which has no timestamp). The
  old values are kept in ``sync_changes`` (provenance); the row keeps its original upload.
* An id on ACLED's deleted list is **deleted** only where the stored row's dataset is ACLED; the
  removed row is kept in ``sync_changes``.
* ``sync_state`` holds, per source key, the last sync time, the cursor and the counts.

Everything happens in one transaction: a failure or a killed process leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from geodata.schema import INCIDENT_COLUMNS
from geodata.store.records import STORED_COLUMNS, StoreError, row_columns

#: Rows per IN (...) lookup and per executemany batch.
CHUNK = 500
SYNC_STATE_COLUMNS: tuple[str, ...] = (
    "source", "last_sync_at", "cursor", "upload_id", "fetched", "new", "updated", "deleted", "rejected",
)
_EXTRA_COLUMNS = ("dataset", "licence", "source_extra")


@dataclass
class SyncBatch:
    """One pull, ready to apply.

    Attributes:
        source: the ``sync_state`` key, e.g. "acled/Kosovo" or "ucdp/Kosovo".
        label: upload file name for the new rows, e.g. "ACLED API: Kosovo".
        fmt: upload format, e.g. "acled-sync".
        dataset, licence: written into every pulled row (:mod:`geodata.licence`).
        valid: validated rows (:func:`geodata.validation.validate_incidents` ``.valid``).
        extras: per row of ``valid``, JSON text of kept source fields ("" when none).
        compare: "timestamp" (ACLED) or "content" (UCDP).
        deleted_ids: ``event_id_cnty`` values the source deleted.
        delete_dataset: only rows of this dataset are deleted.
        cursor: what the next pull starts from (stored as JSON).
        fetched, rejected: counts of the pull.
    """

    source: str
    label: str
    fmt: str
    dataset: str
    licence: str
    valid: pd.DataFrame
    extras: list[str]
    compare: str = "timestamp"
    deleted_ids: Sequence[str] = ()
    delete_dataset: str = "ACLED"
    cursor: dict[str, Any] = field(default_factory=dict)
    fetched: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class SyncResult:
    """What one applied sync changed."""

    new: int
    updated: int
    deleted: int
    upload_id: int | None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _chunks(seq: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def _norm(value: Any) -> str:
    """A stored or pulled value as comparable text (dates ISO, floats to 6 decimals, NULL as "")."""
    if value is None:
        return ""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


class _Tx:
    """Dialect differences for the statements below: parameter marker, transaction, row ids."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.pg = getattr(store, "dialect", "sqlite") == "postgres"
        self.conn = store.conn
        self.cur = self.conn.cursor()

    def sql(self, text: str) -> str:
        return text.replace("?", "%s") if self.pg else text

    def execute(self, text: str, params: Sequence[Any] = ()) -> Any:
        self.cur.execute(self.sql(text), tuple(params))
        return self.cur

    def executemany(self, text: str, rows: list[tuple]) -> None:
        if rows:
            self.cur.executemany(self.sql(text), rows)

    def now(self) -> Any:
        return dt.datetime.now(dt.UTC) if self.pg else _now()


def apply_sync(store: Any, batch: SyncBatch, progress: Callable[[str], None] | None = None) -> SyncResult:
    """Apply one pull to ``store`` in one transaction.

    Args:
        store: an open SQLite or PostGIS store at schema version 5 or later.
        batch: the pull.
        progress: called with one-line messages inside the transaction (an exception raised by it
            rolls everything back, like any other failure).
    Returns:
        The counts (:class:`SyncResult`).
    Raises:
        StoreError: if the database rejects the write (nothing is kept).
    """
    say = progress or (lambda _m: None)
    tx = _Tx(store)
    driver_error: type[BaseException] = store._psycopg.Error if tx.pg else __import__("sqlite3").Error
    try:
        if tx.pg:
            with store.conn.transaction():
                result = _apply(tx, batch, say)
        else:
            tx.execute("BEGIN IMMEDIATE")
            try:
                result = _apply(tx, batch, say)
                tx.execute("COMMIT")
            except BaseException:
                if store.conn.in_transaction:
                    store.conn.execute("ROLLBACK")
                raise
    except driver_error as exc:
        raise StoreError(f"the sync was not stored (nothing was kept): {exc}") from exc
    finally:
        tx.cur.close()
    return result


def _apply(tx: _Tx, batch: SyncBatch, say: Callable[[str], None]) -> SyncResult:
    valid = batch.valid
    names = STORED_COLUMNS + _EXTRA_COLUMNS
    cols = row_columns(valid) if len(valid) else [[] for _ in STORED_COLUMNS]
    n = len(valid)
    rows = [tuple(c[i] for c in cols) + (batch.dataset, batch.licence, batch.extras[i]) for i in range(n)]
    keys = [r[0] for r in rows]

    stored: dict[str, tuple] = {}
    select_cols = ("id", "upload_id") + names
    for part in _chunks(keys):
        cur = tx.execute(f"SELECT {', '.join(select_cols)} FROM incidents WHERE dedup_key IN ({', '.join('?' * len(part))})",
                         part)
        for r in cur.fetchall():
            stored[r[select_cols.index("dedup_key")]] = r
    say(f"store: {len(stored)} of {n} pulled events already stored")

    ts_at = names.index("timestamp")
    inserts: list[tuple] = []
    updates: list[tuple] = []
    changes: list[tuple] = []
    now = tx.now()
    for row in rows:
        old = stored.get(row[0])
        if old is None:
            inserts.append(row)
            continue
        old_vals = old[2:]
        if batch.compare == "timestamp":
            changed = int(row[ts_at] or 0) > int(old_vals[ts_at] or 0)
        else:
            skip = {names.index("source_line")}
            changed = any(_norm(a) != _norm(b) for i, (a, b) in enumerate(zip(row, old_vals)) if i not in skip)
        if not changed:
            continue
        updates.append(row[1:] + (old[0],))
        previous = {c: _norm(v) for c, v, nv in zip(names, old_vals, row) if _norm(v) != _norm(nv) and c != "source_line"}
        changes.append((batch.source, old[1], row[0], "updated", now, json.dumps(previous, ensure_ascii=False)))

    upload_id: int | None = None
    if inserts:
        sha = hashlib.sha256("\n".join(sorted(r[0] for r in inserts)).encode("utf-8")).hexdigest()
        cur = tx.execute(
            "INSERT INTO uploads (file_name, sha256, format, uploaded_at, rows_read, rejected, warnings) "
            "VALUES (?, ?, ?, ?, ?, ?, 0)" + (" RETURNING id" if tx.pg else ""),
            (batch.label, sha, batch.fmt, now, batch.fetched, batch.rejected))
        upload_id = int(cur.fetchone()[0]) if tx.pg else int(cur.lastrowid)
        col_list = ", ".join(("upload_id",) + names)
        if tx.pg:
            sql = (f"INSERT INTO incidents ({col_list}, geom) VALUES ({', '.join(['?'] * (len(names) + 1))}, "
                   "ST_SetSRID(ST_MakePoint(?, ?), 4326))")
            lon_at, lat_at = names.index("longitude"), names.index("latitude")
            params = [(upload_id,) + r + (r[lon_at], r[lat_at]) for r in inserts]
        else:
            sql = f"INSERT INTO incidents ({col_list}) VALUES ({', '.join(['?'] * (len(names) + 1))})"
            params = [(upload_id,) + r for r in inserts]
        for done, part in enumerate(_chunks(params), start=1):
            tx.executemany(sql, list(part))
            say(f"store: inserted {min(done * CHUNK, len(params))} of {len(params)} new events")
        tx.execute("UPDATE uploads SET accepted = ?, duplicates = ? WHERE id = ?",
                   (len(inserts), n - len(inserts), upload_id))

    if updates:
        sets = ", ".join(f"{c} = ?" for c in names[1:])
        geom = ", geom = ST_SetSRID(ST_MakePoint(longitude, latitude), 4326)" if tx.pg else ""
        tx.executemany(f"UPDATE incidents SET {sets} WHERE id = ?", updates)
        if geom:
            ids = [u[-1] for u in updates]
            for part in _chunks(ids):
                tx.execute(f"UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) "
                           f"WHERE id IN ({', '.join('?' * len(part))})", part)
        say(f"store: updated {len(updates)} events")

    deleted = 0
    del_keys = sorted({"id:" + str(i).strip() for i in batch.deleted_ids if str(i).strip()})
    for part in _chunks(del_keys):
        marks = ", ".join("?" * len(part))
        cur = tx.execute(f"SELECT id, upload_id, {', '.join(names)} FROM incidents "
                         f"WHERE dedup_key IN ({marks}) AND dataset = ?", (*part, batch.delete_dataset))
        gone = cur.fetchall()
        for r in gone:
            previous = {c: _norm(v) for c, v in zip(names, r[2:])}
            changes.append((batch.source, r[1], r[2], "deleted", now, json.dumps(previous, ensure_ascii=False)))
        if gone:
            tx.execute(f"DELETE FROM incidents WHERE id IN ({', '.join('?' * len(gone))})", [r[0] for r in gone])
            deleted += len(gone)
    if deleted:
        say(f"store: deleted {deleted} events")

    tx.executemany("INSERT INTO sync_changes (source, upload_id, dedup_key, change, changed_at, previous) "
                   "VALUES (?, ?, ?, ?, ?, ?)", changes)
    tx.execute(
        "INSERT INTO sync_state (source, last_sync_at, cursor, upload_id, fetched, new, updated, deleted, rejected) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source) DO UPDATE SET last_sync_at = excluded.last_sync_at, "
        "cursor = excluded.cursor, upload_id = COALESCE(excluded.upload_id, sync_state.upload_id), "
        "fetched = excluded.fetched, new = excluded.new, updated = excluded.updated, deleted = excluded.deleted, "
        "rejected = excluded.rejected",
        (batch.source, now, json.dumps(batch.cursor, sort_keys=True), upload_id, batch.fetched, len(inserts),
         len(updates), deleted, batch.rejected))
    return SyncResult(len(inserts), len(updates), deleted, upload_id)


def read_sync_state(store: Any) -> pd.DataFrame:
    """Every source's last sync: :data:`SYNC_STATE_COLUMNS`, ``last_sync_at`` as ISO text (UTC).

    Raises:
        StoreError: if the store has no sync tables (schema older than version 5).
    """
    tx = _Tx(store)
    try:
        rows = tx.execute(f"SELECT {', '.join(SYNC_STATE_COLUMNS)} FROM sync_state ORDER BY source").fetchall()
    except Exception as exc:  # driver-specific "no such table"; the message says what to do
        if tx.pg:
            store.conn.rollback()
        raise StoreError(f"the store has no sync tables yet (schema version {store.schema_version()}): {exc}") from exc
    finally:
        tx.cur.close()
    if tx.pg:
        store.conn.rollback()
    out = pd.DataFrame(rows, columns=list(SYNC_STATE_COLUMNS))
    if len(out):
        out["last_sync_at"] = [v.astimezone(dt.UTC).isoformat(timespec="seconds")
                               if isinstance(v, dt.datetime) else str(v) for v in out["last_sync_at"]]
    return out


def sync_cursor(store: Any, source: str) -> dict[str, Any]:
    """The cursor saved by the last sync of ``source`` (``{}`` before the first)."""
    state = read_sync_state(store)
    hit = state.loc[state["source"] == source, "cursor"]
    if hit.empty:
        return {}
    try:
        value = json.loads(str(hit.iat[0]))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def read_changes(store: Any, source: str | None = None) -> pd.DataFrame:
    """The provenance of sync updates and deletions: source, upload_id, dedup_key, change, changed_at, previous."""
    tx = _Tx(store)
    where, params = (" WHERE source = ?", [source]) if source else ("", [])
    try:
        rows = tx.execute("SELECT source, upload_id, dedup_key, change, changed_at, previous FROM sync_changes"
                          f"{where} ORDER BY id", params).fetchall()
    finally:
        tx.cur.close()
        if tx.pg:
            store.conn.rollback()
    return pd.DataFrame(rows, columns=["source", "upload_id", "dedup_key", "change", "changed_at", "previous"])


def stored_columns(store: Any, columns: Sequence[str]) -> pd.DataFrame:
    """Selected raw columns of every stored incident (for tests and the Data sources page).

    Raises:
        ValueError: for a column that is not an incident, provenance or licence column.
    """
    allowed = set(INCIDENT_COLUMNS) | set(_EXTRA_COLUMNS) | {"dedup_key", "upload_id", "id"}
    bad = [c for c in columns if c not in allowed]
    if bad:
        raise ValueError(f"not a stored column: {bad}")
    tx = _Tx(store)
    try:
        rows = tx.execute(f"SELECT {', '.join(columns)} FROM incidents ORDER BY dedup_key").fetchall()
    finally:
        tx.cur.close()
        if tx.pg:
            store.conn.rollback()
    return pd.DataFrame(rows, columns=list(columns))
