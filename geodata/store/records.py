"""What the SQLite and PostGIS stores share: row keys, row preparation, filter SQL, result frames."""

from __future__ import annotations

from geodata._errors import StoreFailure

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa

from geodata.model.filters import FilterSpec
from geodata.model.schema import FLOAT_COLUMNS, INCIDENT_COLUMNS, INT_COLUMNS

#: Enrichment stored per incident at ingest (schema 3): municipality from the coordinates (through
#: the alias table when no boundaries are installed) and whether it differs from the stated admin2
#: (1/0, NULL when it cannot be judged). NULL municipality = not enriched yet.
ENRICHED_COLUMNS: tuple[str, ...] = ("municipality", "admin2_mismatch")
#: Columns written per incident, in this order (``upload_id`` is added by the store).
STORED_COLUMNS: tuple[str, ...] = ("dedup_key", "source_line") + INCIDENT_COLUMNS + ENRICHED_COLUMNS
#: Every column :meth:`read` can return (besides ``origin``).
READABLE_COLUMNS: tuple[str, ...] = INCIDENT_COLUMNS + ENRICHED_COLUMNS + ("dataset", "licence")

#: Columns of the content key used when a row has no ``event_id_cnty``.
CONTENT_KEY_COLUMNS: tuple[str, ...] = (
    "event_date", "event_type", "sub_event_type", "actor1", "actor2", "latitude", "longitude", "notes",
)
UPLOAD_COLUMNS: tuple[str, ...] = (
    "id", "file_name", "sha256", "format", "uploaded_at", "rows_read", "accepted", "rejected",
    "duplicates", "warnings", "status", "undone_at",
)

#: Called inside the upload's transaction after each batch with the number of rows written so far.
BatchHook = Callable[[int], None]


class StoreError(StoreFailure):
    """The store cannot be opened, migrated or written."""


@dataclass(frozen=True)
class UndoResult:
    """What undoing one upload did: ``removed`` incidents deleted, ``kept`` held by another live upload."""

    upload_id: int
    removed: int
    kept: int

    def __int__(self) -> int:  # old callers compared undo_upload(...) with a number
        return self.removed

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int):
            return self.removed == other
        if isinstance(other, UndoResult):
            return (self.upload_id, self.removed, self.kept) == (other.upload_id, other.removed, other.kept)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Proximity:
    """A proximity restriction as the store needs it (built by the service from routes/sites).

    Attributes:
        bbox: (minx, miny, maxx, maxy) in EPSG:4326 around the buffered features (a superset).
        metric_wkt: the chosen features' union in EPSG:32634, as WKT (PostGIS ``ST_DWithin``).
        radius_m: distance in metres (already including a small safety margin).
    """

    bbox: tuple[float, float, float, float]
    metric_wkt: str
    radius_m: float


@dataclass(frozen=True)
class StoreFacets:
    """Counts and distinct values of the stored incidents (hashable: safe in Streamlit caches)."""

    count: int
    first: dt.date | None
    last: dt.date | None
    actors: tuple[str, ...]
    municipalities: tuple[str, ...]


@dataclass(frozen=True)
class UploadMeta:
    """Provenance of one upload (the counts that validation decided)."""

    file_name: str
    sha256: str
    format: str
    rows_read: int
    rejected: int
    warnings: int
    #: The licence the uploader declared ("" = the format's default, see geodata.export.licence.licence_for_format).
    licence: str = ""


def dedup_keys(valid: pd.DataFrame) -> pd.Series:
    """One key per row that identifies the same event across uploads.

    ``id:<event_id_cnty>`` where the source gives an id; otherwise ``sha:<sha256>`` of the date,
    types, actors, coordinates rounded to 4 decimals (~10 m, so re-exports that print more or fewer
    decimals still match) and notes.

    Args:
        valid: validated rows (``event_date`` datetime64, coordinates float).
    Returns:
        Series of key strings, indexed like ``valid``.
    """
    ids = valid["event_id_cnty"].fillna("").astype(str).str.strip()
    keys = ("id:" + ids).astype(object)
    need = ids.eq("")
    if need.any():
        sub = valid.loc[need]
        parts = [
            _iso_dates(sub["event_date"]),
            sub["event_type"].astype(str), sub["sub_event_type"].astype(str),
            sub["actor1"].astype(str), sub["actor2"].astype(str),
            sub["latitude"].astype(float).round(4).map("{:.4f}".format),
            sub["longitude"].astype(float).round(4).map("{:.4f}".format),
            sub["notes"].astype(str),
        ]
        joined = parts[0].astype(str)
        for p in parts[1:]:
            joined = joined + "\x1f" + p.to_numpy()
        keys.loc[need] = ["sha:" + hashlib.sha256(s.encode("utf-8")).hexdigest() for s in joined]
    return keys


