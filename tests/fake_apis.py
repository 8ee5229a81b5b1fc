"""Loopback fakes of ACLED's and UCDP's APIs for the sync tests (http.server on 127.0.0.1, in a thread).

They implement what the issue documents — ACLED's OAuth password and refresh grants, paged
``/api/acled/read`` and ``/api/deleted/read``; UCDP's ``/api/gedevents/<version>`` with
``NextPageUrl`` and the ``x-ucdp-access-token`` header — and can be told to misbehave once:
answer 429 with ``Retry-After``, a 500, a malformed page, or hang on a page until released.
Every request is logged (method, path, query, headers, time) for the tests to inspect.
All rows are synthetic (ids ``SYN…``, actors and places called "Synthetic …").
"""

from __future__ import annotations

import copy
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict[str, str]
    at: float


@dataclass
class Misbehave:
    """One scripted misbehaviour: on the ``nth`` request whose path starts with ``path`` (1-based), do ``action``.

    action: "429" (with ``retry_after`` seconds), "500", "malformed", "hang" (until :attr:`FakeApi.release` is set),
    "401", "302"/"307" (a redirect to ``location``), "json" (200 with ``payload``).
    """

    path: str
    action: str
    nth: int = 1
    retry_after: int = 1
    seen: int = 0
    done: bool = False
    location: str = ""
    payload: Any = None


