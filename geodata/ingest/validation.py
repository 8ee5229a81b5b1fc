"""Row-by-row validation of incident tables — the one gate every incident passes.

Bundled data, uploads (CSV ingest) and the store all call :func:`validate_incidents`. It is
vectorised (pandas) so that a million rows validate in seconds. A row with an *error* is
rejected with its file line number, the column and a plain reason; a *warning* (e.g. outside
the area of interest) keeps the row. Good rows of the same table are always kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from geodata.model.schema import (
    AOI_BOUNDS, EVENT_TYPES, FLOAT_COLUMNS, INCIDENT_COLUMNS, INT_COLUMNS, INTER_CODES,
    REQUIRED_COLUMNS, SUB_EVENT_TO_TYPE,
)

#: Date formats accepted, tried in order: ISO, ACLED's export tool ("24 September 2023"),
#: Excel-mangled ("24-Sep-23"), and common European spellings. US month-first dates are not
#: guessed because "03/04/2023" is ambiguous.
DATE_FORMATS: tuple[str, ...] = (
    "%Y-%m-%d", "%d %B %Y", "%d %b %Y", "%d-%b-%y", "%d-%b-%Y", "%d %B, %Y", "%B %d, %Y",
    "%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S",
)

#: Event dates outside these years are rejected: nothing the tool maps happened then, and pandas'
#: nanosecond timestamps (used downstream) cannot hold years before 1678 or after 2261.
DATE_YEARS: tuple[int, int] = (1900, 2100)
#: Event dates before this year (or after today) are kept with a warning: likely a typo.
PLAUSIBLE_FROM_YEAR = 1990

#: Inclusive (low, high) of each whole-number column; outside is a rejected row, not a crash.
INT_LIMITS: dict[str, tuple[int, int]] = {
    "year": (DATE_YEARS[0], DATE_YEARS[1]),
    # ACLED's codes: time 1 day, 2 week, 3 month or coarser; geo 1 place, 2 near/district, 3 region.
    "time_precision": (1, 3),
    "geo_precision": (1, 3),
    "fatalities": (0, 10_000_000),
    "timestamp": (0, 2**53),  # Unix seconds; 2**53 keeps every value exact as a float
}


#: A reason for an issue: fixed text, or text built from the row's position.
Reason = str | Callable[[int], str]
#: ``validate_incidents``' recorder: ``flag(mask, column, reason, severity="error")``.
Flag = Callable[..., None]


@dataclass(frozen=True)
class RowIssue:
    """One problem with one row: ``line`` is the line number in the source file."""

    line: int
    column: str
    reason: str
    severity: str = "error"  # "error" rejects the row, "warning" keeps it

    def as_dict(self) -> dict[str, object]:
        """Return the issue as a plain dict (for reports and JSON)."""
        return {"line": self.line, "column": self.column, "severity": self.severity, "reason": self.reason}


@dataclass
class ValidationResult:
    """Outcome of :func:`validate_incidents`.

    ``valid`` holds the accepted rows in canonical form (all :data:`INCIDENT_COLUMNS`,
    ``event_date`` as datetime64, numbers typed, text as str); its ``line`` column keeps the source
    line. ``errors`` lists one issue per rejected row and column; ``warnings`` never reject.
    """

    valid: pd.DataFrame
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)

    @property
    def rejected_lines(self) -> list[int]:
        """Sorted distinct line numbers of rejected rows."""
        return sorted({e.line for e in self.errors})

    def report(self) -> pd.DataFrame:
        """All issues as a table: line, column, severity, reason (sorted by line)."""
        issues = self.errors + self.warnings
        # Column by column: a file can carry hundreds of thousands of warnings.
        columns = ["line", "column", "severity", "reason"]
        if not issues:
            return pd.DataFrame([], columns=columns)
        df = pd.DataFrame({"line": [i.line for i in issues], "column": [i.column for i in issues],
                           "severity": [i.severity for i in issues], "reason": [i.reason for i in issues]})
        return df.sort_values(["line", "severity"], kind="stable").reset_index(drop=True)


def _as_text(s: pd.Series) -> pd.Series:
    """Cells as pandas' Arrow-backed ``str`` dtype (missing stays missing).

    Arrow strings let the trimming, matching and hashing below run in compiled code instead of
    once per row in Python; that is what makes a million rows validate in seconds.
    """
    return s if isinstance(s.dtype, pd.StringDtype) else s.astype("string").astype("str")


def _per_unique(s: pd.Series, func: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """Apply ``func`` (Series -> Series of the same length) to the distinct values of ``s`` only.

    ACLED columns repeat heavily (a few thousand dates, coordinates and codes in a million rows),
    so parsing each distinct value once and broadcasting it back is far cheaper than parsing
    every row. Missing cells form one group of their own.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=False)
    done = func(pd.Series(uniques, dtype=s.dtype if len(uniques) else object))
    return pd.Series(done.take(codes).array, index=s.index, name=s.name)