def _iso_dates(dates: pd.Series) -> pd.Series:
    """datetime64 -> 'YYYY-MM-DD' strings, fast (numpy, no per-row strftime)."""
    values = pd.to_datetime(dates).to_numpy().astype("datetime64[D]")
    return pd.Series(np.datetime_as_string(values, unit="D"), index=dates.index)


def row_columns(valid: pd.DataFrame) -> list[np.ndarray]:
    """The values of :data:`STORED_COLUMNS` as object arrays ready for the database driver.

    Missing numbers become ``None``; dates become ISO strings; text stays exactly as validated.
    ``municipality``/``admin2_mismatch`` come from ``valid`` when present (the pipeline enriches
    each upload's rows once), else from the stated admin2 through the alias table.

    Args:
        valid: validated rows (optionally with ``line``, ``municipality``, ``admin2_mismatch``).
    Returns:
        One object array per stored column, each as long as ``valid``.
    """
    cols: list[np.ndarray] = [dedup_keys(valid).to_numpy(dtype=object)]
    if "line" in valid:
        cols.append(valid["line"].astype("int64").to_numpy().astype(object))
    else:
        cols.append(np.full(len(valid), None, dtype=object))
    for c in INCIDENT_COLUMNS:
        s = valid[c]
        if c == "event_date":
            arr = _iso_dates(s).to_numpy(dtype=object)
        elif c in INT_COLUMNS:
            ints = s.astype("Int64")
            arr = np.array(ints.astype(object), dtype=object)
            arr[ints.isna().to_numpy()] = None
        elif c in FLOAT_COLUMNS:
            arr = s.astype(float).to_numpy().astype(object)
        elif s.dtype == object:
            arr = s.fillna("").to_numpy()
        else:
            arr = s.fillna("").to_numpy(dtype=object)
        cols.append(arr)
    if "municipality" not in valid:
        from geodata.geo.enrich import stated_municipality

        valid = valid.assign(municipality=stated_municipality(valid), admin2_mismatch=pd.NA)
    cols.append(valid["municipality"].fillna("").astype(str).to_numpy(dtype=object))
    mismatch = pd.array(valid["admin2_mismatch"], dtype="boolean")
    arr = np.array(mismatch.astype("Int64").astype(object), dtype=object)
    arr[mismatch.isna()] = None
    cols.append(arr)
    return cols


def arrow_rows(valid: pd.DataFrame) -> pa.Table:
    """The values of :data:`STORED_COLUMNS` as an Arrow table: the same values as :func:`row_columns`
    gives, without a Python object per cell (a bulk load binds them straight from Arrow).

    Text is Arrow ``string`` ("" where missing), whole numbers ``int64`` (null where missing),
    coordinates ``float64``, ``event_date`` ISO text, ``admin2_mismatch`` 1/0/null.
    """
    def text(s: pd.Series) -> pa.Array:
        if not isinstance(s.dtype, pd.StringDtype) and s.dtype != object:
            s = s.astype(str)
        return pa.array(s.fillna(""), type=pa.string(), from_pandas=True)

    def whole(s: pd.Series) -> pa.Array:
        return pa.array(s.astype("Int64"), type=pa.int64(), from_pandas=True)

    arrays: dict[str, pa.Array] = {"dedup_key": pa.array(dedup_keys(valid), type=pa.string(), from_pandas=True)}
    arrays["source_line"] = (whole(valid["line"]) if "line" in valid
                             else pa.nulls(len(valid), type=pa.int64()))
    for c in INCIDENT_COLUMNS:
        s = valid[c]
        if c == "event_date":
            days = pd.to_datetime(s).to_numpy().astype("datetime64[D]")
            arrays[c] = pa.array(days, type=pa.date32()).cast(pa.string())
        elif c in INT_COLUMNS:
            arrays[c] = whole(s)
        elif c in FLOAT_COLUMNS:
            arrays[c] = pa.array(s.astype(float).to_numpy(), type=pa.float64())
        else:
            arrays[c] = text(s)
    if "municipality" not in valid:
        from geodata.geo.enrich import stated_municipality

        valid = valid.assign(municipality=stated_municipality(valid), admin2_mismatch=pd.NA)
    arrays["municipality"] = text(valid["municipality"].fillna("").astype(str))
    arrays["admin2_mismatch"] = whole(pd.Series(pd.array(valid["admin2_mismatch"], dtype="boolean")))
    return pa.table(arrays)


