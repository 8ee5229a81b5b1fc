"""The store side of ``sync``: one transaction that upserts a pull, applies deletions and records state.

Works on both back-ends through the primitives every store shares
(:class:`geodata.store.base.BaseStore`: ``_write``, ``_insert_incidents``, ``_bump``, ``mark``);
every statement is here, in :mod:`geodata.store`.

Rules (issue 12):

* A pulled row whose key (``id:<event_id_cnty>``) is not stored is **new**. A sync that adds or
  changes rows is recorded as one upload (format "acled-sync"/"ucdp-sync") holding the new and the
  updated rows (``upload_rows``), so it is listed with the uploads and can be undone.
* A stored row is **updated** when the pull is newer: ACLED's ``timestamp`` is larger (compare
  "timestamp"), or any source value differs (compare "content", for UCDP, which has no timestamp).
  The old values are kept in ``sync_changes`` (provenance of the change).
* An id on ACLED's deleted list is **deleted** only where the stored row's dataset is ACLED; the
  removed row's values are kept in ``sync_changes``.
* **Ownership** (issue 18): a row's dataset says which source it came from, and only that source's
  sync may update or delete it: the ACLED sync changes ACLED rows (pulled by a sync, or an uploaded
  ACLED export — ACLED's own data, whose corrections and retractions should follow), the UCDP sync
  UCDP rows. The project's bundled rows (dataset "conflictmap"), user uploads of any other format
  (dataset "upload") and another source's rows are never rewritten or deleted by a sync: a pulled row
  whose id is already held by such a row is a **collision**, counted as rejected, listed in the
  progress output with its reason and kept in ``sync_changes`` (change "collision", the pulled values)
  so an analyst can compare the two as possible duplicates.
* **Exact undo**: before a sync updates or deletes a row, the whole row is copied to ``sync_before``
  (schema 9) under the sync's upload id; a sync that changes anything — deletions alone included —
  is an upload. :func:`restore_sync_rows` (called by ``undo_upload``) puts every copied row back.
* ``sync_state`` holds, per source key, the last sync time, the cursor and the counts.

Everything happens in one transaction and advances the data version: a failure or a killed
process leaves the store as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geodata.model.schema import INCIDENT_COLUMNS
from geodata.store.records import STORED_COLUMNS, StoreError, row_columns
from geodata.store.watch_sql import log_each, log_rows, log_upload

#: Rows per IN (...) lookup and per executemany batch.
CHUNK = 500
SYNC_STATE_COLUMNS: tuple[str, ...] = (
    "source", "last_sync_at", "cursor", "upload_id", "fetched", "new", "updated", "deleted", "rejected",
)
#: Per-row columns of migration 5.
LICENCE_COLUMNS: tuple[str, ...] = ("dataset", "licence", "source_extra")
#: Columns a content comparison ignores: where the row was in the pull, and what the store derives itself.
_NOT_COMPARED = frozenset({"source_line", "municipality", "admin2_mismatch"})
CHANGE_COLUMNS: tuple[str, ...] = ("source", "upload_id", "dedup_key", "change", "changed_at", "previous")

Progress = Callable[[str], None]


@dataclass
class SyncBatch:
    """One pull, ready to apply.

    Attributes:
        source: the ``sync_state`` key, e.g. "acled/Kosovo" or "ucdp/Kosovo".
        label: upload file name for the sync, e.g. "ACLED API: Kosovo".
        fmt: upload format, e.g. "acled-sync".
        dataset, licence: written into every pulled row (:mod:`geodata.export.licence`).
        valid: validated rows (:func:`geodata.ingest.validation.validate_incidents` ``.valid``), ideally with
            ``municipality``/``admin2_mismatch`` (:func:`geodata.geo.enrich.locate_rows`).
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
    """What one applied sync changed (``upload_id`` is ``None`` when nothing was added or updated)."""

    new: int
    updated: int
    deleted: int
    upload_id: int | None
    collisions: int = 0


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


