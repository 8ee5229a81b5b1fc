"""Reading awkward CSV files: encoding and delimiter detection, physical line numbers.

Real exports arrive as UTF-8 with or without a byte-order mark, UTF-16 (Excel's "Unicode text"),
or Windows-1250/1252 (Serbian/Albanian office machines); with ``,``, ``;`` or tab delimiters; and
with quoted notes spanning several lines. Everything here works on the file's bytes and returns
plain pandas tables of strings (nothing is interpreted yet) plus, for each record, the physical
line of the file where it starts, so that the validation report points at the right line.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata._errors import InputError

#: Codec name reported for a file whose lines are partly UTF-8, partly Windows-1250/1252.
MIXED = "mixed"

DELIMITERS: tuple[str, ...] = (",", ";", "\t")

#: Letters of Serbian Latin that only Windows-1250 produces (in Windows-1252 the same bytes
#: are è, æ, ð and their capitals, which are rare in names from this region).
_CP1250_MARKERS = frozenset("čćđČĆĐ")
_CP1252_MARKERS = frozenset("èæðÈÆÐ")


#: An empty line ("\n\n" or "\n\r\n"): one regex pass over the bytes instead of two searches.
_BLANK_LINE = re.compile(rb"\n\r?\n")


class ReadError(InputError):
    """The file cannot be read as a table (empty, binary, undecodable)."""


@dataclass
class RawTable:
    """A CSV file read as strings.

    Attributes:
        frame: one row per record, every cell a string ("" where empty).
        lines: physical line (1-based) where each record of ``frame`` starts.
        encoding, delimiter: what was detected (or given).
        has_header: False when the columns were named by the caller (headerless files).
        issues: (line, reason) of records that could not be split into the header's columns.
    """

    frame: pd.DataFrame
    lines: np.ndarray
    encoding: str
    delimiter: str
    has_header: bool = True
    issues: list[tuple[int, str]] = field(default_factory=list)


def detect_encoding(data: bytes) -> str:
    """Guess the text encoding of a CSV file.

    Args:
        data: the file's bytes (the whole file or a large prefix).
    Returns:
        A Python codec name: ``utf-8-sig``, ``utf-16``, ``utf-8``, ``cp1250`` or ``cp1252``.
    Raises:
        ReadError: if the bytes look binary (NUL bytes that are not UTF-16).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = data[:65536]
    if head.count(b"\x00") > len(head) // 4:
        # UTF-16 without BOM: ASCII text has a NUL in every other byte.
        even, odd = head[0::2].count(b"\x00"), head[1::2].count(b"\x00")
        if odd > even * 4:
            return "utf-16-le"
        if even > odd * 4:
            return "utf-16-be"
        raise ReadError("the file looks binary, not a CSV text file")
    if b"\x00" in head:
        raise ReadError("the file looks binary (it contains NUL bytes), not a CSV text file")
    if _is_utf8(data):
        return "utf-8"
    if mixed_encoding_lines(data):
        return MIXED
    return _legacy_codec(data)


def _legacy_codec(data: bytes) -> str:
    """Windows-1250 or Windows-1252, whichever the file's letters fit better.

    Raises:
        ReadError: if neither decodes the bytes.
    """
    scores: dict[str, int] = {}
    for codec in ("cp1250", "cp1252"):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        good = _CP1250_MARKERS if codec == "cp1250" else _CP1252_MARKERS
        bad = _CP1252_MARKERS if codec == "cp1250" else _CP1250_MARKERS
        scores[codec] = sum(text.count(c) for c in good) - sum(text.count(c) for c in bad)
    if not scores:
        raise ReadError("cannot decode the file as UTF-8, UTF-16, Windows-1250 or Windows-1252")
    # Prefer Windows-1250 on a tie: names from Kosovo and Serbia are the point of this tool.
    return max(scores, key=lambda c: (scores[c], c == "cp1250"))


def mixed_encoding_lines(data: bytes) -> list[int]:
    """Lines (1-based) that are not UTF-8 in a file whose other non-ASCII lines are UTF-8.

    Such files come from appending an export made on a Windows machine to one made elsewhere;
    read as one encoding, half of their names would be garbled without a word.

    Args:
        data: the file's bytes (8-bit text, not UTF-16).
    Returns:
        The non-UTF-8 lines, or ``[]`` when the file is consistently one encoding.
    """
    utf8_lines, other = 0, []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_lines += 1
        except UnicodeDecodeError:
            other.append(number)
    return other if utf8_lines and other else []


def encoding_warnings(data: bytes, encoding: str) -> list[tuple[int, str]]:
    """(line, reason) for every line of a :data:`MIXED` file that was not UTF-8; ``[]`` otherwise."""
    if encoding != MIXED:
        return []
    return [(line, "this line is not UTF-8 like the rest of the file; read as Windows-1250/1252 — check its letters")
            for line in mixed_encoding_lines(data)]


