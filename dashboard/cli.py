"""Command line of the dashboard's exports: ``python -m dashboard export-html|export-png``.

Both commands take the same filter options as the dashboard and ``python -m geodata export``
(:mod:`geodata.cli.filter_args`), select through the service (:class:`geodata.service.incidents.IncidentService`)
and write one file atomically. No Streamlit is imported. Errors of the project
(:class:`geodata._errors.ConflictmapError`) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from geodata.cli.filter_args import add_filter_arguments, spec_from_args
from geodata.export.textsafe import printable


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, regular files only (:func:`geodata.export.files.write_bytes_atomic`).

    Raises:
        geodata._errors.OutputError: if ``path`` is a directory, device or FIFO, or cannot be written.
    """
    from geodata.export.files import write_bytes_atomic

    write_bytes_atomic(path, data)


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, metavar="PATH", help="file to write")
    p.add_argument("--metric", choices=("incidents", "fatalities"), default="incidents",
                   help="municipality shading (default: incidents)")
    p.add_argument("--no-boundaries", action="store_true", help="leave out municipal boundaries")
    add_filter_arguments(p)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m dashboard`` argument parser."""
    parser = argparse.ArgumentParser(prog="python -m dashboard", description="conflictmap map exports")
    sub = parser.add_subparsers(dest="command", required=True)
    html = sub.add_parser("export-html", help="standalone HTML map (opens offline by double-click)",
                          description="Write the current selection as one self-contained HTML map.")
    _add_common(html)
    html.add_argument("--tiles", default=None, metavar="URL",
                      help="basemap tile URL template offered in the layer control (needs internet when "
                           "viewed); 'osm' for OpenStreetMap, 'none' for no tiles; default: CONFLICTMAP_TILES")
    html.add_argument("--full-rows", action="store_true",
                      help="internal use only: popups keep notes, actors and sources of ACLED rows (withheld by "
                           "default, as ACLED's terms require); the map then says so in its title")
    html.set_defaults(func=_export_html)
    png = sub.add_parser("export-png", help="static PNG map for reports and slides (no tiles)",
                         description="Render the current selection as a PNG image.")
    _add_common(png)
    png.add_argument("--dpi", type=int, default=150, help="resolution (default 150)")
    png.set_defaults(func=_export_png)
    return parser


def _selection(args):
    from geodata.service.incidents import IncidentService, user_message
    from geodata.settings import get_settings

    tiles = None if args.__dict__.get("tiles") is None else ("" if args.tiles.lower() == "none" else args.tiles)
    with IncidentService(get_settings()) as svc:
        sel = svc.select(spec_from_args(args), distances=True, curation=True, metric=args.metric, tiles=tiles,
                         use_boundaries=not args.no_boundaries)
    for note in sel.notes:
        print(f"note: {user_message(Exception(note))}", file=sys.stderr)
    return sel


def _export_html(args) -> int:
    from layers.export_html import build_export

    sel = _selection(args)
    result = build_export(sel, full_rows=args.full_rows)
    write_atomic(args.out, result.html.encode("utf-8"))
    print(f"wrote {printable(args.out)}: {len(sel.incidents):,} incidents as {result.representation}, "
          f"{result.size_bytes / 1e6:.2f} MB")
    return 0


def _export_png(args) -> int:
    from layers.static_png import render_png

    sel = _selection(args)
    data = render_png(sel, dpi=args.dpi)
    write_atomic(args.out, data)
    print(f"wrote {printable(args.out)}: {len(sel.incidents):,} incidents, {len(data) / 1e6:.2f} MB")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one export command; returns the exit code (2 for bad options or unreadable input)."""
    from geodata._errors import ConflictmapError, OutputError
    from geodata.service.incidents import user_message

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        try:
            return int(args.func(args) or 0)
        except OSError as exc:  # the --out file cannot be written: the only OS error expected here
            raise OutputError(f"cannot write {args.out}: {exc.strerror or exc}") from exc
    except ConflictmapError as exc:
        print(f"error: {user_message(exc)}", file=sys.stderr)
        return 2