def batches(cols: list[np.ndarray], size: int, lead: object = None) -> Iterator[tuple[int, Iterator[tuple[object, ...]]]]:
    """Yield ``(row_count, iterator of row tuples)``, ``size`` rows at a time.

    Args:
        cols: column arrays of equal length.
        size: rows per batch.
        lead: when not ``None``, a constant put first in every row (the upload id).
    Yields:
        ``(rows in this batch, their row tuples)``.
    """
    n = len(cols[0]) if cols else 0
    for start in range(0, n, size):
        part = [c[start:start + size] for c in cols]
        if lead is not None:
            part.insert(0, np.full(len(part[0]), lead, dtype=object))
        yield len(part[0]), zip(*part)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


#: How the store's SQL decides each :class:`~geodata.model.filters.FilterSpec` field: ``"exact"`` (pandas
#: need not look at it again) or ``"superset"`` (the SQL may select more; pandas trims). Fields not listed
#: (text, proximity) are left to pandas. This is the one description of the split: :func:`filter_sql`
#: builds its clause from it, and :func:`geodata.query.pushdown.residual_spec` clears the exact fields.
SQL_DECIDES: dict[str, str] = {
    "start": "exact", "end": "exact", "event_types": "exact", "sub_event_types": "exact",
    "municipalities": "exact", "min_fatalities": "exact", "statuses": "exact",
    # actor1/actor2 exactly, or an associated-actor list containing the name: "Synthetic actor 1" is
    # also found in "Synthetic actor 10; …", which pandas then drops (exact list membership).
    "actors": "superset",
}


def _in(column: str) -> Callable[[Any, str, Callable[[dt.date], object]], tuple[str, list[object]]]:
    def clause(values: Any, p: str, _date: Callable[[dt.date], object]) -> tuple[str, list[object]]:
        return f"{column} IN ({', '.join([p] * len(values))})", list(values)
    return clause


def _actors(actors: Any, p: str, _date: Callable[[dt.date], object]) -> tuple[str, list[object]]:
    marks = ", ".join([p] * len(actors))
    ors = [f"actor1 IN ({marks})", f"actor2 IN ({marks})"]
    params: list[object] = [*actors, *actors]
    for col in ("assoc_actor_1", "assoc_actor_2"):
        for actor in actors:
            ors.append(f"{col} LIKE {p} ESCAPE '\\'")
            params.append(f"%{_like_escape(actor)}%")
    return "(" + " OR ".join(ors) + ")", params


def _statuses(statuses: Any, p: str, _date: Callable[[dt.date], object]) -> tuple[str, list[object]]:
    # Verification status (migration 6): the current status row, absent = "reported".
    return ("COALESCE((SELECT s.status FROM incident_status s WHERE s.event_id_cnty = incidents.event_id_cnty), "
            f"'reported') IN ({', '.join([p] * len(statuses))})", list(statuses))


#: The SQL of each field :data:`SQL_DECIDES` names, in the order the clause is written.
_CLAUSES: dict[str, Callable[[Any, str, Callable[[dt.date], object]], tuple[str, list[object]]]] = {
    "start": lambda v, p, date: (f"event_date >= {p}", [date(v)]),
    "end": lambda v, p, date: (f"event_date <= {p}", [date(v)]),
    "event_types": _in("event_type"),
    "sub_event_types": _in("sub_event_type"),
    "municipalities": _in("municipality"),
    "min_fatalities": lambda v, p, _date: (f"fatalities >= {p}", [int(v)]),
    "actors": _actors,
    "statuses": _statuses,
}


