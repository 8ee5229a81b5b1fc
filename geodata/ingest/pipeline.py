"""The ingest pipeline: file bytes -> detected format -> validated rows -> one store upload.

:func:`prepare` does everything that does not touch the store (used for the dashboard preview
too); :func:`store_prepared` writes a prepared file as one upload; :func:`ingest_file` does both
for the command line.
"""

from __future__ import annotations

from geodata._errors import InputError

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.ingest import formats
from geodata.geo.enrich import locate_rows
from geodata.ingest.formats import ColumnMapping, FormatError
from geodata.ingest.reading import ReadError, decode, detect_delimiter, first_record, read_table, sample_text
from geodata.ingest.reading import encoding_warnings
from geodata.ingest.checks import duplicate_warnings
from geodata.settings import Settings
from geodata.export.spreadsheet import spreadsheet_csv
from geodata.store import UploadMeta
from geodata.ingest.validation import RowIssue, ValidationResult, validate_incidents

if TYPE_CHECKING:
    from geodata.store.protocol import IncidentStore

#: progress(fraction 0..1, what is happening)
Progress = Callable[[float, str], None]

REPORT_COLUMNS: tuple[str, ...] = ("line", "column", "severity", "reason")


class IngestError(InputError):
    """The file cannot be read or its format cannot be recognised; nothing was stored."""


@dataclass
class Prepared:
    """A file read, recognised, mapped and validated, ready to store.

    Attributes:
        file_name, sha256: provenance of the bytes.
        format: "acled", "ucdp" or "mapping".
        encoding, delimiter, has_header: what reading detected.
        file_columns: the file's own column names.
        rows_read: records in the file (header excluded).
        result: validation outcome; ``result.errors`` also holds records that could not be split.
    """

    file_name: str
    sha256: str
    format: str
    encoding: str
    delimiter: str
    has_header: bool
    file_columns: list[str]
    rows_read: int
    result: ValidationResult
    #: The licence the uploader declared ("" = the format's default; see geodata.export.licence).
    licence: str = ""

    @property
    def rejected(self) -> int:
        """Number of rejected records."""
        return len(self.result.rejected_lines)

    def report(self) -> pd.DataFrame:
        """Every error and warning: line, column, severity, reason."""
        return self.result.report()

    @property
    def repeated_in_file(self) -> int:
        """Valid rows that repeat an earlier row of the same file (same key: stored once)."""
        valid = self.result.valid
        if valid.empty:
            return 0
        from geodata.store.records import dedup_keys

        return int(dedup_keys(valid).duplicated(keep="first").sum())

    def preview(self, n: int = 20) -> pd.DataFrame:
        """The first ``n`` rows as they will be stored: a row repeated inside the file once, dates as dates.

        Returns:
            Canonical columns and the source ``line``; ``event_date`` holds :class:`datetime.date`
            values (a day, never a midnight time stamp).
        """
        valid = self.result.valid
        if valid.empty:
            return valid.reset_index(drop=True)
        from geodata.store.records import dedup_keys

        once = valid[~dedup_keys(valid).duplicated(keep="first").to_numpy()].head(n).reset_index(drop=True)
        if "event_date" in once:
            once["event_date"] = pd.to_datetime(once["event_date"]).dt.date
        return once


@dataclass(frozen=True)
class FileInfo:
    """What a quick look at a file's start found: detected encoding, delimiter, header and format
    (``None`` when a column mapping is needed)."""

    encoding: str
    delimiter: str
    columns: list[str]
    format: str | None


def inspect_file(data: bytes, encoding: str | None = None) -> FileInfo:
    """Detect encoding, delimiter, columns and format without reading the whole table.

    Raises:
        IngestError: if the file is empty, binary or undecodable.
    """
    try:
        utf8, enc = decode(data, encoding)
    except ReadError as exc:
        raise IngestError(str(exc)) from exc
    sample = sample_text(utf8)
    delimiter = detect_delimiter(sample)
    head = first_record(sample, delimiter)
    if formats.headerless_ucdp(head) and not formats.looks_like_header(head):
        return FileInfo(enc, delimiter, list(formats.UCDP_COLUMNS), formats.UCDP)
    return FileInfo(enc, delimiter, [h.strip() for h in head], formats.detect_format(head))