def _decode_mixed(data: bytes) -> bytes:
    """UTF-8 bytes of a mixed file: each line decoded as UTF-8 where it is, else as the legacy codec."""
    legacy = _legacy_codec(b"\n".join(line for line in data.split(b"\n") if not _is_utf8(line)))
    return b"\n".join(line if _is_utf8(line) else line.decode(legacy).encode("utf-8") for line in data.split(b"\n"))


def _is_utf8(line: bytes) -> bool:
    """True when the bytes are valid UTF-8 (ASCII, the common case, is checked without decoding)."""
    if line.isascii():
        return True
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _blank(data: bytes) -> bool:
    """True when the bytes hold nothing but white space (``not data.strip()`` without copying them)."""
    return not data or data.isspace()


def detect_delimiter(text: str) -> str:
    """Pick the delimiter (``,`` ``;`` or tab) that splits the first records most consistently.

    Args:
        text: the decoded start of the file.
    Returns:
        The delimiter; ``,`` when nothing else fits better.
    """
    sample = text[:65536]
    best, best_score = ",", (0, 0)
    for delim in DELIMITERS:
        try:
            rows = [r for _, r in zip(range(20), csv.reader(io.StringIO(sample, newline=""), delimiter=delim)) if r]
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for r in rows if len(r) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    return best


def decode(data: bytes, encoding: str | None = None) -> tuple[bytes, str]:
    """Bring file bytes to UTF-8 (the one encoding the readers below take).

    Args:
        data: the file's bytes.
        encoding: force a codec instead of detecting one.
    Returns:
        ``(utf8_bytes, encoding)``; a byte-order mark is removed. UTF-8 input is returned as is
        (no copy), which matters for files of hundreds of megabytes. A file mixing UTF-8 and
        Windows-125x lines is decoded line by line and reported as :data:`MIXED` (the lines are
        listed by :func:`mixed_encoding_lines`).
    Raises:
        ReadError: if the bytes cannot be decoded or the file is empty.
    """
    if _blank(data):
        raise ReadError("the file is empty")
    enc = encoding or detect_encoding(data)
    if enc.lower().replace("_", "-") in ("utf-8", "utf8") and encoding is None:
        utf8 = data  # detect_encoding already checked that it decodes
    elif enc == MIXED:  # also when a caller passes back what was detected
        try:
            utf8 = _decode_mixed(data)
        except UnicodeDecodeError as exc:
            raise ReadError(f"cannot decode the file's non-UTF-8 lines: {exc}") from exc
    elif enc == "utf-8-sig" and encoding is None:
        utf8 = data[3:]
        if not utf8.isascii():
            try:
                utf8.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ReadError(f"the file starts with a UTF-8 byte-order mark but is not UTF-8: {exc}") from exc
    else:
        try:
            utf8 = data.decode(enc).encode("utf-8")
        except (UnicodeDecodeError, LookupError) as exc:
            raise ReadError(f"cannot decode the file as {enc}: {exc}") from exc
    if utf8.startswith(b"\xef\xbb\xbf"):
        utf8 = utf8[3:]
    if _blank(utf8):
        raise ReadError("the file is empty")
    return utf8, enc


def sample_text(utf8: bytes, size: int = 1_000_000) -> str:
    """The start of the file as text (a multi-byte character cut at the end is dropped)."""
    return utf8[:size].decode("utf-8", errors="ignore")


def first_record(text: str, delimiter: str) -> list[str]:
    """The first non-blank record of the file (normally the header), split into fields."""
    for row in csv.reader(io.StringIO(text[:1_000_000], newline=""), delimiter=delimiter):
        if row and any(cell.strip() for cell in row):
            return row
    return []


