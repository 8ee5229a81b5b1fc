"""Several sources per incident: the report's URL, outlet, publication date, language and an archived copy.

The bundled ``geodata/data/incident_sources.csv`` (columns :data:`SOURCE_COLUMNS`) lists every
public report an incident rests on. :func:`parse_sources` validates such a table row by row (line,
column, reason; good rows are kept), :func:`sources_by_incident` groups it, and
:func:`independent_outlets` counts how many independent outlets back an incident — what the
"corroborated" status needs (:mod:`geodata.curation.verification`).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

import pandas as pd

from geodata._errors import DataError
from geodata.settings import BUNDLED_DIR
from geodata.ingest.validation import RowIssue

SOURCE_COLUMNS: tuple[str, ...] = ("event_id_cnty", "url", "outlet", "published", "language", "archive_url")
BUNDLED_SOURCES = BUNDLED_DIR / "incident_sources.csv"
_HTTP = re.compile(r"^https?://[^\s<>\"'`]+$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Outlet names and other short fields longer than this are refused (a pasted article is not an outlet).
MAX_FIELD_CHARS = 300


class SourceDataError(DataError):
    """A sources table cannot be read at all (missing columns, unreadable file)."""


@dataclass(frozen=True)
class Source:
    """One public report about one incident.

    Attributes:
        event_id_cnty: the incident it supports.
        url: http(s) address of the report.
        outlet: who published it (e.g. "KoSSev", "Radio Free Europe/Radio Liberty").
        published: publication date, ``None`` when unknown.
        language: ISO 639 code ("en", "sr", "sq", …), "" when unknown.
        archive_url: http(s) address of an archived copy, or "".
    """

    event_id_cnty: str
    url: str
    outlet: str
    published: dt.date | None = None
    language: str = ""
    archive_url: str = ""

    def as_dict(self) -> dict[str, str | None]:
        """Plain JSON-ready dict (date as ISO text) without the incident id."""
        return {"url": self.url, "outlet": self.outlet,
                "published": self.published.isoformat() if self.published else None,
                "language": self.language or None, "archive_url": self.archive_url or None}


@dataclass
class SourcesResult:
    """Outcome of :func:`parse_sources`: the valid rows as a frame and one issue per bad cell."""

    sources: pd.DataFrame
    errors: list[RowIssue] = field(default_factory=list)


def is_http_url(value: object) -> bool:
    """True for a plain http(s) URL without spaces or quotes (javascript:, data:, ftp: are refused)."""
    return isinstance(value, str) and bool(_HTTP.match(value.strip()))


def empty_sources() -> pd.DataFrame:
    """A sources frame with :data:`SOURCE_COLUMNS` and no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in SOURCE_COLUMNS})


def _check_row(row: dict[str, str], known_ids: set[str] | None) -> list[tuple[str, str]]:
    """(column, reason) for every problem in one row."""
    problems: list[tuple[str, str]] = []
    eid = row["event_id_cnty"]
    if not eid:
        problems.append(("event_id_cnty", "missing incident id"))
    elif known_ids is not None and eid not in known_ids:
        problems.append(("event_id_cnty", f"unknown incident id {eid!r}"))
    if not is_http_url(row["url"]):
        problems.append(("url", "not an http(s) URL" if row["url"] else "missing URL"))
    if not row["outlet"]:
        problems.append(("outlet", "missing outlet"))
    if row["published"]:
        try:
            dt.date.fromisoformat(row["published"])
        except ValueError:
            problems.append(("published", f"not a YYYY-MM-DD date: {row['published']!r}"))
    if row["language"] and not _LANGUAGE.match(row["language"]):
        problems.append(("language", f"not a language code (en, sr, sq, …): {row['language']!r}"))
    if row["archive_url"] and not is_http_url(row["archive_url"]):
        problems.append(("archive_url", "not an http(s) URL"))
    for col, value in row.items():
        if _CONTROL.search(value):
            problems.append((col, "contains control characters"))
        elif col != "url" and col != "archive_url" and len(value) > MAX_FIELD_CHARS:
            problems.append((col, f"longer than {MAX_FIELD_CHARS} characters"))
    return problems


def parse_sources(raw: pd.DataFrame, known_ids: set[str] | None = None, first_line: int = 2) -> SourcesResult:
    """Validate a sources table; bad rows are reported, good rows kept.

    Args:
        raw: text cells with :data:`SOURCE_COLUMNS` (extra columns are ignored).
        known_ids: incident ids that exist; ``None`` skips that check.
        first_line: file line of the first data row (2 after a header line).
    Returns:
        :class:`SourcesResult`; ``published`` becomes a date (or ``None``), text is stripped.
        A URL listed twice for the same incident is reported once as a duplicate.
    Raises:
        SourceDataError: if a required column is missing.
    """
    text = curation_text(raw, SOURCE_COLUMNS, "sources", SourceDataError, strip=False)
    errors: list[RowIssue] = []
    kept: list[dict[str, object]] = []
    seen: set[tuple[str, str]] = set()
    for offset, values in enumerate(text.itertuples(index=False)):
        line = first_line + offset
        row = {c: str(v).strip() for c, v in zip(SOURCE_COLUMNS, values)}
        problems = _check_row(row, known_ids)
        key = (row["event_id_cnty"], row["url"])
        if not problems and key in seen:
            problems = [("url", f"listed twice for {row['event_id_cnty']}")]
        if problems:
            errors.extend(RowIssue(line, col, reason) for col, reason in problems)
            continue
        seen.add(key)
        kept.append({**row, "published": dt.date.fromisoformat(row["published"]) if row["published"] else None})
    frame = pd.DataFrame(kept, columns=list(SOURCE_COLUMNS)) if kept else empty_sources()
    return SourcesResult(frame.astype(object), errors)