def apply_sync(store: Any, batch: SyncBatch, progress: Progress | None = None) -> SyncResult:
    """Apply one pull to ``store`` in one transaction.

    Args:
        store: an open :class:`geodata.store.base.BaseStore` (SQLite or PostGIS) at schema 5 or later.
        batch: the pull.
        progress: called with one-line messages inside the transaction (an exception raised by it
            rolls everything back, like any other failure).
    Returns:
        The counts (:class:`SyncResult`).
    Raises:
        StoreError: if the database refuses the write (nothing is kept).
    """
    say = progress or (lambda _m: None)
    with store._write("the sync was not stored") as cur:
        result = _apply(store, cur, batch, say)
        store._bump(cur, "sync", targets=(batch.source,) + ((result.upload_id,) if result.upload_id else ()))
    return result


def _apply(store: Any, cur: Any, batch: SyncBatch, say: Progress) -> SyncResult:
    p = store.mark
    pg = store.dialect == "postgres"
    valid = batch.valid
    n = len(valid)
    names = STORED_COLUMNS + LICENCE_COLUMNS
    cols = row_columns(valid) if n else [np.array([], dtype=object) for _ in STORED_COLUMNS]
    extras = np.array(batch.extras if n else [], dtype=object)
    rows = [tuple(c[i] for c in cols) + (batch.dataset, batch.licence, extras[i]) for i in range(n)]
    keys = [r[0] for r in rows]

    stored: dict[str, tuple[Any, ...]] = {}
    owner: dict[str, tuple[str, str]] = {}  # dedup_key -> (upload format, dataset) of the stored row
    cols_i = ", ".join(f"i.{c}" for c in names)
    for part in _chunks(keys):
        cur.execute(f"SELECT i.id, {cols_i}, u.format FROM incidents i JOIN uploads u ON u.id = i.upload_id "
                    f"WHERE i.dedup_key IN ({', '.join([p] * len(part))})", list(part))
        for r in cur.fetchall():
            stored[r[1]] = r[:-1]
            owner[r[1]] = (str(r[-1]), str(r[1 + names.index("dataset")]))
    say(f"store: {len(stored)} of {n} pulled events already stored")

    ts_at = names.index("timestamp")
    compared = [i for i, c in enumerate(names) if c not in _NOT_COMPARED]
    new_at: list[int] = []
    updates: list[tuple[Any, ...]] = []
    changes: list[tuple[Any, ...]] = []
    what: list[tuple[str, int]] = []  # (changed columns, row id) for the change log
    collisions = 0
    for i, row in enumerate(rows):
        old = stored.get(row[0])
        if old is None:
            new_at.append(i)
            continue
        if owner[row[0]][1] != batch.dataset:
            # Not this source's row (bundled, an upload, another source): never rewritten by a sync.
            collisions += 1
            fmt, dataset = owner[row[0]]
            say(f"store: {row[0][3:] if row[0].startswith('id:') else row[0]} rejected: the id is held by a "
                f"{dataset} row ({fmt}) that this sync does not own; kept as it is (possible duplicate)")
            pulled = {names[j]: _norm(row[j]) for j in compared}
            changes.append((old[0], row[0], "collision", json.dumps(pulled, ensure_ascii=False)))
            continue
        old_vals = old[1:]
        if batch.compare == "timestamp":
            changed = int(row[ts_at] or 0) > int(old_vals[ts_at] or 0)
        else:
            changed = any(_norm(row[j]) != _norm(old_vals[j]) for j in compared)
        if not changed:
            continue
        updates.append(row[1:] + (old[0],))
        previous = {names[j]: _norm(old_vals[j]) for j in compared if _norm(old_vals[j]) != _norm(row[j])}
        changes.append((old[0], row[0], "updated", json.dumps(previous, ensure_ascii=False)))
        what.append((", ".join(sorted(previous)) or "timestamp", old[0]))

    # Rows to delete: on the deleted list and of the source's own dataset.
    del_keys = sorted({"id:" + str(i).strip() for i in batch.deleted_ids if str(i).strip()})
    doomed: list[tuple[Any, ...]] = []
    for part in _chunks(del_keys):
        cur.execute(f"SELECT i.id, {cols_i} FROM incidents i "
                    f"WHERE i.dedup_key IN ({', '.join([p] * len(part))}) AND i.dataset = {p}",
                    [*part, batch.delete_dataset])
        doomed.extend(cur.fetchall())

    upload_id: int | None = None
    if new_at or updates or doomed:
        touched = (sorted(keys[i] for i in new_at) + sorted(str(u[-1]) for u in updates)
                   + sorted("-" + str(r[1]) for r in doomed))
        sha = hashlib.sha256("\n".join(touched).encode("utf-8")).hexdigest()
        cur.execute("INSERT INTO uploads (file_name, sha256, format, uploaded_at, rows_read, rejected, warnings) "
                    f"VALUES ({p}, {p}, {p}, {store._now_sql()}, {p}, {p}, 0) RETURNING id",
                    (batch.label, sha, batch.fmt, batch.fetched, batch.rejected + collisions))
        upload_id = int(cur.fetchone()[0])
    if updates:
        _keep_before(store, cur, int(upload_id or 0), "updated", [u[-1] for u in updates])
    if doomed:
        _keep_before(store, cur, int(upload_id or 0), "deleted", [r[0] for r in doomed])

    inserted = 0
    if new_at:
        idx = np.asarray(new_at, dtype=int)
        new_cols = [np.asarray(c, dtype=object)[idx] for c in cols]
        inserted = store._insert_incidents(
            cur, upload_id, new_cols, lambda done: say(f"store: inserting new events ({done} of {len(new_at)})"))
        cur.executemany(f"UPDATE incidents SET dataset = {p}, licence = {p}, source_extra = {p} WHERE dedup_key = {p}",
                        [(batch.dataset, batch.licence, rows[i][-1], rows[i][0]) for i in new_at])
        say(f"store: {inserted} new events")
        log_upload(store, cur, int(upload_id or 0), "sync")  # upload_id is set whenever new_at

    if updates:
        sets = ", ".join(f"{c} = {p}" for c in names[1:])
        for part in _chunks(updates):
            cur.executemany(f"UPDATE incidents SET {sets} WHERE id = {p}", list(part))
            ids = [u[-1] for u in part]
            marks = ", ".join([p] * len(ids))
            if pg:
                cur.execute("UPDATE incidents SET geom = ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) "
                            f"WHERE id IN ({marks})", ids)
            conflict = " ON CONFLICT DO NOTHING" if pg else ""
            verb = "INSERT" if pg else "INSERT OR IGNORE"
            cur.executemany(f"{verb} INTO upload_rows (upload_id, incident_id) VALUES ({p}, {p}){conflict}",
                            [(upload_id, i) for i in ids])
        log_each(store, cur, "sync-update", "changed", what)
        say(f"store: updated {len(updates)} events")

    deleted = 0
    for part in _chunks(doomed):
        for r in part:
            previous = {c: _norm(v) for c, v in zip(names, r[1:]) if c not in ("source_line",)}
            changes.append((r[0], r[1], "deleted", json.dumps(previous, ensure_ascii=False)))
        ids = [r[0] for r in part]
        marks = ", ".join([p] * len(ids))
        log_rows(store, cur, "sync-delete", "removed", f"id IN ({marks})", ids, f"deleted by {batch.source}")
        cur.execute(f"DELETE FROM upload_rows WHERE incident_id IN ({marks})", ids)
        cur.execute(f"DELETE FROM incidents WHERE id IN ({marks})", ids)
        deleted += len(part)
    if deleted:
        say(f"store: deleted {deleted} events")

    if upload_id is not None:
        cur.execute(f"UPDATE uploads SET accepted = {p}, duplicates = {p} WHERE id = {p}",
                    (inserted, n - inserted, upload_id))
    if changes:
        cur.executemany(
            "INSERT INTO sync_changes (source, upload_id, dedup_key, change, changed_at, previous) "
            f"VALUES ({p}, {p}, {p}, {p}, {store._now_sql()}, {p})",
            [(batch.source, upload_id, key, kind, prev) for _id, key, kind, prev in changes])
    cur.execute(
        "INSERT INTO sync_state (source, last_sync_at, cursor, upload_id, fetched, new, updated, deleted, rejected) "
        f"VALUES ({p}, {store._now_sql()}, {p}, {p}, {p}, {p}, {p}, {p}, {p}) ON CONFLICT (source) DO UPDATE SET "
        "last_sync_at = excluded.last_sync_at, cursor = excluded.cursor, "
        "upload_id = COALESCE(excluded.upload_id, sync_state.upload_id), fetched = excluded.fetched, "
        "new = excluded.new, updated = excluded.updated, deleted = excluded.deleted, rejected = excluded.rejected",
        (batch.source, json.dumps(batch.cursor, sort_keys=True), upload_id, batch.fetched, inserted,
         len(updates), deleted, batch.rejected + collisions))
    return SyncResult(inserted, len(updates), deleted, upload_id, collisions)


