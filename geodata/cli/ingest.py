"""Commands ``ingest``, ``uploads`` and ``undo``: CSV files into the incident store and back out.

``python -m geodata ingest FILE`` prints ``accepted=N rejected=N duplicates=N`` as its last line
and exits 0 when the file was processed (even with rejected rows), 2 when it cannot be read, its
format is not recognised or the store cannot be written (disk full, read-only) — one line on
stderr. Everything goes through :class:`geodata.service.incidents.IncidentService`.

Upload ids: the bundled incidents are stored as an upload too (format "bundled", usually id 1);
``uploads`` lists only the users' uploads unless ``--all`` is given, and ``undo`` refuses the bundled one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from geodata.settings import get_settings

if TYPE_CHECKING:
    from geodata.ingest.pipeline import Progress

#: Files with more valid rows than this get progress output on stderr.
PROGRESS_MIN_BYTES = 5_000_000


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ingest, uploads and undo commands to the CLI.

    Args:
        subparsers: the ``python -m geodata`` subcommand registry (each command sets ``func``).
    """
    p = subparsers.add_parser("ingest", help="validate a CSV file (ACLED, UCDP GED or mapped) and store it")
    p.add_argument("file", type=Path, help="CSV file to ingest")
    p.add_argument("--format", choices=("acled", "ucdp", "auto"), default="auto", help="source format (default: detect)")
    p.add_argument("--mapping", type=Path, help="JSON column mapping for other CSV files")
    p.add_argument("--encoding", help="force a text encoding (default: detect)")
    p.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    p.add_argument("--report", type=Path, help="write the row-level report (rejected rows, warnings) to this CSV")
    p.add_argument("--licence", default="", metavar="TEXT",
                   help="the file's licence, e.g. 'CC BY 4.0' (default: ACLED's terms for ACLED files, CC BY 4.0 for "
                        "UCDP; other files without one are shared like ACLED data: no notes, actors or sources)")
    p.set_defaults(func=cmd_ingest)

    u = subparsers.add_parser("uploads", help="list uploads in the incident store")
    u.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    u.add_argument("--all", action="store_true", help="also list the upload holding the bundled incidents")
    u.set_defaults(func=cmd_uploads)

    d = subparsers.add_parser("undo", help="remove the incidents of one upload (those no other upload holds)")
    d.add_argument("upload_id", help="the upload's id (see `uploads`)")
    d.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    d.set_defaults(func=cmd_undo)


def _progress_printer(size: int) -> Progress | None:
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
    """Run ``ingest``: validate and store one file, print rejected rows and the summary line.

    Args:
        args: the parsed ``ingest`` options.
    Returns:
        0 when the file was processed (even with rejected rows).
    Raises:
        ConflictmapError: unreadable file, unknown format, bad mapping, store failure (the caller
            prints one line and exits 2).
    """
    from geodata.ingest import ColumnMapping, report_csv
    from geodata.ingest.pipeline import IngestError
    from geodata.service.incidents import IncidentService

    mapping = ColumnMapping.load(args.mapping) if args.mapping is not None else None
    try:
        data = args.file.read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    progress = _progress_printer(len(data))
    fmt = "mapping" if mapping is not None and args.format == "auto" else args.format
    with IncidentService(get_settings(), db_url=args.db) as svc:
        try:
            prepared = svc.prepare_upload(data, args.file.name, fmt, mapping, args.encoding, progress)
        except IngestError as exc:
            raise IngestError(f"{args.file}: {exc}") from exc
        if args.report is not None:  # written before storing: an unwritable report costs no upload
            from geodata.export.files import write_bytes_atomic

            write_bytes_atomic(args.report, report_csv(prepared.report()))
        from geodata.export.licence import declared_licence

        prepared.licence = declared_licence(args.licence)
        # The store is opened only for a readable file, so a failed ingest creates no empty store.
        report = svc.store_upload(prepared, progress).report
    errors = report.issues[report.issues["severity"] == "error"]
    for row in errors.head(20).itertuples():
        print(_plain(f"line {row.line}: {row.column}: {row.reason}"), file=sys.stderr)
    if len(errors) > 20:
        print(f"... {len(errors) - 20} more (use --report FILE for all)", file=sys.stderr)
    print(_plain(f"upload {report.upload_id}: {report.file_name} ({report.format}, {report.encoding}, "
                 f"delimiter {report.delimiter!r}), {report.rows_read} rows, {report.warnings} warnings"))
    if report.discarded:
        print(f"nothing new: every valid row was already stored or repeated, so upload {report.upload_id} "
              "was undone at once (no empty upload kept)")
    print(report.summary_line())
    return 0


def _plain(text: str) -> str:
    """``text`` with control characters shown as visible escapes (file names and cells come from users)."""
    from geodata.export.textsafe import printable

    return printable(text)


def cmd_uploads(args: argparse.Namespace) -> int:
    """Run ``uploads``: one tab-separated line per upload (newest first).

    Args:
        args: the parsed ``uploads`` options (``--db``, ``--all``).
    Returns:
        0.
    Raises:
        StoreError: if the store cannot be read.
    """
    from geodata.service.incidents import IncidentService

    with IncidentService(get_settings(), db_url=args.db) as svc:
        if not svc.store_exists():  # nothing to list; asking must not create a store
            print("no uploads yet")
            return 0
        table = svc.uploads(include_bundled=args.all)
    if table.empty:
        print("no uploads yet")
        return 0
    for r in table.itertuples():
        fields = (r.id, r.uploaded_at, r.status, r.format,
                  f"accepted={r.accepted} rejected={r.rejected} duplicates={r.duplicates}", r.sha256[:12], r.file_name)
        print("\t".join(_plain(str(f)) for f in fields))
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    """Run ``undo``: remove one upload's incidents that no other upload holds.

    Args:
        args: the parsed ``undo`` options (``upload_id``, ``--db``).
    Returns:
        0 when undone, 1 when there is no such upload.
    Raises:
        InputError: bad id, no such upload, already undone, bundled data (exit 1, as before).
    """
    from geodata.service.incidents import IncidentService, parse_upload_id
    from geodata._errors import UploadNotFound

    upload_id = parse_upload_id(args.upload_id)
    with IncidentService(get_settings(), db_url=args.db) as svc:
        if not svc.store_exists():
            print(f"error: no upload {upload_id} (the store is empty)", file=sys.stderr)
            return 1
        try:
            outcome = svc.undo(upload_id)
        except UploadNotFound as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    print(outcome.message())
    return 0
