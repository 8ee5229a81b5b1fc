"""Commands ``ingest``, ``uploads`` and ``undo``: CSV files into the incident store and back out.

``python -m geodata ingest FILE`` prints ``accepted=N rejected=N duplicates=N`` as its last line
and exits 0 when the file was processed (even with rejected rows), 2 when it cannot be read or
its format is not recognised (reason on stderr).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geodata.settings import get_settings
from geodata.textsafe import printable

#: Files with more valid rows than this get progress output on stderr.
PROGRESS_MIN_BYTES = 5_000_000


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ingest, uploads and undo commands to the CLI."""
    p = subparsers.add_parser("ingest", help="validate a CSV file (ACLED, UCDP GED or mapped) and store it")
    p.add_argument("file", type=Path, help="CSV file to ingest")
    p.add_argument("--format", choices=("acled", "ucdp", "auto"), default="auto", help="source format (default: detect)")
    p.add_argument("--mapping", type=Path, help="JSON column mapping for other CSV files")
    p.add_argument("--encoding", help="force a text encoding (default: detect)")
    p.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    p.add_argument("--report", type=Path, help="write the row-level report (rejected rows, warnings) to this CSV")
    p.set_defaults(func=cmd_ingest)

    u = subparsers.add_parser("uploads", help="list uploads in the incident store")
    u.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    u.set_defaults(func=cmd_uploads)

    d = subparsers.add_parser("undo", help="remove the incidents of one upload")
    d.add_argument("upload_id", type=int)
    d.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    d.set_defaults(func=cmd_undo)


def _progress_printer(size: int):
    """Progress on stderr: a redrawn line on a terminal, plain lines otherwise; silent for small files."""
    if size < PROGRESS_MIN_BYTES:
        return None
    tty = sys.stderr.isatty()
    last = {"pct": -10}

    def show(fraction: float, what: str) -> None:
        pct = int(fraction * 100)
        if tty:
            bar = "#" * (pct // 5)
            print(f"\r[{bar:<20}] {pct:3d}% {what:<20}", end="" if pct < 100 else "\n", file=sys.stderr, flush=True)
        elif pct >= last["pct"] + 10 or pct == 100:
            last["pct"] = pct
            print(f"{pct}% {what}", file=sys.stderr, flush=True)
    return show


def cmd_ingest(args: argparse.Namespace) -> int:
    """Run ``ingest``; returns the exit code."""
    from geodata.ingest import ColumnMapping, FormatError, IngestError, prepare, report_csv, store_prepared
    from geodata.ingest.pipeline import load_boundaries_if_installed
    from geodata.store import StoreError, open_store

    settings = get_settings()
    mapping = None
    if args.mapping is not None:
        try:
            mapping = ColumnMapping.load(args.mapping)
        except FormatError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        print(printable(f"error: cannot read {args.file}: {exc.strerror or exc}"), file=sys.stderr)
        return 2
    progress = _progress_printer(len(data))
    fmt = "mapping" if mapping is not None and args.format == "auto" else args.format
    try:
        prepared = prepare(data, args.file.name, fmt, mapping, args.encoding,
                           load_boundaries_if_installed(settings), progress)
    except IngestError as exc:
        print(printable(f"error: {args.file}: {exc}"), file=sys.stderr)
        return 2
    if args.report is not None:  # written before storing: an unwritable report costs no upload
        from geodata.files import write_bytes_atomic
        from geodata._errors import OutputError
        try:
            write_bytes_atomic(args.report, report_csv(prepared.report()))
        except OutputError as exc:
            print(printable(f"error: {exc}; nothing was stored"), file=sys.stderr)
            return 2
    # The store is opened only for a readable file, so a failed ingest creates no empty store.
    try:
        store = open_store(args.db or settings.db_url, create=True)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    try:
        report = store_prepared(prepared, store, settings, progress)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    errors = report.issues[report.issues["severity"] == "error"]
    for row in errors.head(20).itertuples():
        print(printable(f"line {row.line}: {row.column}: {row.reason}"), file=sys.stderr)
    if len(errors) > 20:
        print(f"... {len(errors) - 20} more (use --report FILE for all)", file=sys.stderr)
    print(f"upload {report.upload_id}: {printable(report.file_name)} ({report.format}, {report.encoding}, "
          f"delimiter {report.delimiter!r}), {report.rows_read} rows, {report.warnings} warnings")
    print(report.summary_line())
    return 0


def _existing_store(args: argparse.Namespace):
    """The store named by ``--db`` or the settings, ``None`` if it does not exist yet.

    Raises:
        geodata.store.StoreError: if the store cannot be opened.
    """
    from geodata.store import open_store

    return open_store(args.db or get_settings().db_url, create=False)


def cmd_uploads(args: argparse.Namespace) -> int:
    """Run ``uploads``: one line per upload."""
    from geodata.store import StoreError

    try:
        store = _existing_store(args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if store is None:
        print("no uploads yet")
        return 0
    try:
        table = store.list_uploads()
    finally:
        store.close()
    if table.empty:
        print("no uploads yet")
        return 0
    for r in table.itertuples():
        print(f"{r.id}\t{r.uploaded_at}\t{r.status}\t{r.format}\taccepted={r.accepted} rejected={r.rejected} "
              f"duplicates={r.duplicates}\t{r.sha256[:12]}\t{printable(r.file_name)}")
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    """Run ``undo``: remove one upload's incidents (exit 1 if there is no such upload)."""
    from geodata.store import StoreError

    try:
        store = _existing_store(args)
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if store is None:
        print(f"error: no upload {args.upload_id} (the store is empty)", file=sys.stderr)
        return 1
    try:
        removed = store.undo_upload(args.upload_id)
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"undone upload {args.upload_id}: removed {removed} incidents")
    return 0