def filter_sql(spec: FilterSpec | None, placeholder: str,
               date_param: Callable[[dt.date], object]) -> tuple[str, list[object]]:
    """Translate the store-side part of a :class:`FilterSpec` into a parameterised WHERE clause.

    The fields and how exactly the SQL decides each are :data:`SQL_DECIDES`: dates, event types,
    sub-event types, municipality (the stored column), minimum fatalities and verification status
    exactly; actors as a superset. Text, exact associated-actor membership and proximity stay with
    :func:`geodata.model.filters.apply_filters` at the call site.

    Args:
        spec: the selection, or ``None`` for everything.
        placeholder: the driver's parameter marker (``?`` or ``%s``).
        date_param: converts a date into the value the driver expects.
    Returns:
        ``(" WHERE ..." or "", params)``; values never appear in the SQL text.
    """
    if spec is None:
        return "", []
    where: list[str] = []
    params: list[object] = []
    for name, clause in _CLAUSES.items():
        value = getattr(spec, name)
        if value:  # unset fields (None, (), 0) select everything
            sql, values = clause(value, placeholder, date_param)
            where.append(sql)
            params.extend(values)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def checked_column(column: str) -> str:
    """``column`` if it is an incident column, for SQL that names a column (never user text).

    Raises:
        ValueError: for any other name.
    """
    if column not in READABLE_COLUMNS:
        raise ValueError(f"not an incident column: {column!r}")
    return column


def select_sql(where: str, columns: Sequence[str] = INCIDENT_COLUMNS, order: bool = True, limit: int | None = None) -> str:
    """The incident SELECT returning ``columns`` plus the upload id (ordered by date and id when
    ``order``; at most ``limit`` rows when given).

    Args:
        where: a clause from :func:`filter_sql` ("" for every incident).
        columns: incident columns (checked by :func:`checked_column`).
        order, limit: as above.
    Returns:
        The SQL text (values stay in the parameters of ``where``).
    Raises:
        ValueError: for a column that is not an incident column.
    """
    cols = ", ".join(checked_column(c) for c in columns)
    return (f"SELECT {cols}, upload_id FROM incidents{where}" + (" ORDER BY event_date, id" if order else "")
            + (f" LIMIT {int(limit)}" if limit is not None else ""))


#: Rows converted per step when reading incidents: the driver's row tuples (about 2 kB of Python
#: objects per row) exist for one chunk at a time, the frame itself is built from Arrow columns.
READ_CHUNK_ROWS = 50_000


def _arrow_column(name: str, values: tuple[Any, ...]) -> pa.Array:
    """One chunk of one result column as an Arrow array (typed like :func:`incidents_frame`'s result)."""
    if name in INT_COLUMNS or name in ("upload_id", "admin2_mismatch"):
        try:
            return pa.array(values, type=pa.int64())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. numbers stored as text: parse like pandas
            return pa.array(pd.to_numeric(pd.Series(values, dtype=object)).astype("Int64"), type=pa.int64())
    if name in FLOAT_COLUMNS:
        try:
            return pa.array(values, type=pa.float64())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # Decimal or text from a driver
            return pa.array(np.asarray([np.nan if v is None else float(v) for v in values], dtype=float))
    try:
        return pa.array(values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # dates from PostgreSQL, numbers in a text column
        return pa.array([None if v is None else str(v) for v in values], type=pa.string())


def incidents_frame_from_chunks(chunks: Iterable[Sequence[tuple[object, ...]]],
                                columns: Sequence[str] = INCIDENT_COLUMNS) -> pd.DataFrame:
    """Fetched rows, chunk by chunk, -> typed incident frame.

    Each chunk of row tuples is turned into Arrow columns at once and can then be freed, so
    reading a million incidents never holds a million rows of Python objects (BENCHMARKS.md:
    2.8 GB peak that way). Text ends up in pandas' Arrow-backed ``str`` dtype.

    Args:
        chunks: lists of row tuples in :func:`select_sql` column order (``columns``, upload id).
        columns: the columns selected.
    Returns:
        ``columns`` (``event_date`` datetime64, integer columns ``Int64``, ``admin2_mismatch``
        nullable boolean, ``municipality`` text with "" for none) plus ``origin`` = "upload:<id>".
    """
    names = (*columns, "upload_id")
    parts: dict[str, list[pa.Array]] = {c: [] for c in names}
    for rows in chunks:
        if not rows:
            continue
        for name, values in zip(names, zip(*rows)):
            parts[name].append(_arrow_column(name, values))
    if not parts["upload_id"]:
        return _typed(pd.DataFrame({c: pd.Series([], dtype=object) for c in names}))
    table = pa.table({c: pa.chunked_array(p) for c, p in parts.items()})
    del parts
    df = table.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get, self_destruct=True)
    return _typed(df)


