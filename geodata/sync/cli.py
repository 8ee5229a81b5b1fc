"""``python -m geodata sync acled|ucdp``: pull a live source into the incident store.

Progress goes to stderr; the last stdout line is exactly
``fetched=N new=N updated=N deleted=N rejected=N``. Exit 0 on success, 2 with a one-line reason
on bad credentials, an unreachable server, an answer not as the API documents, or a bad option.
``--every 6h`` repeats the sync until interrupted (a failed round is reported and the next one
still runs); a cron line does the same (README, "Live sources").
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time

from geodata._errors import ConflictmapError, InputError
from geodata.settings import get_settings

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """``"6h"``, ``"30m"``, ``"1d"``, ``"90s"`` -> seconds.

    Raises:
        InputError: for anything else, or less than a minute (ACLED would rate-limit it).
    """
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text or "")
    if not m:
        raise InputError(f"--every {text[:20]!r}: use a number with s, m, h or d, e.g. 6h")
    seconds = float(m.group(1)) * _UNITS[m.group(2)]
    if seconds < 60:
        raise InputError("--every must be at least 1m")
    return seconds


def parse_since(text: str | None) -> dt.date | None:
    """``--since YYYY-MM-DD`` -> date.

    Raises:
        InputError: if it is not a date.
    """
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError(f"--since {text[:20]!r} is not a date: use YYYY-MM-DD") from exc


def _clean(text: str) -> str:
    """One printable line (no control characters from a server's message)."""
    return "".join(ch if ch.isprintable() else " " for ch in str(text)).strip()[:500]


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sync`` command to the CLI."""
    p = subparsers.add_parser(
        "sync", help="pull ACLED or UCDP GED from their APIs into the incident store",
        description="Pull a live source into the store: new events are added, changed ones updated, "
                    "deleted ones (ACLED) removed, all in one transaction. Credentials: ACLED_USERNAME and "
                    "ACLED_PASSWORD, or UCDP_TOKEN (environment or .streamlit/secrets.toml).")
    p.add_argument("source", choices=("acled", "ucdp"))
    p.add_argument("--country", default="Kosovo", help="country to pull (default: Kosovo; UCDP also takes "
                                                        "Gleditsch-Ward codes such as 345,347)")
    p.add_argument("--since", metavar="YYYY-MM-DD", help="ACLED: first event date of the first pull "
                                                        "(later pulls are incremental)")
    p.add_argument("--version", default="26.1", help="UCDP GED release, e.g. 26.1 or a candidate such as 26.0.10")
    p.add_argument("--db", help="store URL (default: the CONFLICTMAP_DB setting)")
    p.add_argument("--every", metavar="INTERVAL", help="repeat every INTERVAL (e.g. 6h) until interrupted")
    p.set_defaults(func=cmd_sync)


def run_once(args: argparse.Namespace) -> str:
    """One sync as the options say; returns the counts line.

    Raises:
        ConflictmapError: any failure with a message for the user (nothing was stored).
    """
    from geodata.service.incidents import IncidentService

    settings = get_settings()
    since = parse_since(args.since)

    def say(msg: str) -> None:
        print(_clean(msg), file=sys.stderr, flush=True)

    with IncidentService(settings, db_url=args.db) as svc:  # the one door: role check and audit entry
        counts = svc.sync(args.source, country=args.country, since=since, version=args.version, progress=say)
    return counts.line()


def cmd_sync(args: argparse.Namespace) -> int:
    """Run ``sync``; returns the exit code (0 success, 2 failure with a one-line reason on stderr)."""
    try:
        every = parse_every(args.every) if args.every else None
    except InputError as exc:
        print(f"error: {_clean(str(exc))}", file=sys.stderr)
        return 2
    while True:
        try:
            line = run_once(args)
            print(line, flush=True)
            status = 0
        except ConflictmapError as exc:
            print(f"error: {_clean(str(exc))}", file=sys.stderr, flush=True)
            status = 2
        if every is None:
            return status
        print(f"next sync in {args.every} (Ctrl-C to stop)", file=sys.stderr, flush=True)
        time.sleep(every)
