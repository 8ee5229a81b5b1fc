"""UCDP's GED API: ``GET <base>/api/gedevents/<version>`` with the ``x-ucdp-access-token`` header.

Pages of at most 1,000 events (``pagesize``); each answer holds ``Result``, ``TotalCount``,
``TotalPages`` and ``NextPageUrl`` (empty on the last page), which is followed as given — but
only on the same scheme and host as the base URL, so the token never travels elsewhere.
Countries are Gleditsch–Ward codes (``Country=345,347``); :data:`COUNTRY_CODES` names a few.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import requests

from geodata._errors import InputError, SourceError
from geodata.sync.http import request_json, same_origin

MAX_PAGESIZE = 1000
MAX_PAGES = 10_000
#: Country names accepted by ``--country`` -> Gleditsch–Ward codes. GED codes events in Kosovo
#: under "Serbia (Yugoslavia)" (345) as well as Kosovo (347), so "Kosovo" asks for both; the
#: coordinates then decide the municipality (rows outside the area of interest get a warning).
COUNTRY_CODES: dict[str, str] = {"kosovo": "345,347", "serbia": "345", "north macedonia": "343",
                                 "montenegro": "341", "albania": "339", "bosnia and herzegovina": "346"}
#: GED fields kept with each row beyond the incident model (the model has one date and one count).
KEPT_FIELDS: tuple[str, ...] = ("date_end", "where_prec", "date_prec", "best", "low", "high", "code_status")

Progress = Callable[[str], None]


def country_codes(country: str) -> str:
    """``--country`` value -> the API's ``Country`` parameter.

    Args:
        country: a name from :data:`COUNTRY_CODES` or comma-separated numeric codes ("345,347").
    Raises:
        InputError: for anything else.
    """
    text = country.strip()
    if re.fullmatch(r"\d{1,4}(\s*,\s*\d{1,4})*", text):
        return ",".join(p.strip() for p in text.split(","))
    code = COUNTRY_CODES.get(text.lower())
    if code is None:
        raise InputError(f"unknown UCDP country {text[:40]!r}: give Gleditsch-Ward codes (e.g. 345,347) or one of "
                         + ", ".join(sorted(COUNTRY_CODES)))
    return code


def fetch_events(base: str, version: str, token: str, session: requests.Session, country: str = "Kosovo",
                 pagesize: int = MAX_PAGESIZE, progress: Progress | None = None,
                 max_rows: int | None = None) -> list[dict[str, Any]]:
    """Every GED event of ``version`` for ``country``, following ``NextPageUrl``.

    Args:
        base: base URL (``CONFLICTMAP_UCDP_URL``).
        version: release, e.g. "26.1" or a candidate such as "26.0.10".
        token: the UCDP access token (sent only in the header, never shown).
        session: from :func:`geodata.sync.http.make_session`.
        country: see :func:`country_codes`.
        pagesize: rows per page (at most 1,000).
        progress: receives one-line progress messages.
        max_rows: most rows a pull may hold (bounds its memory); more is an error and nothing is stored.
    Returns:
        The ``Result`` rows as sent (dicts).
    Raises:
        InputError: for a malformed version or unknown country.
        CredentialsError: if UCDP refuses the token.
        SourceError: if UCDP cannot be reached or an answer is not as documented.
    """
    if not re.fullmatch(r"\d{1,2}\.\d{1,2}(\.\d{1,3})?", version.strip()):
        raise InputError(f"malformed UCDP version {version[:20]!r}: use e.g. 26.1 or 26.0.10")
    say = progress or (lambda _m: None)
    base = base.rstrip("/")
    url: str | None = f"{base}/api/gedevents/{version.strip()}"
    # No "page" on the first request: the server starts at its first page, whatever its numbering.
    params: dict[str, Any] | None = {"pagesize": min(pagesize, MAX_PAGESIZE), "Country": country_codes(country)}
    headers = {"x-ucdp-access-token": token}
    out: list[dict[str, Any]] = []
    size = min(pagesize, MAX_PAGESIZE)
    pages = MAX_PAGES if max_rows is None else max(1, min(MAX_PAGES, max_rows // max(size, 1) + 1))
    for page in range(1, pages + 1):
        assert url is not None
        answer = request_json(session, "GET", url, what="UCDP", params=params, headers=headers)
        if not isinstance(answer, dict) or not isinstance(answer.get("Result"), list) \
                or not all(isinstance(r, dict) for r in answer["Result"]):
            raise SourceError(f"UCDP's answer for page {page} is not as documented (no 'Result' list of events)")
        rows = answer["Result"]
        out.extend(rows)
        total = answer.get("TotalCount")
        say(f"UCDP: page {page}: {len(rows)} rows ({len(out)} of {total if isinstance(total, int) else '?'})")
        nxt = answer.get("NextPageUrl")
        if not nxt:
            return out
        if not isinstance(nxt, str) or not same_origin(nxt, base):
            raise SourceError("UCDP's NextPageUrl points away from the configured API; not followed")
        url, params = nxt, None
    raise SourceError(f"UCDP kept sending NextPageUrl after {pages} pages (the limit CONFLICTMAP_SYNC_MAX_ROWS sets); "
                      "nothing was stored")