def incidents_frame_from_arrow(table: pa.Table, columns: Sequence[str] = INCIDENT_COLUMNS) -> pd.DataFrame:
    """An Arrow table of ``columns`` plus ``upload_id`` (as a driver returns it) -> typed incident frame.

    Columns the driver typed differently (all-NULL columns, numbers stored as text) are cast to the
    types :func:`incidents_frame_from_chunks` gives.

    Args:
        table: the driver's result, columns in :func:`select_sql` order.
        columns: the columns selected.
    Returns:
        As :func:`incidents_frame_from_chunks`.
    Raises:
        pyarrow.ArrowInvalid: if a column cannot be cast (the caller falls back to the row path).
    """
    names = (*columns, "upload_id")
    arrays = {}
    for name, col in zip(names, table.columns):
        if name in INT_COLUMNS or name in ("upload_id", "admin2_mismatch"):
            target = pa.int64()
        elif name in FLOAT_COLUMNS:
            target = pa.float64()
        else:
            target = pa.string()
        arrays[name] = col if col.type == target else col.cast(target)
        if name == "event_date":  # parsed in Arrow: no per-row Python strings
            import pyarrow.compute as pc

            arrays[name] = pc.strptime(arrays[name], format="%Y-%m-%d", unit="us")
    df = pa.table(arrays).to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get, self_destruct=True)
    return _typed(df)


def _typed(df: pd.DataFrame) -> pd.DataFrame:
    """Dates parsed, numbers typed, ``upload_id`` replaced by ``origin`` = "upload:<id>"."""
    if "event_date" in df and not pd.api.types.is_datetime64_any_dtype(df["event_date"]):
        df["event_date"] = pd.to_datetime(df["event_date"].astype(str), format="%Y-%m-%d")
    for c in INT_COLUMNS:
        if c in df:
            df[c] = pd.to_numeric(df[c]).astype("Int64")
    for c in FLOAT_COLUMNS:
        if c in df:
            df[c] = df[c].astype(float)
    if "municipality" in df:
        df["municipality"] = df["municipality"].fillna("").astype(object)
    if "admin2_mismatch" in df:
        df["admin2_mismatch"] = pd.array(pd.to_numeric(df["admin2_mismatch"]).astype("Int64"), dtype="Int64").astype("boolean")
    df["origin"] = "upload:" + df["upload_id"].astype(str)
    return df.drop(columns="upload_id")


def incidents_frame(rows: list[tuple[object, ...]], columns: Sequence[str] = INCIDENT_COLUMNS) -> pd.DataFrame:
    """Fetched rows -> typed incident frame (see :func:`incidents_frame_from_chunks`).

    Args:
        rows: row tuples in :func:`select_sql` column order.
        columns: the columns selected.
    Returns:
        As :func:`incidents_frame_from_chunks`.
    """
    return incidents_frame_from_chunks([rows], columns)


def uploads_frame(rows: list[tuple[object, ...]]) -> pd.DataFrame:
    """Fetched upload rows -> table with :data:`UPLOAD_COLUMNS`.

    Args:
        rows: row tuples in :data:`UPLOAD_COLUMNS` order.
    Returns:
        One row per upload, values as the driver returned them.
    """
    return pd.DataFrame(rows, columns=list(UPLOAD_COLUMNS))