class FakeApi:
    """Base: a threaded HTTP server whose handler calls :meth:`handle`."""

    def __init__(self) -> None:
        self.log: list[Logged] = []
        self.script: list[Misbehave] = []
        self.release = threading.Event()
        self.hanging = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:  # keep test output clean
                return None

            def _serve(self, method: str) -> None:
                parts = urlsplit(self.path)
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode("utf-8") if length else ""
                body = {k: v[-1] for k, v in parse_qs(raw).items()}
                api.log.append(Logged(method, parts.path, query, {k.lower(): v for k, v in self.headers.items()},
                                      body, time.monotonic()))
                status, headers, payload = api._dispatch(method, parts.path, query, self.headers, body)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
                try:
                    self.send_response(status)
                    for k, v in {"Content-Type": "application/json", **headers}.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client was killed: nothing to answer
                    return

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeApi:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def requests_to(self, path: str) -> list[Logged]:
        return [r for r in self.log if r.path.startswith(path)]

    def _dispatch(self, method: str, path: str, query: dict[str, str], headers: Any,
                  body: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        for m in self.script:
            if m.done or not path.startswith(m.path):
                continue
            m.seen += 1
            if m.seen != m.nth:
                continue
            m.done = True
            if m.action == "429":
                return 429, {"Retry-After": str(m.retry_after)}, {"message": "Too many requests"}
            if m.action == "500":
                return 500, {}, {"message": "Internal error"}
            if m.action == "401":
                return 401, {}, {"message": "Unauthorized"}
            if m.action == "malformed":
                return 200, {}, b'{"status": 200, "success": true, "data": [{"event_id_cnty": '  # cut off
            if m.action in ("301", "302", "303", "307", "308"):
                return int(m.action), {"Location": m.location}, {"message": "moved"}
            if m.action == "json":
                return 200, {}, m.payload
            if m.action == "hang":
                self.hanging.set()
                self.release.wait(60)
                return 503, {}, {"message": "released"}
        return self.handle(method, path, query, headers, body)

    def handle(self, method: str, path: str, query: dict[str, str], headers: Any,
               body: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        raise NotImplementedError


def acled_event(n: int, *, timestamp: int = 1_760_000_000, day: str = "2024-05-10", numeric_inter: bool = False,
                **changes: Any) -> dict[str, Any]:
    """One synthetic ACLED API row (as ACLED sends JSON: strings), id ``SYN<n>``, in northern Kosovo."""
    row: dict[str, Any] = {
        "event_id_cnty": f"SYN{n}", "event_date": day, "year": day[:4], "time_precision": "1",
        "disorder_type": "Political violence", "event_type": "Violence against civilians",
        "sub_event_type": "Attack", "actor1": "Synthetic Armed Group", "assoc_actor_1": "",
        "inter1": "4" if numeric_inter else "Identity militia", "actor2": "Synthetic Civilians",
        "assoc_actor_2": "", "inter2": "7" if numeric_inter else "Civilians",
        "interaction": "47" if numeric_inter else "Identity militia-Civilians", "civilian_targeting": "Civilian targeting",
        "iso": "0", "region": "Europe", "country": "Kosovo", "admin1": "Mitrovica", "admin2": "Zvecan",
        "admin3": "", "location": "Synthetic village", "latitude": "42.9100", "longitude": "20.8400",
        "geo_precision": "1", "source": "Synthetic Wire", "source_scale": "National",
        "notes": f"Synthetic test event {n}.", "fatalities": "0", "tags": "", "timestamp": str(timestamp),
        "population_best": "1200",  # optional column ACLED may add: ignored without error
    }
    row.update({k: str(v) for k, v in changes.items()})
    return row


class FakeAcled(FakeApi):
    """ACLED's OAuth token endpoint, ``/api/acled/read`` and ``/api/deleted/read``.

    Attributes:
        events: event_id_cnty -> row (edit to simulate corrections).
        deleted: list of {"event_id_cnty", "deleted_timestamp"}.
        accounts: username -> password.
        valid_access, valid_refresh: tokens currently accepted.
    """

    def __init__(self, events: list[dict[str, Any]] | None = None) -> None:
        super().__init__()
        self.events: dict[str, dict[str, Any]] = {e["event_id_cnty"]: e for e in (events or [])}
        self.deleted: list[dict[str, Any]] = []
        self.accounts = {"analyst@example.org": "correct horse"}
        self.valid_access: set[str] = set()
        self.valid_refresh: set[str] = set()
        self.issued = 0
        self.lock = threading.Lock()
        self.rotate_refresh = True  # False: a refresh answer carries no new refresh token, the old one stays valid

    def _issue(self) -> dict[str, Any]:
        with self.lock:
            self.issued += 1
            access, refresh = f"access-{self.issued}", f"refresh-{self.issued}"
        self.valid_access.add(access)
        self.valid_refresh.add(refresh)
        return {"token_type": "Bearer", "expires_in": 86400, "access_token": access, "refresh_token": refresh}

    def handle(self, method, path, query, headers, body):
        if path == "/oauth/token" and method == "POST":
            if body.get("client_id") != "acled":
                return 400, {}, {"error": "invalid_client"}
            if body.get("grant_type") == "password":
                if self.accounts.get(body.get("username", "")) == body.get("password"):
                    return 200, {}, self._issue()
                return 400, {}, {"error": "invalid_grant", "error_description": "The user credentials were incorrect."}
            if body.get("grant_type") == "refresh_token":
                if body.get("refresh_token") in self.valid_refresh:
                    if not self.rotate_refresh:
                        issued = self._issue()
                        self.valid_refresh.discard(issued.pop("refresh_token"))
                        return 200, {}, issued
                    self.valid_refresh.discard(body["refresh_token"])
                    return 200, {}, self._issue()
                return 400, {}, {"error": "invalid_grant"}
            return 400, {}, {"error": "unsupported_grant_type"}
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[7:] not in self.valid_access:
            return 401, {}, {"message": "Unauthorized"}
        if query.get("_format") != "json":
            return 400, {}, {"message": "this fake serves _format=json only"}
        limit = int(query.get("limit", 5000))
        page = int(query.get("page", 1))
        if limit > 5000 or page < 1:
            return 400, {}, {"message": "limit at most 5000, page from 1"}
        if path == "/api/acled/read":
            rows = sorted(self.events.values(), key=lambda r: r["event_id_cnty"])
            if "country" in query:
                rows = [r for r in rows if r["country"] == query["country"]]
            if query.get("timestamp_where", ">=") != ">=":
                return 400, {}, {"message": "this fake knows timestamp_where >= only"}
            if "timestamp" in query:
                rows = [r for r in rows if int(r["timestamp"]) >= int(query["timestamp"])]
            if query.get("event_date_where") == "BETWEEN":
                lo, hi = query["event_date"].split("|")
                rows = [r for r in rows if lo <= r["event_date"] <= hi]
        elif path == "/api/deleted/read":
            if query.get("deleted_timestamp_where", ">=") != ">=":
                return 400, {}, {"message": "this fake knows deleted_timestamp_where >= only"}
            since = int(query.get("deleted_timestamp", 0))  # noqa: E501
            # A hostile value (not a number) is served as it is, whatever the filter asked.
            rows = [d for d in self.deleted
                    if not (str(d["deleted_timestamp"]).isascii() and str(d["deleted_timestamp"]).lstrip("-").isdigit()) or int(d["deleted_timestamp"]) >= since]
        else:
            return 404, {}, {"message": "not found"}
        chunk = copy.deepcopy(rows[(page - 1) * limit: page * limit])
        return 200, {}, {"status": 200, "success": True, "count": len(chunk), "messages": [], "data": chunk}


def ucdp_event(n: int, **changes: Any) -> dict[str, Any]:
    """One synthetic UCDP GED API row (JSON numbers as numbers), id ``n``, in northern Kosovo."""
    row: dict[str, Any] = {
        "id": n, "relid": f"SYN-{n}", "year": 1999, "active_year": True, "code_status": "Clear",
        "type_of_violence": 3, "conflict_dset_id": "1", "conflict_new_id": 1, "conflict_name": "Synthetic conflict",
        "dyad_dset_id": "1", "dyad_new_id": 1, "dyad_name": "Synthetic dyad", "side_a_dset_id": "1",
        "side_a_new_id": 1, "side_a": "Government of Synthetia", "side_b_dset_id": "2", "side_b_new_id": 2,
        "side_b": "Civilians", "number_of_sources": 1, "source_article": "Synthetic article",
        "source_office": "Synthetic Office", "source_date": "1999-03-25", "source_headline": "Synthetic headline",
        "source_original": "", "where_prec": 2, "where_coordinates": "Synthetic village",
        "where_description": "Synthetic description", "adm_1": "Mitrovica district", "adm_2": "Zvecan municipality",
        "latitude": 42.95, "longitude": 20.8, "geom_wkt": "POINT (20.8 42.95)", "priogrid_gid": 1,
        "country": "Serbia (Yugoslavia)", "country_id": 345, "region": "Europe", "event_clarity": 1, "date_prec": 1,
        "date_start": "1999-03-24T00:00:00", "date_end": "1999-03-26T00:00:00", "deaths_a": 0, "deaths_b": 0,
        "deaths_civilians": 2, "deaths_unknown": 0, "best": 2, "high": 4, "low": 1, "gwnoa": "345", "gwnob": None,
    }
    row.update(changes)
    return row


class FakeUcdp(FakeApi):
    """UCDP's ``/api/gedevents/<version>``: pages from 0, ``NextPageUrl`` until the last page.

    Attributes:
        versions: version -> list of rows.
        token: the accepted ``x-ucdp-access-token``.
    """

    def __init__(self, rows: list[dict[str, Any]] | None = None, version: str = "26.1") -> None:
        super().__init__()
        self.versions: dict[str, list[dict[str, Any]]] = {version: list(rows or [])}
        self.token = "ucdp-test-token"
        self.next_host: str | None = None  # set to send NextPageUrl to another host

    def handle(self, method, path, query, headers, body):
        if not path.startswith("/api/gedevents/"):
            return 404, {}, {"message": "not found"}
        if headers.get("x-ucdp-access-token") != self.token:
            return 401, {}, {"message": "A valid access token is required"}
        version = path.rsplit("/", 1)[-1]
        if version not in self.versions:
            return 404, {}, {"message": f"no version {version}"}
        size = int(query.get("pagesize", 100))
        page = int(query.get("page", 0))
        if size > 1000:
            return 400, {}, {"message": "pagesize at most 1000"}
        rows = self.versions[version]
        if "Country" in query:
            wanted = {int(c) for c in query["Country"].split(",")}
            rows = [r for r in rows if int(r["country_id"]) in wanted]
        pages = max(1, -(-len(rows) // size))
        chunk = copy.deepcopy(rows[page * size:(page + 1) * size])
        nxt = ""
        if page + 1 < pages:
            q = {k: v for k, v in query.items()}
            q["page"] = str(page + 1)
            nxt = f"{self.next_host or self.url}{path}?{urlencode(q)}"
        return 200, {}, {"TotalCount": len(rows), "TotalPages": pages, "PreviousPageUrl": "", "NextPageUrl": nxt,
                         "Result": chunk}


__all__ = ["FakeAcled", "FakeUcdp", "Misbehave", "acled_event", "ucdp_event"]
