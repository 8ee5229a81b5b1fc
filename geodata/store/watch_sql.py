"""SQL of the per-incident change log and of watch areas (migration 11; issue 20).

The change log says what arrived or changed in the store, and when (store time, UTC, and the data
version): an upload is one entry (its rows are ``incidents.upload_id``), everything else one entry
per incident (sync update, sync deletion, undo, status change, merge) with a snapshot of the row,
so a removed incident can still be described and placed on the map. Every function here takes an
open :class:`geodata.store.base.BaseStore` (SQLite or PostGIS) and, for writes, the caller's cursor,
so a log entry commits or rolls back with the change it describes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd

#: Columns of a change-log entry as :func:`log_entries` returns them.
LOG_COLUMNS: tuple[str, ...] = (
    "id", "n", "at", "kind", "change", "upload_id", "event_id_cnty", "what", "event_date", "event_type",
    "location", "fatalities", "latitude", "longitude", "actors", "dataset", "origin_upload",
)
#: Incident columns the digest needs (current rows).
ROW_COLUMNS: tuple[str, ...] = (
    "event_id_cnty", "event_date", "event_type", "location", "fatalities", "latitude", "longitude", "actors",
    "dataset", "upload_id", "status",
)
_SNAPSHOT = ("event_id_cnty, CAST(event_date AS TEXT), event_type, location, fatalities, latitude, longitude, "
             "actor1 || ';' || actor2, dataset, upload_id")
_LOG_INSERT = ("INSERT INTO change_log (n, at, kind, change, upload_id, what, event_id_cnty, event_date, event_type, "
               "location, fatalities, latitude, longitude, actors, dataset, origin_upload) ")


def now_text_sql(store: Any) -> str:
    """SQL giving the store's current UTC time as ISO text (same format for every row of a back-end)."""
    if store.dialect == "postgres":
        return "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
    return "strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now')"


def _head(store: Any) -> str:
    # Logged before the step's _bump in the same transaction: the entry carries the version it makes.
    return f"(SELECT n + 1 FROM data_version WHERE id = 1), {now_text_sql(store)}"


def log_upload(store: Any, cur: Any, upload_id: int, kind: str = "upload") -> None:
    """Log an upload (or a sync's new rows) as one entry: its new rows are those it inserted."""
    p = store.mark
    cur.execute(f"INSERT INTO change_log (n, at, kind, change, upload_id) VALUES ({_head(store)}, {p}, 'new', {p})",
                (kind, upload_id))


def log_rows(store: Any, cur: Any, kind: str, change: str, where: str, params: Sequence[object],
             what: str = "") -> None:
    """Log one entry per incident selected by ``where`` (run it *before* deleting them).

    Args:
        store, cur: the store and the change's cursor.
        kind: what happened ("undo", "sync-update", "sync-delete", "status", "merge").
        change: "changed" or "removed".
        where: a condition on ``incidents`` (SQL text with the store's parameter markers).
        params: its parameters.
        what: a short description of the change.
    """
    p = store.mark
    cur.execute(f"{_LOG_INSERT}SELECT {_head(store)}, {p}, {p}, NULL, {p}, {_SNAPSHOT} FROM incidents WHERE {where}",
                (kind, change, what, *params))


def log_each(store: Any, cur: Any, kind: str, change: str, items: Sequence[tuple[str, int]]) -> None:
    """Log one entry per ``(what, incident row id)`` (e.g. a sync update naming the changed columns)."""
    p = store.mark
    cur.executemany(f"{_LOG_INSERT}SELECT {_head(store)}, {p}, {p}, NULL, {p}, {_SNAPSHOT} FROM incidents WHERE id = {p}",
                    [(kind, change, what, rid) for what, rid in items])


def log_event(store: Any, cur: Any, kind: str, event_id: str, what: str) -> None:
    """Log a change of one incident named by ``event_id_cnty`` (status change, merge)."""
    log_rows(store, cur, kind, "changed", f"event_id_cnty = {store.mark}", (event_id,), what)


# -- reading the log -----------------------------------------------------------------------------------
def log_head(store: Any) -> tuple[int, str | None]:
    """``(id, at)`` of the newest change-log entry (``(0, None)`` when the log is empty)."""
    rows = store._rows("SELECT id, at FROM change_log ORDER BY id DESC LIMIT 1")
    return (int(rows[0][0]), str(rows[0][1])) if rows else (0, None)


def log_entries(store: Any, after_id: int, upto_id: int, since_at: str | None = None) -> pd.DataFrame:
    """Change-log entries with ``after_id < id <= upto_id`` (and ``at > since_at``), oldest first."""
    p = store.mark
    sql = f"SELECT {', '.join(LOG_COLUMNS)} FROM change_log WHERE id > {p} AND id <= {p}"
    params: list[object] = [after_id, upto_id]
    if since_at is not None:
        sql += f" AND at > {p}"
        params.append(since_at)
    return pd.DataFrame(store._rows(sql + " ORDER BY id", params), columns=list(LOG_COLUMNS))


def _current(store: Any, where: str, params: Sequence[object]) -> pd.DataFrame:
    sql = (f"SELECT i.event_id_cnty, CAST(i.event_date AS TEXT), i.event_type, i.location, i.fatalities, i.latitude, i.longitude, "
           f"i.actor1 || ';' || i.actor2, i.dataset, i.upload_id, COALESCE(s.status, 'reported') FROM incidents i "
           f"LEFT JOIN incident_status s ON s.event_id_cnty = i.event_id_cnty WHERE {where}")
    return pd.DataFrame(store._rows(sql, params), columns=list(ROW_COLUMNS))


