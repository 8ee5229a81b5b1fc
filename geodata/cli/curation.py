"""Commands ``verify``, ``sequences`` and ``duplicates``: the analyst workflow from the command line.

::

    python -m geodata verify CM-XKX-0028 --status disputed --note "police said no arrests" [--who NAME]
    python -m geodata verify CM-XKX-0028 --undo [--note WHY]
    python -m geodata verify CM-XKX-0028                 # status and history
    python -m geodata sequences [SEQUENCE_ID]            # list sequences, or one sequence's steps
    python -m geodata duplicates [--all]                 # suggested pairs (across datasets; --all: within too)
    python -m geodata duplicates --confirm KEEP ALIAS --note WHY | --dismiss A B --note WHY | --undo N
    python -m geodata duplicates --history

Errors print one line on stderr and exit 2 (bad input) or 1 (store failure); nothing is changed then.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from geodata._errors import ConflictmapError, InputError, StoreFailure
from geodata.settings import get_settings
from geodata.export.textsafe import printable
from geodata.curation.verification import STATUSES

if TYPE_CHECKING:
    from geodata.service.curation import CurationService

#: Every printed value from data goes through the one rule (escapes for controls and bidi overrides).
plain = printable


def _default_who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in a bare container
        return "analyst"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the verify, sequences and duplicates commands to the CLI."""
    v = subparsers.add_parser("verify", help="show or change an incident's verification status (recorded with who/why)")
    v.add_argument("event_id", help="incident id, e.g. CM-XKX-0028")
    v.add_argument("--status", choices=STATUSES, help="the new status")
    v.add_argument("--note", default="", help="why (required with --status)")
    v.add_argument("--undo", action="store_true", help="undo the incident's latest status change")
    v.add_argument("--who", default=None, help="who makes the change (default: your user name)")
    v.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    v.set_defaults(func=cmd_verify)

    s = subparsers.add_parser("sequences", help="list the incident sequences, or the steps of one")
    s.add_argument("sequence_id", nargs="?", help="show this sequence's steps")
    s.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    s.set_defaults(func=cmd_sequences)

    d = subparsers.add_parser("duplicates", help="list possible duplicate incidents; confirm, dismiss or undo")
    g = d.add_mutually_exclusive_group()
    g.add_argument("--confirm", nargs=2, metavar=("KEEP", "ALIAS"), help="merge ALIAS into KEEP (both ids kept)")
    g.add_argument("--dismiss", nargs=2, metavar=("A", "B"), help="these two are different incidents")
    g.add_argument("--undo", type=int, metavar="N", help="undo decision N (see --history)")
    g.add_argument("--history", action="store_true", help="list every decision")
    d.add_argument("--all", action="store_true", help="also suggest pairs within one dataset")
    d.add_argument("--note", default="", help="why")
    d.add_argument("--who", default=None, help="who decides (default: your user name)")
    d.add_argument("--limit", type=int, default=50, help="suggestions to list (default 50)")
    d.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    d.set_defaults(func=cmd_duplicates)


def _service(args: argparse.Namespace) -> CurationService:
    from geodata.service.incidents import IncidentService

    return IncidentService(get_settings(), db_url=args.db).curation()


def _fail(exc: ConflictmapError) -> int:
    print(f"error: {plain(exc)}", file=sys.stderr)
    return 1 if isinstance(exc, StoreFailure) else 2


def cmd_verify(args: argparse.Namespace) -> int:
    """Run ``verify``: change, undo or show a status. Returns the exit code."""
    who = args.who or _default_who()
    try:
        with _service(args) as svc:
            if args.undo and args.status:
                raise InputError("give either --status or --undo, not both")
            if args.undo:
                c = svc.undo_status(args.event_id, who, args.note or "undo")
                print(f"{plain(c.event_id_cnty)}: {c.old_status} -> {c.new_status} (undid change {c.undoes}; "
                      f"change {c.change_id} by {plain(c.who)})")
            elif args.status:
                c = svc.change_status(args.event_id, args.status, who, args.note)
                print(f"{plain(c.event_id_cnty)}: {c.old_status} -> {c.new_status} (change {c.change_id} by {plain(c.who)})")
            else:
                history = svc.history(args.event_id)
                status = history[-1].new_status if history else "reported"
                print(f"{plain(args.event_id)}: {status}")
                for c in history:
                    extra = f" (undoes {c.undoes})" if c.undoes else ""
                    print(f"  {c.change_id}  {c.at.isoformat()}  {plain(c.who)}: {c.old_status} -> {c.new_status}{extra}: "
                          f"{plain(c.why)}")
    except ConflictmapError as exc:
        return _fail(exc)
    return 0