def _blank(s: pd.Series) -> pd.Series:
    """True where a cell is missing or only white space."""
    if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
        return s.isna()
    return (s.isna() | _as_text(s).str.strip().eq("")).astype(bool)


def parse_dates(values: pd.Series) -> pd.Series:
    """Parse event dates written in any of :data:`DATE_FORMATS`.

    Args:
        values: raw cells (str, datetime or NaN).
    Returns:
        datetime64 series (normalised to the day), NaT where nothing matched. Its resolution may be
        coarser than nanoseconds, so dates far outside :data:`DATE_YEARS` survive for the caller
        to report as out of range.
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return pd.to_datetime(values).dt.tz_localize(None).dt.normalize() if getattr(values.dt, "tz", None) else values.dt.normalize()
    return _per_unique(_as_text(values), _parse_distinct_dates)


def _parse_distinct_dates(values: pd.Series) -> pd.Series:
    """Try each of :data:`DATE_FORMATS` in order on the cells not parsed yet."""
    text = values.astype("string").str.strip()
    # Microseconds hold years 1..9999: "0001-01-01" parses and is rejected as out of range
    # instead of overflowing a nanosecond column.
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    todo = (text.notna() & text.ne("")).astype(bool)
    for fmt in DATE_FORMATS:
        if not todo.any():
            break
        parsed = pd.to_datetime(text[todo], format=fmt, errors="coerce")
        hit = parsed.notna()
        out.loc[hit[hit].index] = parsed[hit].astype("datetime64[us]")
        todo.loc[hit[hit].index] = False
    return out.dt.normalize()


def _not_whole(col: str, num: pd.Series) -> Callable[[int], str]:
    """The reason for a value of ``col`` with a fraction (row ``i``)."""
    return lambda i: f"{col} {num.iat[i]:g} is not a whole number"


def _numeric(s: pd.Series) -> pd.Series:
    """Coerce to float; blank and text become NaN. Decimal commas ("42,5") are accepted.

    Infinite values ("inf", "1e999") become NaN too, so callers report them as "not a number".
    """
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        out = s.astype(float)
    else:
        text = _as_text(s).str.strip()
        fast = _arrow_float(text)
        # Tolerant path: each distinct cell parsed once (coordinates repeat: ACLED geocodes to places).
        out = fast if fast is not None else _per_unique(text, _parse_numbers).astype(float)
    return out.where(np.isfinite(out.to_numpy(dtype=float, na_value=np.nan)))


def _short_number(value: float) -> str:
    """A number for a message: ``1e+300`` rather than 301 digits."""
    return f"{value:.6g}"


def _out_of_range(column: str, values: pd.Series, low: int, high: int) -> Callable[[int], str]:
    """The reason for row ``i`` of ``values`` lying outside ``low..high``."""
    return lambda i: f"{column} {_short_number(values.iat[i])} is out of range {low}..{high}"


def _iso(ts: pd.Timestamp) -> str:
    """``0023-09-24``: ISO date with a four-digit year (``strftime`` drops leading zeros)."""
    return f"{ts.year:04d}-{ts.month:02d}-{ts.day:02d}"


def _dates_in_range(parsed: pd.Series, flag: Flag) -> pd.Series:
    """Reject dates outside :data:`DATE_YEARS`, warn for implausible ones, return nanosecond dates.

    Args:
        parsed: from :func:`parse_dates` (any datetime resolution).
        flag: ``validate_incidents``' issue recorder, ``flag(mask, column, reason, severity)``.
    Returns:
        datetime64[ns] series, NaT where the date is missing, unparseable or out of range.
    """
    years = parsed.dt.year
    first, last = DATE_YEARS
    outside = parsed.notna() & ~years.between(first, last)
    flag(outside, "event_date", lambda i: f"date {_iso(parsed.iat[i])} is out of range (years {first}–{last})")
    dates = parsed.where(~outside).astype("datetime64[ns]")
    today = pd.Timestamp.now().normalize()
    flag(dates.notna() & dates.dt.year.lt(PLAUSIBLE_FROM_YEAR), "event_date",
         lambda i: f"date {_iso(dates.iat[i])} is before {PLAUSIBLE_FROM_YEAR}; check it", severity="warning")
    flag(dates.gt(today), "event_date",
         lambda i: f"date {_iso(dates.iat[i])} is in the future; check it", severity="warning")
    return dates


def _parse_numbers(s: pd.Series) -> pd.Series:
    text = s.astype("string").str.strip().str.replace(",", ".", regex=False)
    return pd.to_numeric(text, errors="coerce").astype(float)


def _arrow_float(text: pd.Series) -> pd.Series | None:
    """Fast path of :func:`_numeric` for columns that are all plain numbers or blank: one C++
    cast instead of a per-cell parse (a million coordinates in milliseconds). ``None`` when any
    cell needs the tolerant path."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(text, from_pandas=True, type=pa.string())
        arr = pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
        out = pc.cast(arr, pa.float64())
    except Exception:  # ArrowInvalid for "4x", "42,5" etc.: the tolerant path decides
        return None
    return pd.Series(out.to_numpy(zero_copy_only=False), index=text.index, dtype=float)