def record_start_lines(utf8: bytes) -> tuple[np.ndarray, bool] | None:
    """Physical line (1-based) where each non-blank CSV record starts.

    Quote characters toggle "inside a quoted field"; a newline outside quotes ends a record.
    Doubled quotes ("") toggle twice and so cancel out, as CSV intends.

    Args:
        utf8: the file as UTF-8 bytes (``"`` and newline are single bytes in UTF-8).
    Returns:
        ``(lines, multiline)``: the line of every record including the header, and whether any
        quoted field spans lines; ``None`` if a quoted field never closes (the caller then falls
        back to the slower exact reader).
    """
    if b'"' not in utf8 and not _BLANK_LINE.search(utf8) and not utf8.startswith((b"\n", b"\r\n")):
        # No quotes and no blank lines: every line is one record (the common, fast case).
        n = utf8.count(b"\n") + (0 if utf8.endswith(b"\n") else 1)
        return np.arange(1, n + 1, dtype=np.int64), False
    arr = np.frombuffer(utf8, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    quotes = np.flatnonzero(arr == 34)
    if len(quotes) % 2:
        return None
    # Number of quotes before each newline: odd means the newline sits inside a quoted field.
    inside = (np.searchsorted(quotes, nl) % 2).astype(bool)
    ends = nl[~inside]
    starts = np.concatenate(([0], ends + 1))
    stops = np.concatenate((ends, [len(arr)]))
    # Each record's first line: count newlines (all of them) before its start.
    first_line = np.searchsorted(nl, starts) + 1
    # Blank records (empty or only "\r"/spaces) are skipped by every CSV reader.
    length = stops - starts
    blank = length == 0
    short = np.flatnonzero((length > 0) & (length <= 2))
    for i in short:
        if not utf8[starts[i]:stops[i]].strip():
            blank[i] = True
    return first_line[~blank], bool(inside.any())


def _read_exact(utf8: bytes, delimiter: str, names: list[str] | None) -> RawTable:
    """Slow, exact reader (Python csv module): tolerates ragged rows and reports them."""
    reader = csv.reader(io.StringIO(utf8.decode("utf-8"), newline=""), delimiter=delimiter)
    header: list[str] | None = names
    rows: list[list[str]] = []
    lines: list[int] = []
    issues: list[tuple[int, str]] = []
    prev = 0
    try:
        for row in reader:
            start, prev = prev + 1, reader.line_num
            if not row or not any(c.strip() for c in row):
                continue
            if header is None:
                header = [c.strip() for c in row]
                continue
            if len(row) > len(header):
                if any(c.strip() for c in row[len(header):]):
                    issues.append((start, f"row has {len(row)} fields, the header has {len(header)}"))
                    continue
                row = row[:len(header)]
            elif len(row) < len(header):
                # A short record lost fields (a broken export, a stray line break): which column each
                # value belongs to is no longer known, so it is rejected, not padded (issue 18, row 13).
                issues.append((start, f"row has {len(row)} fields, the header has {len(header)} "
                                      f"(missing from {header[len(row)]!r} on)"))
                continue
            rows.append(row)
            lines.append(start)
    except csv.Error as exc:
        raise ReadError(f"line {prev + 1}: {exc}") from exc
    if header is None:
        raise ReadError("the file has no header row")
    frame = pd.DataFrame(rows, columns=_unique(header), dtype=object)
    return RawTable(frame, np.asarray(lines, dtype=np.int64), "", delimiter, names is None, issues)


def _unique(names: list[str]) -> list[str]:
    """Make column names unique (``a``, ``a.1``) so a repeated header cell loses no data."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}.{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def read_table(utf8: bytes, delimiter: str, names: list[str] | None = None) -> RawTable:
    """Read CSV (UTF-8 bytes, no BOM) into strings, with the physical line of each record.

    Fast path: pandas (pyarrow engine when no field spans lines, else the C engine). Files the
    fast path cannot split (ragged rows, stray quotes) go through the exact Python reader,
    which reports each unsplittable record instead of failing the whole file.

    Args:
        utf8: file content as UTF-8 without a byte-order mark (from :func:`decode`).
        delimiter: field separator.
        names: column names for a headerless file; ``None`` when the first record is the header.
    Returns:
        A :class:`RawTable` (``encoding`` left empty for the caller to fill in).
    Raises:
        ReadError: if the text has no header, no rows under it, or is not CSV at all.
    """
    table = _read_any(utf8, delimiter, names)
    if table.frame.empty and not table.issues:
        raise ReadError("the file has no rows (only a header)" if names is None else "the file has no rows")
    return table


def _read_any(utf8: bytes, delimiter: str, names: list[str] | None) -> RawTable:
    """:func:`read_table` without the empty-file check."""
    scanned = record_start_lines(utf8)
    if scanned is not None:
        starts, multiline = scanned
        frame = _read_fast(utf8, delimiter, names, prefer_arrow=not multiline)
        if frame is not None:
            data_lines = starts if names is not None else starts[1:]
            if len(data_lines) == len(frame):
                if names is None:
                    frame.columns = _unique([str(c).strip() for c in frame.columns])
                return RawTable(frame, data_lines.astype(np.int64), "", delimiter, names is None)
    return _read_exact(utf8, delimiter, names)


def _read_fast(utf8: bytes, delimiter: str, names: list[str] | None, prefer_arrow: bool) -> pd.DataFrame | None:
    """pandas read of every cell as a string; ``None`` when the file needs the exact reader."""
    common = dict(sep=delimiter, dtype=str, keep_default_na=False, na_filter=False, skip_blank_lines=True)
    if names is not None:
        common.update(header=None, names=names)
    if prefer_arrow:
        try:
            arrow = dict(common)
            arrow.pop("na_filter")  # not supported by the pyarrow engine; keep_default_na covers it
            arrow.pop("skip_blank_lines")
            return pd.read_csv(io.BytesIO(utf8), engine="pyarrow", **arrow)
        except Exception:  # noqa: BLE001 - any refusal (ragged or short rows among them) means: exact reader
            # The C engine would pad a short record with empty cells and so accept a row that lost
            # fields (issue 18, row 13); the exact reader reports it with its line instead.
            return None
    try:
        return pd.read_csv(io.BytesIO(utf8), engine="c", encoding="utf-8", **common)
    except (pd.errors.ParserError, ValueError):
        return None