def cmd_sequences(args: argparse.Namespace) -> int:
    """Run ``sequences``: one line per sequence, or one per step of the sequence named."""
    from geodata.curation.sequences import RELATION_TEXT, find_sequence

    try:
        with _service(args) as svc:
            seqs = svc.sequences()
    except ConflictmapError as exc:
        return _fail(exc)
    if args.sequence_id:
        q = find_sequence(seqs, args.sequence_id)
        if q is None:
            print(f"error: no sequence {plain(args.sequence_id)!r}; see python -m geodata sequences", file=sys.stderr)
            return 2
        print(f"{plain(q.sequence_id)}: {plain(q.name)}")
        for s in q.steps:
            print(f"  {s.step}. {plain(s.event_id_cnty)} [{RELATION_TEXT.get(s.relation, s.relation)}] {plain(s.summary)}")
        return 0
    if not seqs:
        print("no sequences")
    for q in seqs:
        print(f"{plain(q.sequence_id)}  {plain(q.name)}  ({len(q.steps)} steps: {' -> '.join(plain(i) for i in q.event_ids)})")
    return 0


def cmd_duplicates(args: argparse.Namespace) -> int:
    """Run ``duplicates``: list suggestions, or record/undo a decision, or list decisions."""
    who = args.who or _default_who()
    try:
        with _service(args) as svc:
            if args.confirm or args.dismiss:
                action, (a, b) = ("confirm", args.confirm) if args.confirm else ("dismiss", args.dismiss)
                d = svc.decide(action, a, b, who, args.note or action)
                what = f"{plain(d.alias)} merged into {plain(d.keep)}" if action == "confirm" else \
                    f"{plain(d.keep)} and {plain(d.alias)} are different incidents"
                print(f"decision {d.decision_id}: {what} (undo with --undo {d.decision_id})")
                return 0
            if args.undo is not None:
                d = svc.undo_decision(args.undo, who, args.note or "undo")
                print(f"decision {d.decision_id}: undid decision {d.undoes} ({plain(d.keep)}, {plain(d.alias)})")
                return 0
            if args.history:
                decisions = svc.decisions()
                if not decisions:
                    print("no decisions yet")
                for d in decisions:
                    extra = f" of {d.undoes}" if d.undoes else ""
                    print(f"{d.decision_id}  {d.at.isoformat()}  {plain(d.who)}: {d.action}{extra} {plain(d.keep)} "
                          f"{plain(d.alias)}: {plain(d.why)}")
                return 0
            from geodata.service.incidents import IncidentService

            with IncidentService(svc.settings, db_url=args.db) as incidents:
                every = incidents.select(distances=False).incidents
                collisions = incidents.sync_collisions()
            table = svc.suggestions(every, across_datasets=not args.all)
    except ConflictmapError as exc:
        return _fail(exc)
    for c in collisions.itertuples():
        # A sync never rewrites a row it does not own; what it pulled under that id may be the same event.
        print(f"{plain(c.event_id_cnty)}  pulled by {plain(c.source)} sync {plain(c.changed_at)}: "
              f"{plain(c.event_date)} {plain(c.event_type)} at {plain(c.location)}, fatalities {plain(c.fatalities)} "
              "(id held by a row that sync does not own: possible duplicate, compare before merging)")
    if len(collisions):
        print(f"{len(collisions)} sync collision(s)")
    if table.empty:
        print("no possible duplicates" + ("" if args.all else " across datasets (--all compares within a dataset too)"))
        return 0
    for r in table.head(max(args.limit, 1)).itertuples():
        print(f"{plain(r.a)}  {plain(r.b)}  score {r.score:.2f}: {plain(r.reasons)}")
    print(f"{len(table)} suggestion(s); confirm with --confirm KEEP ALIAS, dismiss with --dismiss A B")
    return 0