@dataclass
class IngestReport:
    """What an upload did: counts, provenance and the row-level report."""

    upload_id: int | None
    file_name: str
    format: str
    encoding: str
    delimiter: str
    rows_read: int
    accepted: int
    rejected: int
    duplicates: int
    warnings: int
    issues: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(REPORT_COLUMNS)))
    #: Of ``duplicates``: rows repeating an earlier row of the same file (the rest were already stored).
    repeated_in_file: int = 0
    #: True when the upload added nothing and was therefore undone at once (no empty upload is kept).
    discarded: bool = False

    @property
    def already_stored(self) -> int:
        """Rows not stored because the store already held them (before this file)."""
        return max(self.duplicates - self.repeated_in_file, 0)

    def summary_line(self) -> str:
        """``accepted=N rejected=N duplicates=N`` (the CLI's last line)."""
        return f"accepted={self.accepted} rejected={self.rejected} duplicates={self.duplicates}"

    def outcome_text(self) -> str:
        """What happened to every row, in words, e.g. "11 new incidents stored; 2 repeated inside the
        file (stored once); 7 rejected." or "Nothing new: …; no upload was kept."."""
        def n(count: int, one: str, many: str) -> str:
            return f"{count:,} {one if count == 1 else many}"

        parts = []
        if self.repeated_in_file:
            parts.append(n(self.repeated_in_file, "row repeated inside the file (stored once)",
                           "rows repeated inside the file (stored once)"))
        if self.already_stored:
            parts.append(n(self.already_stored, "row already stored before this file",
                           "rows already stored before this file"))
        if self.rejected:
            parts.append(n(self.rejected, "row rejected", "rows rejected"))
        rest = "".join(f"; {p}" for p in parts)
        if self.accepted == 0:
            why = " (it added nothing, so it was undone at once)" if self.discarded else ""
            return f"Nothing new was stored{rest}. No upload was kept{why}."
        return f"{n(self.accepted, 'new incident', 'new incidents')} stored{rest}."


def report_csv(issues: pd.DataFrame) -> bytes:
    """The row-level report as formula-safe UTF-8 CSV bytes (see :mod:`geodata.export.spreadsheet`)."""
    return spreadsheet_csv(issues.reindex(columns=list(REPORT_COLUMNS)))


def _noop(_fraction: float, _what: str) -> None:
    return None


def prepare(
    data: bytes,
    file_name: str,
    fmt: str = "auto",
    mapping: ColumnMapping | None = None,
    encoding: str | None = None,
    municipalities: gpd.GeoDataFrame | None = None,
    progress: Progress | None = None,
) -> Prepared:
    """Read, recognise, map and validate a CSV file.

    Args:
        data: the file's bytes.
        file_name: shown in the provenance record.
        fmt: "acled", "ucdp", "mapping" or "auto" (detect; a given ``mapping`` implies "mapping").
        mapping: canonical column -> file column, for files that are neither ACLED nor UCDP.
        encoding: force a text encoding instead of detecting it.
        municipalities: official boundaries for the municipality check (``None``: not checked).
        progress: called with (fraction, stage).
    Returns:
        A :class:`Prepared` file.
    Raises:
        IngestError: if the file cannot be read, the format is unknown or the mapping does not fit.
    """
    progress = progress or _noop
    if fmt not in ("auto",) + formats.FORMATS:
        raise IngestError(f"unknown format {fmt!r}; use acled, ucdp or auto")
    sha = hashlib.sha256(data).hexdigest()
    try:
        progress(0.0, "reading")
        utf8, enc = decode(data, encoding)
        sample = sample_text(utf8)
        delimiter = detect_delimiter(sample)
        head = first_record(sample, delimiter)
        if not head:
            raise ReadError("the file has no rows")
        names: list[str] | None = None
        chosen = fmt
        if mapping is not None and fmt == "auto":
            chosen = formats.MAPPING
        if chosen in ("auto", formats.UCDP) and formats.headerless_ucdp(head) and not formats.looks_like_header(head):
            names, chosen = list(formats.UCDP_COLUMNS), formats.UCDP
        if chosen == "auto":
            chosen = formats.detect_format(head) or ""
            if not chosen:
                raise FormatError(
                    "the format is not recognised (neither an ACLED export nor UCDP GED); give a column "
                    f"mapping. The file's columns are: {', '.join(head[:40])}")
        raw = read_table(utf8, delimiter, names)
        progress(0.3, "mapping columns")
        if chosen == formats.ACLED:
            if formats.detect_format(list(raw.frame.columns)) != formats.ACLED:
                raise FormatError("the file lacks ACLED's required columns "
                                  "(event_date, event_type, sub_event_type, actor1, latitude, longitude)")
            mapped = formats.map_acled(raw.frame)
        elif chosen == formats.UCDP:
            if formats.detect_format(list(raw.frame.columns)) != formats.UCDP:
                raise FormatError("the file lacks UCDP GED's columns (date_start, type_of_violence, side_a, best)")
            mapped = formats.map_ucdp(raw.frame)
        else:
            if mapping is None:
                raise FormatError("a column mapping is needed for this format")
            mapped = formats.map_columns(raw.frame, mapping)
    except (ReadError, FormatError) as exc:
        raise IngestError(str(exc)) from exc

    progress(0.4, "validating")
    result = validate_incidents(mapped, raw.lines.tolist())
    result.warnings.extend(RowIssue(line, "(line)", reason, "warning") for line, reason in encoding_warnings(data, enc))
    result.warnings.extend(duplicate_warnings(result.valid))
    for line, reason in raw.issues:
        result.errors.append(RowIssue(line, "(row)", reason))
    # The municipality of each row is computed here, once, and stored with the row (schema 3).
    located = locate_rows(result.valid, municipalities)
    result.valid = result.valid.assign(municipality=located["municipality"].to_numpy(dtype=object),
                                       admin2_mismatch=pd.array(located["admin2_mismatch"], dtype="boolean"))
    if municipalities is not None:
        result.warnings.extend(_municipality_warnings(result.valid))
    result.errors.sort(key=lambda e: e.line)
    result.warnings.sort(key=lambda e: e.line)
    progress(0.6, "validated")
    return Prepared(
        file_name=file_name, sha256=sha, format=chosen, encoding=enc, delimiter=delimiter,
        has_header=raw.has_header, file_columns=[str(c) for c in raw.frame.columns],
        rows_read=len(raw.frame) + len(raw.issues), result=result,
    )