def _before_columns(store: Any, cur: Any) -> list[str]:
    """The incident columns ``sync_before`` copies (those it has; schema 9 took them from ``incidents``)."""
    cur.execute("SELECT * FROM sync_before WHERE 1 = 0")
    return [d[0] for d in cur.description if d[0] not in ("sync_upload_id", "change")]


def _keep_before(store: Any, cur: Any, upload_id: int, change: str, ids: Sequence[Any]) -> None:
    """Copy the rows ``ids`` as they are now into ``sync_before`` under ``upload_id`` (before a change)."""
    cols = ", ".join(_before_columns(store, cur))
    p = store.mark
    for part in _chunks(list(ids)):
        cur.execute(f"INSERT INTO sync_before (sync_upload_id, change, {cols}) "
                    f"SELECT {p}, {p}, {cols} FROM incidents WHERE id IN ({', '.join([p] * len(part))})",
                    [upload_id, change, *part])


def restore_sync_rows(store: Any, cur: Any, upload_id: int) -> int:
    """Inside an undo: put back every row the sync ``upload_id`` updated or deleted, as it was before.

    Updated rows get all their old values again; deleted rows come back with their id and are linked
    to the upload that held them. Does nothing for an upload that is not a sync.

    Args:
        store: the open store (its write transaction is ``cur``'s).
        cur: the undo's cursor.
        upload_id: the upload being undone.
    Returns:
        How many rows were restored.
    """
    p = store.mark
    cols = _before_columns(store, cur)
    cur.execute(f"SELECT COUNT(*) FROM sync_before WHERE sync_upload_id = {p}", (upload_id,))
    if not int(cur.fetchone()[0]):
        return 0
    listed = ", ".join(cols)
    changed = [c for c in cols if c != "id"]
    sets = ", ".join(f"{c} = (SELECT b.{c} FROM sync_before b WHERE b.sync_upload_id = {p} AND b.change = 'updated' "
                     "AND b.id = incidents.id)" for c in changed)
    cur.execute(f"UPDATE incidents SET {sets} WHERE id IN (SELECT id FROM sync_before WHERE sync_upload_id = {p} "
                "AND change = 'updated')", [upload_id] * len(changed) + [upload_id])
    restored = max(cur.rowcount, 0)
    cur.execute(f"INSERT INTO incidents ({listed}) SELECT {listed} FROM sync_before "
                f"WHERE sync_upload_id = {p} AND change = 'deleted'", (upload_id,))
    restored += max(cur.rowcount, 0)
    conflict = " ON CONFLICT DO NOTHING" if store.dialect == "postgres" else ""
    verb = "INSERT" if store.dialect == "postgres" else "INSERT OR IGNORE"
    cur.execute(f"{verb} INTO upload_rows (upload_id, incident_id) SELECT upload_id, id FROM sync_before "
                f"WHERE sync_upload_id = {p} AND change = 'deleted'{conflict}", (upload_id,))
    return restored


