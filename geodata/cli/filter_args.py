"""The filter options of every export command, defined once.

``python -m dashboard export-html|export-png`` and ``python -m geodata export`` call
:func:`add_filter_arguments` on their parser and :func:`spec_from_args` on the parsed
arguments, so ``--start/--end/--actor/--event-type/--municipality`` (and the rest of
:class:`geodata.model.filters.FilterSpec`) mean the same in every command.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Callable, TypeVar

from geodata.model.filters import MAX_FATALITIES, NEAR_KM_RANGE, FilterSpec
from geodata.geo.municipalities import canonical_municipality
from geodata.model.schema import EVENT_TYPES, SUB_EVENT_TO_TYPE
from geodata.curation.verification import STATUSES

_Number = TypeVar("_Number", int, float)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from None


def _event_type(text: str) -> str:
    if text not in EVENT_TYPES:
        raise argparse.ArgumentTypeError(f"unknown event type {text!r}; one of: {', '.join(EVENT_TYPES)}")
    return text


def _sub_event_type(text: str) -> str:
    if text not in SUB_EVENT_TO_TYPE:
        raise argparse.ArgumentTypeError(f"unknown sub-event type {text!r}")
    return text


def _municipality(text: str) -> str:
    canon = canonical_municipality(text)
    if canon is None:
        raise argparse.ArgumentTypeError(f"unknown municipality {text!r} (e.g. 'Zveçan', 'North Mitrovica')")
    return canon


def _non_negative(kind: Callable[[str], _Number], high: float) -> Callable[[str], _Number]:
    """An argparse ``type=`` that parses with ``kind`` and refuses negative, infinite or larger-than-``high`` numbers."""
    def parse(text: str) -> _Number:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text[:30]!r} is not a number") from None
        if value < 0:
            raise argparse.ArgumentTypeError("must not be negative")
        if not value <= high:  # also NaN and inf
            raise argparse.ArgumentTypeError(f"must be at most {high:,}")
        return value
    return parse


def add_filter_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the incident filter options to ``parser`` (in their own argument group).

    Repeatable options (``--actor``, ``--event-type``, ``--municipality`` …) combine with OR
    within an option and AND across options, as in the dashboard.

    Returns:
        ``parser``.
    """
    g = parser.add_argument_group("filters (same meaning as in the dashboard)")
    g.add_argument("--start", type=_date, metavar="YYYY-MM-DD", help="first event date (inclusive)")
    g.add_argument("--end", type=_date, metavar="YYYY-MM-DD", help="last event date (inclusive)")
    g.add_argument("--actor", action="append", default=[], metavar="NAME",
                   help="actor (actor1, actor2 or associated), exact name; repeatable")
    g.add_argument("--event-type", action="append", default=[], type=_event_type, metavar="TYPE",
                   help="ACLED event type, e.g. 'Battles'; repeatable")
    g.add_argument("--sub-event-type", action="append", default=[], type=_sub_event_type, metavar="TYPE",
                   help="ACLED sub-event type, e.g. 'Armed clash'; repeatable")
    g.add_argument("--municipality", action="append", default=[], type=_municipality, metavar="NAME",
                   help="municipality (any spelling, e.g. Zvečan/Zveçan); repeatable")
    g.add_argument("--min-fatalities", type=_non_negative(int, MAX_FATALITIES), default=0, metavar="N",
                   help="at least N fatalities")
    g.add_argument("--text", default="", metavar="TEXT", help="text contained in notes or location")
    g.add_argument("--near-route", action="append", default=[], metavar="NAME",
                   help="within --near-km of this patrol route (name); repeatable")
    g.add_argument("--near-site", action="append", default=[], metavar="NAME",
                   help="within --near-km of this site (English name); repeatable")
    g.add_argument("--near-km", type=_non_negative(float, NEAR_KM_RANGE[1]), default=5.0, metavar="KM",
                   help="proximity radius in km (default 5)")
    g.add_argument("--status", action="append", default=[], choices=STATUSES, metavar="STATUS",
                   help=f"verification status ({', '.join(STATUSES)}); repeatable")
    return parser


def spec_from_args(args: argparse.Namespace) -> FilterSpec:
    """The :class:`FilterSpec` described by options added with :func:`add_filter_arguments`.

    Args:
        args: the parsed options.
    Returns:
        The spec (repeated values of an option kept once, in order).
    Raises:
        ValueError: if ``--start`` is after ``--end``.
    """
    if args.start and args.end and args.start > args.end:
        raise ValueError(f"--start {args.start} is after --end {args.end}")
    return FilterSpec(
        start=args.start, end=args.end,
        actors=tuple(dict.fromkeys(args.actor)), event_types=tuple(dict.fromkeys(args.event_type)),
        sub_event_types=tuple(dict.fromkeys(args.sub_event_type)),
        municipalities=tuple(dict.fromkeys(args.municipality)),
        min_fatalities=args.min_fatalities, text=args.text,
        near_routes=tuple(dict.fromkeys(args.near_route)), near_sites=tuple(dict.fromkeys(args.near_site)),
        near_km=args.near_km, statuses=tuple(dict.fromkeys(getattr(args, "status", []) or [])),
    )