def _municipality_warnings(valid: pd.DataFrame) -> list[RowIssue]:
    """Warn (never reject) where a row's stated ``admin2`` disagrees with its coordinates."""
    bad = (valid["admin2_mismatch"].fillna(False).astype(bool) & valid["admin2"].astype(str).str.strip().ne("")).to_numpy()
    if not bad.any():
        return []
    # Plain arrays: a file can hold a hundred thousand disagreeing rows, but only a few hundred
    # distinct (stated, found) pairs, so each reason is written once per pair.
    lines = valid["line"].to_numpy()[bad].tolist()
    stated = valid["admin2"].astype(str).to_numpy()[bad]
    found = valid["municipality"].astype(str).to_numpy()[bad]
    stated_codes, stated_names = pd.factorize(stated)
    found_codes, found_names = pd.factorize(found)
    pairs, codes = np.unique(stated_codes * len(found_names) + found_codes, return_inverse=True)
    texts = [f"stated municipality {stated_names[p // len(found_names)][:60]!r} disagrees with the coordinates, "
             f"which lie in {found_names[p % len(found_names)]!r}" for p in pairs.tolist()]
    return [RowIssue(line, "admin2", texts[code], "warning") for line, code in zip(lines, codes.tolist())]


def store_prepared(prepared: Prepared, store: IncidentStore, settings: Settings | None = None,
                   progress: Progress | None = None, municipalities: gpd.GeoDataFrame | None = None) -> IngestReport:
    """Write a prepared file to the store as one upload (one transaction).

    Args:
        prepared: from :func:`prepare` (whose rows already carry their municipality).
        store: an open store (:class:`geodata.store.IncidentStore`).
        settings: the settings in use (nothing of them is needed to store; kept for callers).
        progress: called with (fraction, stage).
        municipalities: boundaries to locate rows with, only for rows prepared without a municipality.
    Returns:
        The :class:`IngestReport` with the upload id and counts.
    Raises:
        geodata.store.StoreError: if the store rejects the write (nothing is kept).
    """
    progress = progress or _noop
    valid = prepared.result.valid
    if "municipality" not in valid:
        located = locate_rows(valid, municipalities)
        valid = valid.assign(municipality=located["municipality"], admin2_mismatch=located["admin2_mismatch"])
    total = max(len(valid), 1)

    def after_batch(done: int) -> None:
        progress(0.6 + 0.4 * done / total, "storing")

    meta = UploadMeta(prepared.file_name, prepared.sha256, prepared.format, prepared.rows_read,
                      prepared.rejected, len(prepared.result.warnings), prepared.licence)
    upload_id, inserted, duplicates = store.add_upload(valid, meta, after_batch)
    progress(1.0, "done")
    return IngestReport(
        upload_id=upload_id, file_name=prepared.file_name, format=prepared.format,
        encoding=prepared.encoding, delimiter=prepared.delimiter, rows_read=prepared.rows_read,
        accepted=inserted, rejected=prepared.rejected, duplicates=duplicates,
        warnings=len(prepared.result.warnings), issues=prepared.report(),
        repeated_in_file=min(prepared.repeated_in_file, duplicates),
    )


def load_boundaries_if_installed(settings: Settings) -> gpd.GeoDataFrame | None:
    """The official municipality boundaries when installed, else ``None`` (never downloads)."""
    from geodata.geo.boundaries import BoundaryError, find_boundaries, read_municipalities

    try:
        source = find_boundaries(settings)
        return read_municipalities(source.path) if source else None
    except BoundaryError:
        return None


def ingest_file(
    path: Path,
    store: IncidentStore,
    settings: Settings | None = None,
    fmt: str = "auto",
    mapping: ColumnMapping | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Read, validate and store one CSV file.

    Args:
        path: the CSV file.
        store: an open store.
        settings: for boundaries (municipality warnings).
        fmt, mapping, encoding: see :func:`prepare`.
        progress: called with (fraction, stage).
    Returns:
        The :class:`IngestReport`.
    Raises:
        IngestError: if the file cannot be read or recognised (nothing stored).
        geodata.store.StoreError: if the store rejects the write (nothing stored).
    """
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read {path}: {exc.strerror or exc}") from exc
    munis = load_boundaries_if_installed(settings) if settings is not None else None
    prepared = prepare(data, Path(path).name, fmt, mapping, encoding, munis, progress)
    return store_prepared(prepared, store, settings, progress)