def _utc_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="seconds")
    return "" if value is None else str(value)


def read_sync_state(store: Any) -> pd.DataFrame:
    """Every source's last sync: :data:`SYNC_STATE_COLUMNS`, ``last_sync_at`` as ISO text (UTC).

    Args:
        store: an open :class:`geodata.store.base.BaseStore` at schema 5 or later.
    Returns:
        One row per source key, by key.
    Raises:
        StoreError: if the store cannot be read.
    """
    rows = store._rows(f"SELECT {', '.join(SYNC_STATE_COLUMNS)} FROM sync_state ORDER BY source")
    out = pd.DataFrame(rows, columns=list(SYNC_STATE_COLUMNS))
    out["last_sync_at"] = [_utc_text(v) for v in out["last_sync_at"]]
    return out


def sync_cursor(store: Any, source: str) -> dict[str, Any]:
    """The cursor saved by the last sync of ``source`` (``{}`` before the first).

    Args:
        store: an open :class:`geodata.store.base.BaseStore` at schema 5 or later.
        source: the source key (:func:`geodata.sync.engine.source_key`, e.g. "acled/Kosovo").
    Returns:
        The saved JSON object; ``{}`` when none is saved or it is not a JSON object.
    Raises:
        StoreError: if the store cannot be read.
    """
    rows = store._rows(f"SELECT cursor FROM sync_state WHERE source = {store.mark}", (source,))
    if not rows:
        return {}
    try:
        value = json.loads(str(rows[0][0]))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def read_changes(store: Any, source: str | None = None) -> pd.DataFrame:
    """The provenance of sync updates and deletions (:data:`CHANGE_COLUMNS`), oldest first.

    Args:
        store: an open :class:`geodata.store.base.BaseStore` at schema 5 or later.
        source: only this source key's changes (``None`` or "": every source's).
    Returns:
        One row per change, ``changed_at`` as ISO text (UTC).
    Raises:
        StoreError: if the store cannot be read.
    """
    where, params = (f" WHERE source = {store.mark}", [source]) if source else ("", [])
    rows = store._rows(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM sync_changes{where} ORDER BY id", params)
    out = pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
    out["changed_at"] = [_utc_text(v) for v in out["changed_at"]]
    return out


def dataset_counts(store: Any) -> pd.DataFrame:
    """Stored incidents per dataset and licence: ``dataset``, ``licence``, ``incidents`` (most first).

    Args:
        store: an open :class:`geodata.store.base.BaseStore` at schema 5 or later.
    Raises:
        StoreError: if the store cannot be read.
    """
    rows = store._rows("SELECT dataset, licence, COUNT(*) FROM incidents GROUP BY dataset, licence ORDER BY 3 DESC, 1")
    return pd.DataFrame([(str(d), str(lic), int(n)) for d, lic, n in rows], columns=["dataset", "licence", "incidents"])


def stored_columns(store: Any, columns: Sequence[str]) -> pd.DataFrame:
    """Raw stored values of ``columns`` for every incident, ordered by key (tests, diagnostics).

    Args:
        store: an open :class:`geodata.store.base.BaseStore`.
        columns: incident, licence or key columns.
    Returns:
        One row per incident, the values as the driver returns them.
    Raises:
        ValueError: for a column that is not an incident, licence or key column.
    """
    allowed = set(INCIDENT_COLUMNS) | set(LICENCE_COLUMNS) | {"dedup_key", "upload_id", "id", "municipality"}
    bad = [c for c in columns if c not in allowed]
    if bad:
        raise ValueError(f"not a stored column: {bad}")
    return pd.DataFrame(store._rows(f"SELECT {', '.join(columns)} FROM incidents ORDER BY dedup_key"),
                        columns=list(columns))


__all__ = [
    "LICENCE_COLUMNS",
    "SYNC_STATE_COLUMNS",
    "StoreError",
    "SyncBatch",
    "SyncResult",
    "apply_sync",
    "dataset_counts",
    "read_changes",
    "read_sync_state",
    "restore_sync_rows",
    "stored_columns",
    "sync_cursor",
]