def rows_of_uploads(store: Any, upload_ids: Sequence[int],
                    box: tuple[float, float, float, float] | None = None) -> pd.DataFrame:
    """Current incidents that ``upload_ids`` inserted (inside the lon/lat ``box`` when given; columns
    :data:`ROW_COLUMNS`): a digest after a million-row upload reads only its area's rows."""
    ids = [int(u) for u in upload_ids]
    if not ids:
        return pd.DataFrame(columns=list(ROW_COLUMNS))
    where = f"i.upload_id IN ({', '.join([store.mark] * len(ids))})"
    params: list[object] = list(ids)
    if box is not None:
        p = store.mark
        where += f" AND i.longitude >= {p} AND i.longitude <= {p} AND i.latitude >= {p} AND i.latitude <= {p}"
        params += [box[0], box[2], box[1], box[3]]
    return _current(store, where, params)


def rows_by_event_id(store: Any, event_ids: Sequence[str]) -> pd.DataFrame:
    """Current incidents with these ``event_id_cnty`` (columns :data:`ROW_COLUMNS`)."""
    ids = sorted({str(e) for e in event_ids})
    frames = [_current(store, f"i.event_id_cnty IN ({', '.join([store.mark] * len(part))})", part)
              for part in (ids[i:i + 500] for i in range(0, len(ids), 500))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(ROW_COLUMNS))


def rows_in_box(store: Any, box: tuple[float, float, float, float]) -> pd.DataFrame:
    """Current incidents inside a lon/lat bounding box ``(minx, miny, maxx, maxy)``."""
    p = store.mark
    return _current(store, f"i.longitude >= {p} AND i.longitude <= {p} AND i.latitude >= {p} AND i.latitude <= {p}",
                    (box[0], box[2], box[1], box[3]))


# -- watch areas -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class WatchRow:
    """A stored watch area (see :class:`geodata.service.watch.WatchArea`)."""

    owner: str
    name: str
    kind: str
    ref: str
    km: float | None
    geometry: str
    filters: dict[str, Any]
    cursor: int
    cursor_at: str
    created_at: str


_WATCH_COLS = "owner, name, kind, ref, km, geometry, filters, cursor, cursor_at, created_at"


def _watch(row: tuple[Any, ...]) -> WatchRow:
    return WatchRow(str(row[0]), str(row[1]), str(row[2]), str(row[3]), None if row[4] is None else float(row[4]),
                    str(row[5]), json.loads(row[6] or "{}"), int(row[7]), str(row[8]), str(row[9]))


def add_watch(store: Any, owner: str, name: str, kind: str, ref: str, km: float | None, geometry: str,
              filters: dict[str, Any]) -> WatchRow | None:
    """Save a watch area whose cursor is the newest log entry (now); ``None`` if the name is taken."""
    p = store.mark
    with store._write("the watch area was not saved") as cur:
        cur.execute(f"SELECT 1 FROM watch_areas WHERE owner = {p} AND name = {p}", (owner, name))
        if cur.fetchone() is not None:
            return None
        now = now_text_sql(store)
        cur.execute(f"INSERT INTO watch_areas ({_WATCH_COLS}) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, "
                    f"(SELECT COALESCE(MAX(id), 0) FROM change_log), {now}, {now})",
                    (owner, name, kind, ref, km, geometry, json.dumps(filters, sort_keys=True)))
    return get_watch(store, owner, name)


def get_watch(store: Any, owner: str, name: str) -> WatchRow | None:
    """One watch area, or ``None``."""
    p = store.mark
    rows = store._rows(f"SELECT {_WATCH_COLS} FROM watch_areas WHERE owner = {p} AND name = {p}", (owner, name))
    return _watch(rows[0]) if rows else None


def list_watches(store: Any, owner: str | None = None) -> list[WatchRow]:
    """Watch areas (of ``owner``, or everyone's), by owner and name."""
    if owner is None:
        rows = store._rows(f"SELECT {_WATCH_COLS} FROM watch_areas ORDER BY owner, name")
    else:
        rows = store._rows(f"SELECT {_WATCH_COLS} FROM watch_areas WHERE owner = {store.mark} ORDER BY name", (owner,))
    return [_watch(r) for r in rows]


def remove_watch(store: Any, owner: str, name: str) -> bool:
    """Delete a watch area; ``False`` if there was none."""
    p = store.mark
    with store._write("the watch area was not removed") as cur:
        cur.execute(f"DELETE FROM watch_areas WHERE owner = {p} AND name = {p}", (owner, name))
        return bool(cur.rowcount)


def set_cursor(store: Any, owner: str, name: str, log_id: int, at: str) -> None:
    """Move a watch area's cursor (what its owner has read) to log entry ``log_id``."""
    p = store.mark
    with store._write("the watch area's read mark was not saved") as cur:
        cur.execute(f"UPDATE watch_areas SET cursor = {p}, cursor_at = {p} WHERE owner = {p} AND name = {p}",
                    (log_id, at, owner, name))


def log_time(store: Any, log_id: int) -> str | None:
    """Store time of log entry ``log_id`` (``None`` if there is none)."""
    rows = store._rows(f"SELECT at FROM change_log WHERE id = {store.mark}", (log_id,))
    return str(rows[0][0]) if rows else None


def first_after(store: Any, at: str) -> int:
    """The id just before the first log entry later than ``at`` (a cursor for ``--since TIME``)."""
    rows = store._rows(f"SELECT COALESCE(MAX(id), 0) FROM change_log WHERE at <= {store.mark}", (at,))
    return int(rows[0][0])
