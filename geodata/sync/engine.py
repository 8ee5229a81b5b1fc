"""One sync: pull a source completely, map and validate its rows, then apply them in one transaction.

The pull finishes before the store is touched, so a network failure, a bad page or a killed
process during the pull changes nothing; the write itself is one transaction
(:func:`geodata.store.sync_sql.apply_sync`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import requests

from geodata.export import licence
from geodata._errors import SourceError
from geodata.geo.enrich import locate_rows
from geodata.ingest.pipeline import load_boundaries_if_installed
from geodata.settings import Settings
from geodata.store.sync_sql import SyncBatch, apply_sync, sync_cursor
from geodata.sync import acled, ucdp
from geodata.sync.credentials import ACLED_PASSWORD, ACLED_USERNAME, UCDP_TOKEN, get_secret
from geodata.sync.http import CredentialsError, make_session
from geodata.sync.rows import Pulled, prepare_records

Progress = Callable[[str], None]
DEFAULT_COUNTRY = "Kosovo"
DEFAULT_UCDP_VERSION = "26.1"


@dataclass
class SyncCounts:
    """The counts of one sync (the command's last line)."""

    fetched: int = 0
    new: int = 0
    updated: int = 0
    deleted: int = 0
    rejected: int = 0

    def line(self) -> str:
        """``fetched=N new=N updated=N deleted=N rejected=N``."""
        return (f"fetched={self.fetched} new={self.new} updated={self.updated} "
                f"deleted={self.deleted} rejected={self.rejected}")


def _quiet(_m: str) -> None:
    return None


#: Rejected records described one by one in the progress output (the rest are counted).
MAX_REJECTS_SHOWN = 20


def _report_rejected(name: str, pulled: Pulled, say: Progress) -> None:
    """One progress line per rejected record (position in the pull, column, reason), at most 20."""
    errors = pulled.result.errors
    for issue in errors[:MAX_REJECTS_SHOWN]:
        say(f"{name}: record {issue.line} rejected: {issue.column}: {issue.reason}")
    if len(errors) > MAX_REJECTS_SHOWN:
        say(f"{name}: … and {len(errors) - MAX_REJECTS_SHOWN} more problems")


def _located(settings: Settings, pulled: Pulled) -> pd.DataFrame:
    """The pulled rows with their municipality computed once, as for an upload (schema 3)."""
    valid = pulled.result.valid
    located = locate_rows(valid, load_boundaries_if_installed(settings))
    return valid.assign(municipality=located["municipality"].to_numpy(dtype=object),
                        admin2_mismatch=pd.array(located["admin2_mismatch"], dtype="boolean"))


def source_key(source: str, country: str) -> str:
    """The ``sync_state`` key of a source and country, e.g. "acled/Kosovo"."""
    return f"{source}/{country.strip()}"


def token_cache(settings: Settings) -> acled.TokenCache:
    """Where ACLED tokens are cached: ``<data dir>/sync/acled_token.json`` (mode 0600)."""
    return acled.TokenCache(settings.data_dir / "sync" / "acled_token.json")


def sync_acled(settings: Settings, store: Any, country: str = DEFAULT_COUNTRY, since: dt.date | None = None,
               session: requests.Session | None = None, progress: Progress | None = None,
               env: Mapping[str, str] | None = None, limit: int = acled.MAX_LIMIT) -> SyncCounts:
    """Pull ACLED for ``country`` and apply it to ``store``.

    ``limit`` is the page size (at most 5,000). The first pull takes events dated from ``since``
    (all when ``None``); later pulls ask for rows
    changed at or after the newest ``timestamp`` seen, still within ``since`` when one was given,
    and for deletions since the newest ``deleted_timestamp`` seen.

    Returns:
        The counts.
    Raises:
        CredentialsError: wrong or missing credentials.
        SourceError: ACLED unreachable or answering not as documented.
        StoreError: the store rejected the write (nothing kept).
    """
    say = progress or _quiet
    key = source_key("acled", country)
    cursor = sync_cursor(store, key)
    if since is None and cursor.get("since"):
        since = dt.date.fromisoformat(str(cursor["since"]))
    user, password = get_secret(ACLED_USERNAME, env), get_secret(ACLED_PASSWORD, env)
    creds = acled.Credentials(user, password) if user and password else None
    client = acled.AcledClient(settings.acled_url, creds, session or make_session(), token_cache(settings), say)
    last_ts = cursor.get("timestamp")
    say(f"ACLED: pulling {country} " + (f"changed since timestamp {last_ts}" if last_ts is not None
                                         else f"from {since.isoformat()}" if since else "(all dates)"))
    rows = client.events(country, since=since, timestamp=int(last_ts) if last_ts is not None else None, limit=limit,
                         max_rows=settings.sync_max_rows)
    if last_ts is not None and since is not None:
        rows = [r for r in rows if str(r.get("event_date", ""))[:10] >= since.isoformat() or not r.get("event_date")]
    del_since = cursor.get("deleted_timestamp")
    if del_since is None:
        del_since = int(dt.datetime.combine(since, dt.time(), dt.UTC).timestamp()) if since else 0
    gone = client.deleted(int(del_since), limit=limit, max_rows=settings.sync_max_rows)
    pulled = prepare_records(rows, "acled")
    valid = _located(settings, pulled)
    # Cursors only from Unix times in range: one absurd value would hide every later change.
    stamps = [int(t) for t in valid["timestamp"].dropna() if 0 <= int(t) <= acled.MAX_TIMESTAMP] if len(valid) else []
    del_stamps = [int(r["deleted_timestamp"]) for r in gone if isinstance(r.get("deleted_timestamp"), int)]
    new_cursor = {
        "timestamp": max(stamps + ([int(last_ts)] if last_ts is not None else [])) if (stamps or last_ts is not None) else None,
        "deleted_timestamp": max(del_stamps + [int(del_since)]),
        "since": since.isoformat() if since else None,
    }
    if new_cursor["timestamp"] is None:
        new_cursor.pop("timestamp")
    _report_rejected("ACLED", pulled, say)
    say(f"ACLED: {len(rows)} events, {pulled.rejected} rejected, {len(gone)} on the deleted list; writing to the store")
    batch = SyncBatch(
        source=key, label=f"ACLED API: {country}", fmt="acled-sync", dataset=licence.ACLED.dataset,
        licence=licence.ACLED.name, valid=valid, extras=pulled.extras, compare="timestamp",
        deleted_ids=[str(r["event_id_cnty"]) for r in gone], delete_dataset=licence.ACLED.dataset,
        cursor=new_cursor, fetched=len(rows), rejected=pulled.rejected)
    result = apply_sync(store, batch, say)
    return SyncCounts(len(rows), result.new, result.updated, result.deleted, pulled.rejected + result.collisions)


def sync_ucdp(settings: Settings, store: Any, version: str = DEFAULT_UCDP_VERSION, country: str = DEFAULT_COUNTRY,
              session: requests.Session | None = None, progress: Progress | None = None,
              env: Mapping[str, str] | None = None, pagesize: int = ucdp.MAX_PAGESIZE) -> SyncCounts:
    """Pull UCDP GED ``version`` for ``country`` and apply it to ``store`` (rows compared by content).

    ``pagesize``: rows per page (at most 1,000).

    Returns:
        The counts (``deleted`` is 0: GED has no deletion list).
    Raises:
        CredentialsError: no token, or UCDP refused it.
        SourceError, InputError, StoreError: see :func:`geodata.sync.ucdp.fetch_events` and
            :func:`geodata.store.sync_sql.apply_sync`.
    """
    say = progress or _quiet
    token = get_secret(UCDP_TOKEN, env)
    if not token:
        raise CredentialsError("no UCDP token: set UCDP_TOKEN (environment or .streamlit/secrets.toml)")
    say(f"UCDP: pulling GED {version} for {country}")
    rows = ucdp.fetch_events(settings.ucdp_url, version, token, session or make_session(), country, pagesize=pagesize,
                             progress=say, max_rows=settings.sync_max_rows)
    pulled = prepare_records(rows, "ucdp")
    _report_rejected("UCDP", pulled, say)
    say(f"UCDP: {len(rows)} events, {pulled.rejected} rejected; writing to the store")
    batch = SyncBatch(
        source=source_key("ucdp", country), label=f"UCDP GED {version} API: {country}", fmt="ucdp-sync",
        dataset=licence.UCDP.dataset, licence=licence.UCDP.name, valid=_located(settings, pulled), extras=pulled.extras,
        compare="content", cursor={"version": version}, fetched=len(rows), rejected=pulled.rejected)
    result = apply_sync(store, batch, say)
    return SyncCounts(len(rows), result.new, result.updated, 0, pulled.rejected + result.collisions)


__all__ = ["CredentialsError", "SourceError", "SyncCounts", "source_key", "sync_acled", "sync_ucdp", "token_cache"]