def read_sources_file(path: Path, known_ids: set[str] | None = None) -> SourcesResult:
    """Read and validate a sources CSV (UTF-8, optional BOM).

    Raises:
        SourceDataError: if the file cannot be read or lacks a column.
    """
    raw = read_curation_csv(path, SourceDataError)
    return parse_sources(raw, known_ids)


def load_bundled_sources(path: Path | None = None) -> pd.DataFrame:
    """The bundled sources' valid rows; an empty frame when the file is absent.

    An invalid row is left out and logged (line, column, reason) — the other sources still show;
    the bundled-data tests require every row to be valid.

    Raises:
        SourceDataError: if the file cannot be read or lacks a column.
    """
    path = Path(path or BUNDLED_SOURCES)
    if not path.exists():
        return empty_sources()
    result = read_sources_file(path)
    log_issues(path, result.errors)
    return result.sources


def read_curation_csv(path: Path, error: type[DataError]) -> pd.DataFrame:
    """Read a curation CSV (sources, verification, sequences) with every cell as text.

    Args:
        path: the file (UTF-8, an optional BOM).
        error: the :class:`DataError` subclass to raise.
    Returns:
        The raw table; rows are checked by the caller's parser.
    Raises:
        error: if the file cannot be read or parsed as CSV.
    """
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise error(f"cannot read {path}: {exc}") from exc


def curation_text(raw: pd.DataFrame, columns: Sequence[str], what: str, error: type[DataError], *,
                  strip: bool = True) -> pd.DataFrame:
    """The ``columns`` of a curation table as text ("" for blanks), stripped unless ``strip`` is false.

    Args:
        raw: the table as read (:func:`read_curation_csv`).
        columns: the columns the table must have.
        what: the table's name in the message ("sources", "verification", "sequences").
        error: the :class:`DataError` subclass to raise.
    Raises:
        error: if a column is missing.
    """
    missing = [c for c in columns if c not in raw.columns]
    if missing:
        raise error(f"{what} table lacks column(s): {', '.join(missing)}")
    text = raw[list(columns)].fillna("").astype(str)
    return text.apply(lambda s: s.str.strip()) if strip else text


def log_issues(path: Path, issues: list[RowIssue]) -> None:
    """Log the invalid rows of a bundled file (one warning, first 20 issues)."""
    if issues:
        lines = "; ".join(f"line {e.line} {e.column}: {e.reason}" for e in issues[:20])
        logging.getLogger("conflictmap").warning("%s: rows left out: %s", path, lines)


def fallback_sources(incidents: pd.DataFrame) -> pd.DataFrame:
    """One source per incident from its own ``source``/``source_url`` columns (for incidents with no listed sources)."""
    if incidents.empty or "source_url" not in incidents:
        return empty_sources()
    urls = incidents["source_url"].fillna("").astype(str).str.strip()
    ok = urls.map(is_http_url).to_numpy(dtype=bool)
    sub = incidents.loc[ok]
    return pd.DataFrame({
        "event_id_cnty": sub["event_id_cnty"].astype(str).to_numpy(),
        "url": urls[ok].to_numpy(),
        "outlet": sub["source"].fillna("").astype(str).to_numpy() if "source" in sub else "",
        "published": None, "language": "", "archive_url": "",
    }, columns=list(SOURCE_COLUMNS)).astype(object)


def sources_by_incident(sources: pd.DataFrame) -> dict[str, list[Source]]:
    """Group a sources frame into :class:`Source` lists per incident id, oldest report first."""
    out: dict[str, list[Source]] = {}
    for row in sources.itertuples(index=False):
        published = row.published if isinstance(row.published, dt.date) else None
        out.setdefault(str(row.event_id_cnty), []).append(Source(
            str(row.event_id_cnty), str(row.url), str(row.outlet), published,
            str(row.language or ""), str(row.archive_url or "")))
    for items in out.values():
        items.sort(key=lambda s: (s.published is None, s.published or dt.date.min))
    return out


def _outlet_key(outlet: str) -> str:
    """Outlet name folded for comparison: case, spacing and a trailing "(…)" qualifier ignored."""
    name = re.sub(r"\s*\(.*\)\s*$", "", outlet).strip()
    return re.sub(r"\s+", " ", name).casefold()


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def independent_outlets(sources: list[Source]) -> int:
    """How many independent outlets report an incident.

    Two sources count as one when they share the outlet name (case and a trailing "(…)" ignored)
    or the web site (host without "www."), directly or through a chain of such links: a wire
    story republished twice under one name is one source, not two.
    """
    parent = list(range(len(sources)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_key: dict[tuple[str, str], int] = {}
    for i, s in enumerate(sources):
        for key in (("outlet", _outlet_key(s.outlet)), ("host", _host(s.url))):
            if not key[1]:
                continue
            if key in by_key:
                parent[find(i)] = find(by_key[key])
            else:
                by_key[key] = i
    return len({find(i) for i in range(len(sources))})