def _inter_label(s: pd.Series) -> pd.Series:
    """Map ACLED inter codes written as numbers (older exports) to their text labels."""
    def label(distinct: pd.Series) -> pd.Series:
        text = distinct.fillna("").astype(str).str.strip()
        as_num = pd.to_numeric(text, errors="coerce")
        mapped = as_num.map(lambda v: INTER_CODES.get(int(v)) if pd.notna(v) and float(v).is_integer() else None)
        return mapped.where(mapped.notna(), text).astype("str")

    # A column holds a handful of distinct values: decide each once, not once per row.
    return _per_unique(_as_text(s), label)


_HTTP_URL = r"^https?://[^\s]+$"


def _is_http_url(url: pd.Series) -> pd.Series:
    """True where a (trimmed) cell is an http(s) URL without white space, case-insensitive.

    Arrow's regex engine (RE2) tests a million URLs in milliseconds, where Python's ``re`` takes
    most of a second. RE2's white-space class is ASCII-only, so the few cells with non-ASCII characters are
    re-tested with Python's Unicode-aware rule and the answer is the same as ``re`` gives.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(url.astype("string"), from_pandas=True, type=pa.string())
    # "\n?" mirrors Python's "$", which also matches before one final newline.
    ok = pc.match_substring_regex(arr, _HTTP_URL[:-1] + "\n?$", ignore_case=True).to_numpy(zero_copy_only=False)
    out = pd.Series(np.asarray(ok, dtype=bool), index=url.index)
    unicode_cells = ~np.asarray(pc.string_is_ascii(arr).to_numpy(zero_copy_only=False), dtype=bool)
    if unicode_cells.any():
        out[unicode_cells] = url[unicode_cells].astype(object).str.match("(?i)" + _HTTP_URL).to_numpy(dtype=bool)
    return out


def validate_incidents(
    raw: pd.DataFrame,
    line_numbers: Sequence[int] | None = None,
    *,
    aoi: tuple[float, float, float, float] = AOI_BOUNDS,
) -> ValidationResult:
    """Validate and normalise an incident table, row by row.

    Args:
        raw: table with (a subset of) :data:`INCIDENT_COLUMNS`; extra columns are dropped.
        line_numbers: the source-file line of each row; defaults to ``index + 2`` (row 1 is
            the header of a CSV).
        aoi: (min lon, min lat, max lon, max lat); rows outside get a warning.
    Returns:
        A :class:`ValidationResult`; ``valid`` may be empty but is never ``None``.
    Raises:
        ValueError: if ``line_numbers`` has a different length from ``raw``.
    """
    df = raw.reset_index(drop=True).copy()
    lines = (
        pd.Series(np.arange(len(df)) + 2, dtype="int64")
        if line_numbers is None else pd.Series(list(line_numbers), dtype="int64")
    )
    if len(lines) != len(df):
        raise ValueError("line_numbers must have one entry per row")
    for col in INCIDENT_COLUMNS:
        if col not in df.columns:
            df[col] = pd.NA
    df = df[list(INCIDENT_COLUMNS)]

    errors: list[RowIssue] = []
    warnings: list[RowIssue] = []
    bad = pd.Series(False, index=df.index)

    def flag(mask: pd.Series, column: str, reason: Reason, severity: str = "error") -> None:
        nonlocal bad
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        target = errors if severity == "error" else warnings
        for idx in map(int, np.flatnonzero(mask.to_numpy())):
            text = reason(idx) if callable(reason) else reason
            target.append(RowIssue(int(lines.iat[idx]), column, text, severity))
        if severity == "error":
            bad |= mask

    missing = {c: _blank(df[c]) for c in REQUIRED_COLUMNS}
    for col, mask in missing.items():
        flag(mask, col, f"missing required value in {col}")

    # Text columns: stored exactly as given (trimmed), never interpreted.
    text_cols = [c for c in INCIDENT_COLUMNS if c not in INT_COLUMNS + FLOAT_COLUMNS + ("event_date",)]
    for col in text_cols:
        # Kept as pandas' string dtype (Arrow-backed): converting a million cells per column to
        # Python objects costs seconds and buys nothing; values read back as plain Python str.
        df[col] = _as_text(df[col]).fillna("").str.strip()

    parsed = parse_dates(df["event_date"])
    flag(parsed.isna() & ~missing["event_date"], "event_date",
         lambda i: f"unparseable date {str(raw.iloc[i].get('event_date', ''))[:40]!r}; "
                   "use YYYY-MM-DD or '24 September 2023'")
    dates = _dates_in_range(parsed, flag)

    et, st = df["event_type"], df["sub_event_type"]
    unknown_type = ~et.isin(EVENT_TYPES.keys()) & ~missing["event_type"]
    flag(unknown_type, "event_type",
         lambda i: f"unknown event type {str(et.iat[i])[:60]!r}; expected one of ACLED's: " + ", ".join(EVENT_TYPES))
    known_sub = _per_unique(st, lambda d: d.map(SUB_EVENT_TO_TYPE).astype(object))
    flag(known_sub.isna() & ~missing["sub_event_type"], "sub_event_type",
         lambda i: f"unknown sub-event type {str(st.iat[i])[:60]!r}")
    flag(known_sub.notna() & ~unknown_type & ~missing["event_type"] & known_sub.ne(et), "sub_event_type",
         lambda i: f"sub-event type {st.iat[i]!r} belongs to {known_sub.iat[i]!r}, not {et.iat[i]!r}")

    lat, lon = _numeric(df["latitude"]), _numeric(df["longitude"])
    flag(lat.isna() & ~missing["latitude"], "latitude", "latitude is not a number")
    flag(lon.isna() & ~missing["longitude"], "longitude", "longitude is not a number")
    min_lon, min_lat, max_lon, max_lat = aoi
    in_aoi = lon.between(min_lon, max_lon) & lat.between(min_lat, max_lat)
    swapped = lat.between(min_lon, max_lon) & lon.between(min_lat, max_lat) & ~in_aoi
    flag(swapped, "latitude", lambda i: f"latitude/longitude look swapped ({lat.iat[i]}, {lon.iat[i]}): "
                                       "latitude is north–south, about 42–43 in Kosovo")
    lat_range = lat.notna() & ~lat.between(-90, 90) & ~swapped
    lon_range = lon.notna() & ~lon.between(-180, 180) & ~swapped
    flag(lat_range, "latitude", lambda i: f"latitude {lat.iat[i]} out of range -90..90")
    flag(lon_range, "longitude", lambda i: f"longitude {lon.iat[i]} out of range -180..180")
    flag(lat.notna() & lon.notna() & ~in_aoi & ~swapped & ~lat_range & ~lon_range, "latitude",
         "outside the area of interest (Kosovo and surroundings)", severity="warning")
    df["latitude"], df["longitude"] = lat, lon

    fat_raw = df["fatalities"]
    fat = _numeric(fat_raw)
    fat_blank = _blank(fat_raw)
    flag(fat.isna() & ~fat_blank, "fatalities", lambda i: f"fatalities {str(fat_raw.iat[i])[:20]!r} is not a number")
    flag(fat.lt(0), "fatalities", lambda i: f"fatalities {fat.iat[i]:g} is negative")
    fat_high = INT_LIMITS["fatalities"][1]
    flag(fat.gt(fat_high), "fatalities", lambda i: f"fatalities {_short_number(fat.iat[i])} is out of range 0..{fat_high}")
    flag(fat.notna() & fat.between(0, fat_high) & (fat % 1).ne(0), "fatalities",
         lambda i: f"fatalities {fat.iat[i]:g} is not a whole number")
    df["fatalities"] = fat.where(~fat_blank, 0)

    for col in ("inter1", "inter2", "interaction"):
        df[col] = _inter_label(df[col]) if col != "interaction" else df[col]

    url = df["source_url"]
    flag(url.ne("") & ~_is_http_url(url), "source_url",
         "source_url must be an http(s) URL")

    df["event_date"] = dates
    for col in INT_COLUMNS:
        num = _numeric(df[col]) if col != "fatalities" else df[col]
        low, high = INT_LIMITS.get(col, (-(2**53), 2**53))
        outside = num.notna() & ~num.between(low, high)  # NaN from "inf"/"1e999" is not a number above
        if col != "fatalities":
            flag(outside, col, _out_of_range(col, num, low, high))
            # 1.5 is no precision code and no year: rejected, not rounded silently (issue 18, row 13).
            flag(num.notna() & ~outside & (num % 1).ne(0), col, _not_whole(col, num))
        # Rejected rows must still cast: out-of-range values become missing.
        df[col] = num.where(~outside).round().astype("Int64")
    year_from_date = dates.dt.year.astype("Int64")
    mismatch = df["year"].notna() & year_from_date.notna() & df["year"].ne(year_from_date)
    flag(mismatch, "year", "year disagrees with event_date; the date's year is used", severity="warning")
    df["year"] = year_from_date.where(year_from_date.notna(), df["year"])

    df["line"] = lines
    valid = df.loc[~bad].reset_index(drop=True)
    errors.sort(key=lambda e: e.line)
    warnings.sort(key=lambda e: e.line)
    return ValidationResult(valid=valid, errors=errors, warnings=warnings)
