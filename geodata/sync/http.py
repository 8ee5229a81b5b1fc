"""The HTTP layer of the sync commands: one ``requests`` session with bounded retries and timeouts.

Retries are urllib3's :class:`~urllib3.util.Retry`: connection failures and the statuses in
:data:`RETRY_STATUSES` are retried at most :data:`DEFAULT_RETRIES` times with exponential back-off,
and a ``Retry-After`` header (429, 503) is honoured up to :data:`MAX_RETRY_AFTER` seconds. Every
failure the caller cannot fix by waiting becomes a :class:`geodata._errors.SourceError` with a
one-line reason that never contains credentials or tokens.

Redirects: a sync request never follows a redirect to another origin (scheme, host and port), so a
password, bearer token or ``x-ucdp-access-token`` header goes only to the configured API. A
same-origin redirect is followed (at most :data:`MAX_REDIRECTS`), keeping the method for 307/308
and turning it into a GET without body for 301/302/303, as browsers and requests do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util import Retry

from geodata._errors import SourceError

#: Statuses worth asking again: rate limit and the server's transient failures.
RETRY_STATUSES: tuple[int, ...] = (429, 500, 502, 503, 504)
DEFAULT_RETRIES = 3
#: Longest Retry-After honoured; a longer wait is cut to this (a sync should not hang for hours).
MAX_RETRY_AFTER = 300
#: (connect, read) timeouts in seconds.
TIMEOUT: tuple[float, float] = (10.0, 120.0)
USER_AGENT = "conflictmap-sync/1 (+https://github.com/)"
#: Same-origin redirects followed per request.
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class CredentialsError(SourceError):
    """The source refused the credentials or token (401/403, or an OAuth ``invalid_grant``)."""


def make_session(retries: int = DEFAULT_RETRIES, backoff: float = 0.5) -> requests.Session:
    """A session that retries transient failures a bounded number of times.

    Args:
        retries: most retries per request (connection errors and :data:`RETRY_STATUSES`).
        backoff: back-off factor in seconds (0.5 → waits of about 0.5, 1, 2, 4 s), capped at 30 s.
    Returns:
        A :class:`requests.Session` for http and https.
    """
    retry = Retry(
        total=retries, connect=retries, read=retries, status=retries, other=0,
        status_forcelist=RETRY_STATUSES, allowed_methods=frozenset({"GET", "POST"}),
        backoff_factor=backoff, backoff_max=30, respect_retry_after_header=True,
        retry_after_max=MAX_RETRY_AFTER, raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = USER_AGENT
    return session


def redact_url(url: str) -> str:
    """``url`` fit to print: no user name or password (``http://u:SECRET@host`` → ``http://host``), no query.

    Args:
        url: any URL text (a malformed one is cut at its first "?" and "@" as well).
    Returns:
        The scheme, host, port and path only.
    """
    text = str(url)
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        if ":" in host:  # IPv6 literal
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port else ""
        return urlunsplit((parts.scheme, host + port, parts.path, "", ""))
    except ValueError:  # e.g. a port that is not a number
        return text.split("?", 1)[0].rsplit("@", 1)[-1]


def _where(url: str) -> str:
    """The URL without credentials or query string (queries may carry e-mail addresses; never show them)."""
    return redact_url(url)


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of ``url``, the port made explicit for http and https.

    Raises:
        ValueError: for a URL whose port is not a number.
    """
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def same_origin(url: str, base: str) -> bool:
    """True when ``url`` is an http(s) URL on the same scheme, host and port as ``base``."""
    try:
        a, b = origin(url), origin(base)
    except ValueError:
        return False
    return a[0] in ("http", "https") and a == b


def _send(session: requests.Session, method: str, url: str, *, what: str, params: Mapping[str, Any] | None,
          data: Mapping[str, Any] | None, headers: Mapping[str, str] | None) -> requests.Response:
    """One request, following same-origin redirects only (see the module docstring).

    Raises:
        SourceError: on a redirect to another origin, or too many redirects.
        requests.exceptions.RequestException: as ``session.request`` raises it.
    """
    for _ in range(MAX_REDIRECTS + 1):
        resp = session.request(method, url, params=params, data=data, headers=headers, timeout=TIMEOUT,
                               allow_redirects=False)
        if resp.status_code not in _REDIRECTS:
            return resp
        target = urljoin(resp.url or url, resp.headers.get("Location", ""))
        if not same_origin(target, url):
            raise SourceError(f"{what} redirected {_where(url)} to another host ({_where(target)}); "
                              "not followed, so no credentials left the configured address")
        if resp.status_code in (301, 302, 303) and method != "GET":
            method, data = "GET", None
        url, params = target, None  # the Location carries its own query
    raise SourceError(f"{what} redirected more than {MAX_REDIRECTS} times at {_where(url)}")


def request_json(session: requests.Session, method: str, url: str, *, what: str,
                 params: Mapping[str, Any] | None = None, data: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, refused: tuple[int, ...] = (401, 403)) -> Any:
    """Send one request and return the decoded JSON body.

    Args:
        session: from :func:`make_session`.
        method: "GET" or "POST".
        url: the full URL.
        what: the source's name for messages ("ACLED", "UCDP").
        params, data, headers: query parameters, form fields, extra headers.
        refused: statuses that mean "wrong credentials" (an OAuth token endpoint also answers 400).
    Returns:
        The parsed JSON value.
    Raises:
        CredentialsError: on a status in ``refused``.
        SourceError: when the server cannot be reached, keeps failing after the retries, answers
            another error status, or sends something that is not JSON.
    """
    try:
        resp = _send(session, method, url, what=what, params=params, data=data, headers=headers)
    except requests.exceptions.RetryError as exc:
        raise SourceError(f"{what} kept failing at {_where(url)} after {DEFAULT_RETRIES} retries; try again later") from exc
    except requests.exceptions.Timeout as exc:
        raise SourceError(f"{what} did not answer in time at {_where(url)}") from exc
    except requests.exceptions.ConnectionError as exc:
        raise SourceError(f"cannot reach {what} at {_where(url)} (no connection)") from exc
    except requests.exceptions.RequestException as exc:
        raise SourceError(f"request to {what} at {_where(url)} failed: {type(exc).__name__}") from exc
    if resp.status_code in refused:
        raise CredentialsError(f"{what} refused the credentials (HTTP {resp.status_code} at {_where(url)})")
    if resp.status_code in RETRY_STATUSES:
        raise SourceError(f"{what} kept answering HTTP {resp.status_code} at {_where(url)}; try again later")
    if resp.status_code >= 400:
        raise SourceError(f"{what} answered HTTP {resp.status_code} at {_where(url)}")
    try:
        return resp.json()
    except ValueError as exc:
        raise SourceError(f"{what} answered with something that is not JSON at {_where(url)}") from exc
