"""ACLED's API (since September 2025): OAuth password grant, paged JSON reads, the deleted list.

* Token: ``POST <base>/oauth/token`` with ``username``, ``password``, ``grant_type=password``,
  ``client_id=acled`` gives ``access_token`` (24 h) and ``refresh_token`` (14 days). Tokens are
  cached in ``<data dir>/sync/acled_token.json`` (mode 0600, tied to the account and base URL);
  an expired access token is renewed with ``grant_type=refresh_token`` before the password is
  used again.
* Events: ``GET <base>/api/acled/read`` with ``Authorization: Bearer``, ``_format=json``,
  ``limit`` (≤ 5,000) and ``page`` from 1 until a page holds fewer rows than ``limit``.
  A first pull filters by ``event_date`` (``BETWEEN since|today``); later pulls ask for rows
  whose ``timestamp`` is at or after the newest one already seen.
* Deletions: ``GET <base>/api/deleted/read`` (``event_id_cnty``, ``deleted_timestamp``), paged
  the same way.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from geodata._errors import SourceError
from geodata.sync.http import CredentialsError, request_json

#: Largest page ACLED serves.
MAX_LIMIT = 5000
#: Renew an access token this many seconds before it expires.
EXPIRY_MARGIN = 300
ACCESS_LIFETIME = 24 * 3600
REFRESH_LIFETIME = 14 * 24 * 3600
#: A pull never asks for more pages than this (a server that always answers full pages would loop);
#: :func:`geodata.sync.engine.sync_acled` passes the smaller limit of ``CONFLICTMAP_SYNC_MAX_ROWS``.
MAX_PAGES = 10_000
#: Latest Unix time a cursor may hold (2100-01-01): a larger ``timestamp``/``deleted_timestamp`` would
#: stop every later pull from seeing anything, so it is refused instead of stored.
MAX_TIMESTAMP = 4_102_444_800
#: Longest token lifetime believed (a year); ACLED gives 24 h.
MAX_EXPIRES_IN = 365 * 24 * 3600

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


@dataclass(frozen=True)
class Credentials:
    """An ACLED account (the e-mail address and password); ``repr`` hides both."""

    username: str
    password: str

    def __repr__(self) -> str:
        return "Credentials(<hidden>)"


class TokenCache:
    """Access and refresh tokens on disk, readable by the user alone.

    The file is replaced atomically and created with mode 0600; it records a hash of the account
    and base URL so that another account never reuses it.
    """

    def __init__(self, path: Path) -> None:
        """``path``: the JSON file (its folder is created when a token is saved)."""
        self.path = Path(path)

    def load(self, account: str) -> dict[str, Any]:
        """The cached tokens for ``account`` (see :func:`account_key`), or ``{}``."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) and data.get("account") == account else {}

    def save(self, account: str, tokens: dict[str, Any]) -> None:
        """Write ``tokens`` for ``account`` with mode 0600 (atomically).

        Raises:
            SourceError: if the data folder is not writable.
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".acled_token.", suffix=".part")
            try:
                os.fchmod(fd, 0o600)
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump({**tokens, "account": account}, fh)
                os.replace(tmp, self.path)
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError as exc:
            raise SourceError(f"cannot save the ACLED token in {self.path.parent}: {exc.strerror or exc}") from exc

    def clear(self) -> None:
        """Forget the cached tokens."""
        self.path.unlink(missing_ok=True)


def unix_time(value: Any, what: str) -> int:
    """A Unix time (seconds) sent by ACLED, checked: an int or ASCII digits, 0 to :data:`MAX_TIMESTAMP`.

    Args:
        value: the value as decoded from JSON.
        what: what it is, for the message ("deleted_timestamp").
    Raises:
        SourceError: for anything else (``"²"``, ``"abc"``, 40 nines, a negative number, an object).
    """
    if isinstance(value, bool):
        raise SourceError(f"ACLED sent a {what} that is not a Unix time")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = value if isinstance(value, str) else None
    if text is not None:
        text = text.strip()
        if text.endswith(".0"):
            text = text[:-2]
        if not (text.isascii() and text.isdigit() and len(text) <= 12):
            raise SourceError(f"ACLED sent a {what} that is not a Unix time")
        value = int(text)
    if not isinstance(value, int):
        raise SourceError(f"ACLED sent a {what} that is not a Unix time")
    if not 0 <= value <= MAX_TIMESTAMP:
        raise SourceError(f"ACLED sent a {what} out of range (after the year 2100 or before 1970)")
    return value


def _lifetime(value: Any) -> float:
    """``expires_in`` of a token answer in seconds (the default when absent).

    Raises:
        SourceError: when present but not a positive number of at most a year.
    """
    if value is None or value == "":
        return float(ACCESS_LIFETIME)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise SourceError("ACLED's token answer holds an expires_in that is not a number of seconds")
    try:
        seconds = float(value)
    except ValueError:
        raise SourceError("ACLED's token answer holds an expires_in that is not a number of seconds") from None
    if not 0 < seconds <= MAX_EXPIRES_IN:
        raise SourceError("ACLED's token answer holds an expires_in out of range")
    return seconds


def _number(value: Any) -> float:
    """A cached expiry time, 0 when the cache holds something else (a damaged cache is just not used)."""
    try:
        return float(value) if not isinstance(value, bool) else 0.0
    except (TypeError, ValueError):
        return 0.0


def account_key(base: str, username: str) -> str:
    """A stable, non-reversible key of (base URL, account) for the token cache."""
    return hashlib.sha256(f"{base}\x1f{username.lower()}".encode()).hexdigest()


class AcledClient:
    """A logged-in view of ACLED's API.

    Args:
        base: base URL (``CONFLICTMAP_ACLED_URL``).
        credentials: the account, or ``None`` when only cached tokens may be used.
        session: from :func:`geodata.sync.http.make_session`.
        cache: where tokens are kept.
        progress: receives one-line progress messages (never secrets).
    """

    def __init__(self, base: str, credentials: Credentials | None, session: requests.Session, cache: TokenCache,
                 progress: Progress | None = None) -> None:
        self.base = base.rstrip("/")
        self.credentials = credentials
        self.session = session
        self.cache = cache
        self.progress = progress or _quiet
        self._account = account_key(self.base, credentials.username if credentials else "")
        self._access: str | None = None

    # --- tokens ---------------------------------------------------------------------------------

    def _grant(self, form: dict[str, str], what: str) -> str:
        answer = request_json(self.session, "POST", f"{self.base}/oauth/token", what="ACLED", data=form,
                              refused=(400, 401, 403))
        if not isinstance(answer, dict) or not isinstance(answer.get("access_token"), str) or not answer["access_token"]:
            raise SourceError(f"ACLED's token answer ({what}) holds no access_token")
        now = time.time()
        tokens = {
            "access_token": answer["access_token"],
            "access_expires_at": now + _lifetime(answer.get("expires_in")),
            # A refresh answer without a new refresh token leaves the old one in use.
            "refresh_token": answer.get("refresh_token") if isinstance(answer.get("refresh_token"), str)
            else form.get("refresh_token", ""),
            "refresh_expires_at": now + REFRESH_LIFETIME,
        }
        self.cache.save(self._account, tokens)
        return str(answer["access_token"])

    def token(self) -> str:
        """A valid access token: cached, else refreshed, else from the password grant.

        Raises:
            CredentialsError: if ACLED refuses the password (or none is configured and no token is cached).
            SourceError: if ACLED cannot be reached or answers unexpectedly.
        """
        if self._access:
            return self._access
        cached = self.cache.load(self._account)
        now = time.time()
        if cached.get("access_token") and _number(cached.get("access_expires_at", 0)) > now + EXPIRY_MARGIN:
            self._access = str(cached["access_token"])
            return self._access
        if cached.get("refresh_token") and _number(cached.get("refresh_expires_at", 0)) > now + EXPIRY_MARGIN:
            self.progress("ACLED: renewing the access token")
            try:
                self._access = self._grant({"grant_type": "refresh_token", "refresh_token": str(cached["refresh_token"]),
                                            "client_id": "acled"}, "refresh")
                return self._access
            except CredentialsError:
                self.progress("ACLED: the refresh token was refused; signing in again")
        if self.credentials is None:
            raise CredentialsError("no ACLED credentials: set ACLED_USERNAME and ACLED_PASSWORD "
                                   "(environment or .streamlit/secrets.toml)")
        self.progress("ACLED: signing in")
        try:
            self._access = self._grant({"username": self.credentials.username, "password": self.credentials.password,
                                        "grant_type": "password", "client_id": "acled"}, "password")
        except CredentialsError as exc:
            raise CredentialsError("ACLED refused the username or password (check ACLED_USERNAME and ACLED_PASSWORD)") from exc
        return self._access

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        """GET with the bearer token; one new token and one retry when the token was refused."""
        url = f"{self.base}{path}"
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {self.token()}"}
            try:
                return request_json(self.session, "GET", url, what="ACLED", params=params, headers=headers)
            except CredentialsError:
                if attempt == 2:
                    raise CredentialsError("ACLED refused the access token twice (check the account's API access)") from None
                # The cached token may have been revoked: drop it and sign in afresh once.
                self._access = None
                cached = self.cache.load(self._account)
                cached["access_expires_at"] = 0
                self.cache.save(self._account, cached)
        raise AssertionError("unreachable")

    # --- reads ----------------------------------------------------------------------------------

    def _pages(self, path: str, params: dict[str, Any], limit: int, label: str,
               max_pages: int = MAX_PAGES) -> Iterator[list[dict[str, Any]]]:
        for page in range(1, max_pages + 1):
            answer = self._get(path, {**params, "_format": "json", "limit": limit, "page": page})
            rows = page_rows(answer, f"{label} page {page}")
            self.progress(f"ACLED: {label} page {page}: {len(rows)} rows")
            yield rows
            if len(rows) < limit:
                return
        raise SourceError(f"ACLED kept sending full pages of {label} after {max_pages} pages ({max_pages * limit:,} rows, "
                          "the limit CONFLICTMAP_SYNC_MAX_ROWS sets); nothing was stored")

    def events(self, country: str, since: dt.date | None = None, timestamp: int | None = None,
               limit: int = MAX_LIMIT, today: dt.date | None = None,
               max_rows: int | None = None) -> list[dict[str, Any]]:
        """Every event row of ``country``: changed at/after ``timestamp`` when given, else dated from ``since``.

        ``max_rows`` bounds the pull (and so the memory it takes): a source still sending full pages
        after that many rows is an error, and nothing is stored.

        Returns:
            The rows as ACLED sent them (dicts).
        Raises:
            CredentialsError, SourceError: see :meth:`token` and :func:`page_rows`.
        """
        params: dict[str, Any] = {"country": country}
        if timestamp is not None:
            params["timestamp"] = int(timestamp)
            params["timestamp_where"] = ">="  # explicit: rows changed at or after the newest seen
        elif since is not None:
            params["event_date"] = f"{since.isoformat()}|{(today or dt.date.today()).isoformat()}"
            params["event_date_where"] = "BETWEEN"
        out: list[dict[str, Any]] = []
        size = min(limit, MAX_LIMIT)
        for rows in self._pages("/api/acled/read", params, size, "events", _page_limit(max_rows, size)):
            out.extend(rows)
        return out

    def deleted(self, since_timestamp: int, limit: int = MAX_LIMIT,
                max_rows: int | None = None) -> list[dict[str, Any]]:
        """Events ACLED removed at/after ``since_timestamp``: dicts with ``event_id_cnty``, ``deleted_timestamp``.

        Raises:
            SourceError: if a row lacks ``event_id_cnty`` or has a ``deleted_timestamp`` that is not a
                Unix time in range (:func:`unix_time`), or past ``max_rows``.
        """
        out: list[dict[str, Any]] = []
        for rows in self._pages("/api/deleted/read", {"deleted_timestamp": int(since_timestamp),
                                                      "deleted_timestamp_where": ">="},
                                min(limit, MAX_LIMIT), "deletions", _page_limit(max_rows, min(limit, MAX_LIMIT))):
            for row in rows:
                if not str(row.get("event_id_cnty") or "").strip():
                    raise SourceError("ACLED's deleted list holds a row without event_id_cnty")
                if str(row.get("deleted_timestamp") or "").strip():
                    row["deleted_timestamp"] = unix_time(row["deleted_timestamp"], "deleted_timestamp")
            out.extend(rows)
        return out


def _page_limit(max_rows: int | None, size: int) -> int:
    """Pages a pull may take: enough for ``max_rows`` rows (and one short page), at most :data:`MAX_PAGES`."""
    if max_rows is None:
        return MAX_PAGES
    return max(1, min(MAX_PAGES, max_rows // max(size, 1) + 1))


def page_rows(answer: Any, label: str) -> list[dict[str, Any]]:
    """The ``data`` rows of one ACLED JSON answer, checked against the documented shape.

    Raises:
        SourceError: unless the answer is an object with ``data`` a list of objects and no
            ``success: false`` / error ``status``.
    """
    if not isinstance(answer, dict):
        raise SourceError(f"ACLED's answer for {label} is not as documented (not a JSON object)")
    if answer.get("success") is False or (isinstance(answer.get("status"), int) and answer["status"] >= 400):
        raise SourceError(f"ACLED reported a failure for {label} (status {answer.get('status')!s:.10})")
    data = answer.get("data")
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise SourceError(f"ACLED's answer for {label} is not as documented (no list of rows in 'data')")
    return data
