"""``watch`` and ``digest`` commands: watch areas and what changed in them (issue 20).

``watch add NAME (--area FILE | --route NAME --km K | --site NAME --km K | --municipality NAME)``,
``watch list``, ``watch remove NAME``; ``digest NAME|--all [--since TIME|last] [--format text|json|atom]
[--out FILE] [--mark-read] [--email ADDRESS]``. Areas belong to the OS user (``--owner`` to choose).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geodata.model.schema import EVENT_TYPES
from geodata.settings import get_settings
from geodata.export.textsafe import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``watch`` and ``digest`` commands (each sets ``func``)."""
    from geodata.service.watch import FORMATS, STATUS_RANK

    w = subparsers.add_parser("watch", help="save, list and remove watch areas (routes, sites, municipalities, polygons)")
    wsub = w.add_subparsers(dest="watch_command", required=True)
    a = wsub.add_parser("add", help="save a watch area")
    a.add_argument("name", help="the area's name")
    where = a.add_mutually_exclusive_group(required=True)
    where.add_argument("--area", type=Path, metavar="FILE.geojson", help="a polygon (GeoJSON)")
    where.add_argument("--route", metavar="NAME", help="a patrol route (with --km)")
    where.add_argument("--site", metavar="NAME", help="a site, e.g. a monastery (with --km)")
    where.add_argument("--municipality", metavar="NAME", help="a municipality")
    a.add_argument("--km", type=float, help="distance around the route, site or polygon (km, EPSG:32634)")
    a.add_argument("--type", action="append", default=[], choices=tuple(EVENT_TYPES), dest="types",
                   help="only this event type (repeatable)")
    a.add_argument("--actor", default="", metavar="TEXT", help="only incidents whose actors contain TEXT")
    a.add_argument("--min-status", default="", choices=tuple(STATUS_RANK),
                   help="only incidents at least this trusted (retracted < disputed < reported < corroborated < verified)")
    lst = wsub.add_parser("list", help="list watch areas")
    rm = wsub.add_parser("remove", help="remove a watch area")
    rm.add_argument("name")
    for p in (a, lst, rm):
        p.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
        p.add_argument("--owner", help="whose areas (default: the OS user)")
    w.set_defaults(func=cmd_watch)

    d = subparsers.add_parser("digest", help="what is new, changed or removed in a watch area since last read")
    d.add_argument("name", nargs="?", help="the watch area (or --all)")
    d.add_argument("--all", action="store_true", help="every watch area of the owner")
    d.add_argument("--since", default="last", metavar="TIME|last",
                   help="ISO time (local Europe/Belgrade without an offset) or 'last' (the area's read mark; default)")
    d.add_argument("--format", choices=FORMATS, default="text")
    d.add_argument("--out", type=Path, metavar="FILE", help="write to FILE instead of printing")
    d.add_argument("--mark-read", action="store_true", help="move the read mark to the end of what was listed")
    d.add_argument("--email", metavar="ADDRESS", help="send the text digest through CONFLICTMAP_SMTP_URL")
    d.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    d.add_argument("--owner", help="whose areas (default: the OS user)")
    d.set_defaults(func=cmd_digest)


def _owner(args: argparse.Namespace) -> str:
    from geodata.service.watch import default_owner

    return str(args.owner) if args.owner else default_owner()


def cmd_watch(args: argparse.Namespace) -> int:
    """``watch add|list|remove``."""
    from geodata.service.incidents import IncidentService

    owner = _owner(args)
    with IncidentService(get_settings(), db_url=args.db) as svc:
        if args.watch_command == "add":
            if args.area is not None:
                kind, ref = "area", str(args.area)
            elif args.route:
                kind, ref = "route", args.route
            elif args.site:
                kind, ref = "site", args.site
            else:
                kind, ref = "municipality", args.municipality
            area = svc.watch_add(args.name, kind, ref, args.km, owner=owner, types=args.types, actor=args.actor,
                                 min_status=args.min_status)
            print(printable(f"saved watch area {area.name!r}: {area.describe()}"))
        elif args.watch_command == "list":
            areas = svc.watch_list(owner)
            if not areas:
                print("no watch areas (add one: conflictmap watch add NAME --site NAME --km 2)")
            for area in areas:
                print(printable(f"{area.name}  —  {area.describe()}  —  read up to {area.cursor_at}"))
        else:
            svc.watch_remove(args.name, owner)
            print(printable(f"removed watch area {args.name!r}"))
    return 0


def cmd_digest(args: argparse.Namespace) -> int:
    """``digest NAME|--all``: print or write the digest(s); optionally mail them and mark them read."""
    from geodata.export.files import write_bytes_atomic
    from geodata.service.incidents import IncidentService
    from geodata.service.watch import WatchError, render

    if bool(args.name) == bool(args.all):
        raise WatchError("name one watch area or use --all")
    owner = _owner(args)
    with IncidentService(get_settings(), db_url=args.db) as svc:
        areas = svc.watch_list(owner) if args.all else [svc.watch_get(args.name, owner)]
        digests = [svc.digest(a, args.since) for a in areas]
        if args.format == "json" and args.all:
            body = (json.dumps([d.as_json() for d in digests], ensure_ascii=False, indent=1) + "\n").encode("utf-8")
        elif args.format == "atom" and len(digests) > 1:
            if args.out is not None:
                raise WatchError("--format atom writes one feed per area: name one area with --out")
            body = b"".join(render(d, "atom") + b"\n" for d in digests)
        else:
            body = b"".join(render(d, args.format) for d in digests)
        if args.email:
            svc.send_digests(digests, args.email)
        if args.out is not None:
            write_bytes_atomic(args.out, body)
        elif not args.email or args.format != "text":
            sys.stdout.write(body.decode("utf-8"))
        if args.email:
            print(printable(f"mailed {sum(len(d.items) for d in digests)} changes to {args.email}"), file=sys.stderr)
        if args.mark_read:
            for d in digests:
                svc.mark_read(d)
    return 0
