"""``python -m geodata audit``: the audit log (schema 10) — list it, or verify its hash chain.

``audit --verify`` exits 0 when the chain is intact and 1, naming the first bad entry, when any entry
was changed, removed, inserted or moved (even with the append-only triggers dropped); it prints the
head (last id and hash) to keep elsewhere, since entries cut from the end cannot be seen in the chain.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from geodata._errors import InputError
from geodata.settings import get_settings
from geodata.export.textsafe import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``audit`` command."""
    a = subparsers.add_parser("audit", help="the audit log: who changed what, when (--verify checks its hash chain)")
    a.add_argument("--since", metavar="TIME", help="only entries at or after this time (ISO 8601, UTC if no offset)")
    a.add_argument("--json", action="store_true", help="one JSON object per line")
    a.add_argument("--verify", action="store_true", help="check the hash chain: exit 0 intact, 1 broken")
    a.add_argument("--db", help="store URL (default: CONFLICTMAP_DB)")
    a.set_defaults(func=cmd_audit)


def _since(text: str | None) -> str | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since {text[:40]!r} is not an ISO 8601 time (e.g. 2026-12-01 or 2026-12-01T08:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


def cmd_audit(args: argparse.Namespace) -> int:
    """List or verify the audit log; returns the exit code (1: the chain is broken)."""
    from geodata.service.incidents import IncidentService

    since = _since(args.since)
    with IncidentService(get_settings(), db_url=args.db) as svc:
        if args.verify:
            v = svc.audit_verify()
            if not v.ok:
                print(f"audit log BROKEN at entry {v.first_bad}: {v.reason}")
                return 1
            print(f"audit log intact: {v.entries} entries; head {v.head_id} {v.head_hash}")
            return 0
        entries = svc.audit_entries(since)
    for e in entries:
        if args.json:
            print(json.dumps({k: e[k] for k in ("id", "at", "who", "role", "action", "targets", "data_version",
                                                "hash")}, ensure_ascii=True))
        else:
            print(printable(f"{e['id']}  {e['at']}  {e['who']} ({e['role']})  {e['action']}  "
                            f"{', '.join(json.loads(e['targets']))}"))
    if not entries and not args.json:
        print("no audit entries" + (" since then" if since else ""), file=sys.stderr)
    return 0
