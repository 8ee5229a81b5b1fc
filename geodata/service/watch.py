"""Watch areas and digests: what arrived, changed or was removed in an area since its owner last looked.

A watch area is a polygon (a GeoJSON file, a route or site buffered by some kilometres in EPSG:32634,
or a municipality) plus optional filters (event types, an actor, a minimum verification status). A
digest reads the store's change log (:mod:`geodata.store.watch_sql`): what counts is *when a row
arrived or changed in the store*, not the event's date. Each incident appears at most once, as
``new``, ``changed`` or ``removed``; one added and removed in the same window is not listed.

Points exactly on an area's boundary count as **inside** (``shapely`` ``covers``): a monitor would
rather see one incident too many than miss one on the edge of their area.

Change levels follow ACLED's Trendfinder: this week (the seven local days, Europe/Belgrade, ending
today) against the previous four weeks' and the past year's weekly average; above +25 % is a large
increase, +10 to +25 % moderate, −25 to +10 % limited, below −25 % a large decrease; an average of 2
or fewer with 5 or fewer this week is limited whatever the percentage.
"""

from __future__ import annotations

import datetime as dt
import getpass
import io
import json
import math
import smtplib
import ssl
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Callable, Sequence
from zoneinfo import ZoneInfo

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from geodata._errors import InputError, OutputError
from geodata.export.licence import CONFLICTMAP, LICENCES, UNDECLARED, attributions
from geodata.store.watch_sql import (
    WatchRow, log_entries, log_head, log_time, first_after, rows_by_event_id, rows_in_box, rows_of_uploads,
)
from geodata.export.textsafe import printable

#: Local time of the monitors (weeks and printed times).
LOCAL_TZ = ZoneInfo("Europe/Belgrade")
#: Metric CRS for buffers and distances.
METRIC_CRS = "EPSG:32634"
#: ``--min-status``: statuses from least to most trusted (disputed and retracted rank below reported).
STATUS_RANK: dict[str, int] = {"retracted": 0, "disputed": 1, "reported": 2, "corroborated": 3, "verified": 4}
KINDS = ("area", "route", "site", "municipality")
CHANGES = ("new", "changed", "removed")
FORMATS = ("text", "json", "atom")
ATOM_NS = "http://www.w3.org/2005/Atom"
#: A clock: returns the current time (timezone-aware). Injected by callers and tests.
Clock = Callable[[], dt.datetime]


class WatchError(InputError):
    """A watch area or digest request that cannot be served (unknown name, bad area file, bad option)."""


def utc_now() -> dt.datetime:
    """The real clock (UTC)."""
    return dt.datetime.now(dt.timezone.utc)


def default_owner() -> str:
    """The owner of areas saved from the command line: the OS user, else "local"."""
    try:
        return getpass.getuser() or "local"
    except (OSError, KeyError):  # no user name in the environment or the password database
        return "local"


# -- areas --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """What in an area is watched: event types (any of), an actor (text in actor1/actor2), a status."""

    types: tuple[str, ...] = ()
    actor: str = ""
    min_status: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the area)."""
        return {"types": list(self.types), "actor": self.actor, "min_status": self.min_status}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Filters":
        """The stored form back."""
        return cls(tuple(d.get("types", ())), str(d.get("actor", "")), str(d.get("min_status", "")))


@dataclass(frozen=True)
class WatchArea:
    """A saved watch area: its polygon (EPSG:4326), filters and read cursor (a change-log id)."""

    owner: str
    name: str
    kind: str
    ref: str
    km: float | None
    geometry: BaseGeometry
    filters: Filters
    cursor: int
    cursor_at: str
    created_at: str

    @classmethod
    def from_row(cls, row: WatchRow) -> "WatchArea":
        """From the stored row."""
        return cls(row.owner, row.name, row.kind, row.ref, row.km, shape(json.loads(row.geometry)),
                   Filters.from_dict(row.filters), row.cursor, row.cursor_at, row.created_at)

    def describe(self) -> str:
        """One line: what the area is."""
        km = f"{self.km:g} km" if self.km else ""
        where = {"area": f"polygon from {Path(self.ref).name}" + (f" + {km}" if km else ""),
                 "route": f"{km} around route {self.ref}", "site": f"{km} around {self.ref}",
                 "municipality": f"municipality {self.ref}" + (f" + {km}" if km else "")}.get(self.kind, self.ref)
        f = self.filters
        extra = ([f"types: {', '.join(f.types)}"] if f.types else []) + ([f"actor: {f.actor}"] if f.actor else []) \
            + ([f"status ≥ {f.min_status}"] if f.min_status else [])
        return where + (f" ({'; '.join(extra)})" if extra else "")


def check_name(name: str) -> str:
    """A watch area's name, trimmed. Raises WatchError if empty or over 80 characters."""
    text = " ".join(str(name).split())
    if not text or len(text) > 80:
        raise WatchError("a watch area needs a name of 1 to 80 characters")
    return text


def check_filters(types: Sequence[str], actor: str, min_status: str, known_types: Sequence[str]) -> Filters:
    """Validated filters. Raises WatchError for an unknown event type or status."""
    for t in types:
        if t not in known_types:
            raise WatchError(f"unknown event type {t!r}; one of: {', '.join(known_types)}")
    if min_status and min_status not in STATUS_RANK:
        raise WatchError(f"unknown status {min_status!r}; one of: {', '.join(STATUS_RANK)}")
    return Filters(tuple(dict.fromkeys(types)), actor.strip(), min_status)


def _buffered(geom: BaseGeometry, km: float) -> BaseGeometry:
    metric = gpd.GeoSeries([geom], crs="EPSG:4326").to_crs(METRIC_CRS)
    return gpd.GeoSeries(metric.buffer(km * 1000.0), crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0]


def _pick(layer: gpd.GeoDataFrame | None, column: str, name: str, what: str) -> tuple[BaseGeometry, str]:
    if layer is None or not len(layer):
        raise WatchError(f"no {what} layer is available")
    names = layer[column].astype(str)
    hit = layer[names.str.casefold() == name.strip().casefold()]
    if not len(hit):
        raise WatchError(f"no {what} named {name!r}; one of: {', '.join(sorted(names))}")
    return shapely.union_all(list(hit.geometry)), str(hit[column].iloc[0])


def area_geometry(kind: str, ref: str, km: float | None, *, routes: gpd.GeoDataFrame | None = None,
                  sites: gpd.GeoDataFrame | None = None, municipalities: gpd.GeoDataFrame | None = None,
                  data: bytes | None = None) -> tuple[BaseGeometry, str]:
    """The polygon (EPSG:4326) of a watch area and its canonical reference.

    Args:
        kind: "area" (``ref`` a GeoJSON file), "route", "site" or "municipality".
        ref: the file, or the route/site/municipality name (case-insensitive).
        km: the buffer in kilometres (required for route and site; optional for a municipality).
        routes, sites, municipalities: the context layers.
        data: for "area", the GeoJSON itself (an upload in the dashboard; ``ref`` is then its name).
    Returns:
        ``(polygon, ref)``.
    Raises:
        WatchError: unknown name, missing distance, unreadable or polygon-less file.
    """
    if kind not in KINDS:
        raise WatchError(f"unknown area kind {kind!r}")
    if km is not None and (not math.isfinite(km) or km < 0 or km > 200):
        raise WatchError("--km must be between 0 and 200")
    if kind in ("route", "site") and not km:
        raise WatchError(f"a {kind} watch area needs --km (the distance around the {kind})")
    if kind == "area":
        try:
            frame = gpd.read_file(io.BytesIO(data) if data is not None else Path(ref))
        except Exception as exc:  # noqa: BLE001 - any reader failure is a bad file for the user
            raise WatchError(f"cannot read the area file {ref}: {exc}") from exc
        if frame.crs is not None:
            frame = frame.to_crs("EPSG:4326")
        polys = [g for g in frame.geometry if g is not None and g.geom_type in ("Polygon", "MultiPolygon")]
        if not polys:
            raise WatchError(f"the area file {ref} holds no polygon")
        geom = shapely.make_valid(shapely.union_all(polys))
        return (_buffered(geom, km) if km else geom), str(ref)
    if kind == "route":
        geom, name = _pick(routes, "name", ref, "route")
    elif kind == "site":
        geom, name = _pick(sites, "name_en", ref, "site")
    else:
        from geodata.geo.municipalities import canonical_municipality

        # Serbian, Albanian and ASCII spellings all name the same municipality (the alias table).
        geom, name = _pick(municipalities, "municipality", canonical_municipality(ref) or ref, "municipality")
    return (_buffered(geom, km) if km else geom), name


def in_area(area: WatchArea, rows: pd.DataFrame, *, use_status: bool = True) -> pd.Series:
    """Which ``rows`` (latitude, longitude, event_type, actors, status) the area watches.

    Points on the boundary are inside (``covers``).
    """
    if not len(rows):
        return pd.Series([], dtype=bool)
    lon = pd.to_numeric(rows["longitude"], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(rows["latitude"], errors="coerce").to_numpy(dtype=float)
    keep = pd.Series(shapely.covers(area.geometry, shapely.points(lon, lat)), index=rows.index).fillna(False)
    f = area.filters
    if f.types:
        keep &= rows["event_type"].astype(str).isin(f.types)
    if f.actor:
        keep &= rows["actors"].fillna("").astype(str).str.casefold().str.contains(f.actor.casefold(), regex=False)
    if f.min_status and use_status and "status" in rows:
        keep &= rows["status"].fillna("reported").map(lambda s: STATUS_RANK.get(str(s), 2)) >= STATUS_RANK[f.min_status]
    return keep.astype(bool)


# -- change levels -------------------------------------------------------------------------------------
def _level(this: int, average: float) -> tuple[str, float | None]:
    if average <= 2 and this <= 5:
        return "limited", (None if average == 0 else round((this - average) / average * 100, 1))
    if average == 0:
        return "large increase", None
    pct = (this - average) / average * 100
    if pct > 25:
        level = "large increase"
    elif pct >= 10:
        level = "moderate increase"
    elif pct >= -25:
        level = "limited"
    else:
        level = "large decrease"
    return level, round(pct, 1)


def change_levels(event_dates: Sequence[dt.date], today: dt.date) -> dict[str, Any]:
    """Trendfinder-style levels of one area on ``today`` (a local date).

    Args:
        event_dates: the event dates of the area's incidents.
        today: the last day of "this week".
    Returns:
        ``{"week": [start, end], "this_week", "vs_4_weeks": {"average", "change_pct", "level"},
        "vs_52_weeks": {...}, "highest_in_months", "weekly"}`` — ``weekly`` the last 12 weeks' counts
        (oldest first); ``highest_in_months`` is N when this week is the highest in N months, "record"
        when no earlier week came close, ``None`` otherwise.
    """
    weeks_back: dict[int, int] = {}
    for d in event_dates:
        delta = (today - d).days
        if delta >= 0:
            k = delta // 7
            weeks_back[k] = weeks_back.get(k, 0) + 1
    this = weeks_back.get(0, 0)
    avg4 = sum(weeks_back.get(k, 0) for k in range(1, 5)) / 4
    avg52 = sum(weeks_back.get(k, 0) for k in range(1, 53)) / 52
    l4, p4 = _level(this, avg4)
    l52, p52 = _level(this, avg52)
    highest: int | str | None = None
    if this > 0:
        prior = [k for k, n in weeks_back.items() if k > 0 and n >= this]
        if not prior:
            highest = "record"
        else:
            months = int(min(prior) * 7 / 30.44)
            highest = months if months >= 2 else None
    return {
        "week": [(today - dt.timedelta(days=6)).isoformat(), today.isoformat()],
        "this_week": this,
        "vs_4_weeks": {"average": round(avg4, 2), "change_pct": p4, "level": l4},
        "vs_52_weeks": {"average": round(avg52, 2), "change_pct": p52, "level": l52},
        "highest_in_months": highest,
        "weekly": [weeks_back.get(k, 0) for k in range(11, -1, -1)],
    }


def area_levels(store: Any, area: WatchArea, today: dt.date) -> dict[str, Any]:
    """:func:`change_levels` of the incidents an area watches now."""
    rows = rows_in_box(store, area.geometry.bounds)
    rows = rows[in_area(area, rows)]
    dates = [dt.date.fromisoformat(str(d)[:10]) for d in rows["event_date"]]
    return change_levels(dates, today)


# -- digests -------------------------------------------------------------------------------------------
@dataclass
class Digest:
    """What changed in one area between ``since`` and ``until``.

    Attributes:
        upto: the newest change-log id read (``--mark-read`` moves the cursor here).
        items: one dict per incident (see :data:`ITEM_KEYS`), oldest change first.
    """

    area: WatchArea
    since: dt.datetime
    until: dt.datetime
    upto: int
    items: list[dict[str, Any]] = field(default_factory=list)
    levels: dict[str, Any] = field(default_factory=dict)
    datasets: tuple[str, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """The documented JSON object (``area``, ``since``, ``until``, ``items``, ``levels``)."""
        return {"area": self.area.name, "since": self.since.isoformat(), "until": self.until.isoformat(),
                "items": [{k: it[k] for k in ITEM_KEYS} for it in self.items], "levels": self.levels}


ITEM_KEYS = ("event_id_cnty", "change", "event_date", "event_type", "location", "fatalities",
             "verification_status", "what_changed")


def parse_time(text: str) -> dt.datetime:
    """A ``--since`` time: ISO date or date-time; without an offset it is Europe/Belgrade local time.

    Raises:
        WatchError: if it is not an ISO time.
    """
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise WatchError(f"--since {text!r} is not a time (use 'last' or e.g. 2026-03-29T08:00)") from exc
    return when.replace(tzinfo=LOCAL_TZ) if when.tzinfo is None else when


def _store_time(text: str | None, fallback: dt.datetime) -> dt.datetime:
    if not text:
        return fallback
    return dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc)


def _utc_text(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def build_digest(store: Any, area: WatchArea, *, since: str | dt.datetime | None = None,
                 clock: Clock = utc_now, levels: bool = True) -> Digest:
    """What changed in ``area`` since its cursor (``since`` None or "last") or a time.

    Args:
        store: an open store.
        area: the watch area.
        since: "last"/None (the area's cursor) or a time (a datetime or ISO text).
        clock: the current time (injected; "this week" and ``until`` come from it).
        levels: also compute the change levels (a count of changes does without).
    Returns:
        The :class:`Digest`.
    """
    now = clock()
    head, _ = log_head(store)
    if since is None or since == "last":
        after = area.cursor
        since_dt = _store_time(area.cursor_at, now)
    else:
        since_dt = parse_time(since) if isinstance(since, str) else since
        after = first_after(store, _utc_text(since_dt))
    log = log_entries(store, after, head)
    uploads = [int(u) for u in log.loc[log["upload_id"].notna(), "upload_id"]]
    upload_entry = {int(u): int(i) for u, i in zip(log["upload_id"], log["id"]) if pd.notna(u)}
    # events per incident: (log id, change, what, kind, snapshot row or None)
    events: dict[str, list[tuple[int, str, str, str, dict[str, Any] | None]]] = {}
    current_new = rows_of_uploads(store, uploads, area.geometry.bounds)
    for row in current_new.to_dict("records"):
        events.setdefault(str(row["event_id_cnty"]), []).append(
            (upload_entry[int(row["upload_id"])], "new", "", "upload", None))
    for e in log[log["event_id_cnty"].notna()].to_dict("records"):
        snap = {"event_id_cnty": e["event_id_cnty"], "event_date": e["event_date"], "event_type": e["event_type"],
                "location": e["location"], "fatalities": e["fatalities"], "latitude": e["latitude"],
                "longitude": e["longitude"], "actors": e["actors"], "dataset": e["dataset"], "status": None}
        eid = str(e["event_id_cnty"])
        origin = e["origin_upload"]
        if e["change"] == "removed" and pd.notna(origin) and int(origin) in upload_entry:
            # it arrived in this window too (the upload's rows are read from the store, where it no longer is)
            events.setdefault(eid, []).append((upload_entry[int(origin)], "new", "", "upload", None))
        events.setdefault(eid, []).append((int(e["id"]), str(e["change"]), str(e["what"] or ""), str(e["kind"]), snap))
    current = rows_by_event_id(store, list(events))
    now_rows = {str(r["event_id_cnty"]): r for r in current.to_dict("records")}
    at_of = dict(zip(log["id"].astype(int), log["at"].astype(str)))
    items: list[tuple[int, dict[str, Any]]] = []
    datasets: set[str] = set()
    for eid, evs in events.items():
        evs.sort(key=lambda x: x[0])
        first, last = evs[0][1], evs[-1][1]
        if first == "new" and last == "removed":
            continue  # arrived and went in the same window: nothing to report
        change = "new" if first == "new" else "removed" if last == "removed" else "changed"
        if change == "removed":
            row = dict(evs[-1][4] or {})
            row["status"] = now_rows.get(eid, {}).get("status") or "removed"
        else:
            row = now_rows.get(eid) or dict(next((x[4] for x in reversed(evs) if x[4]), {}))
        if not row:
            continue
        frame = pd.DataFrame([row])
        status_change = any(x[3] == "status" for x in evs)
        if not bool(in_area(area, frame, use_status=change != "removed" and not status_change).iloc[0]):
            continue
        whats = list(dict.fromkeys(x[2] for x in evs if x[2]))
        if change == "new":
            whats = ["arrived in the store"] + [w for w in whats]
        last_id = evs[-1][0]
        datasets.add(str(row.get("dataset") or ""))
        items.append((last_id, {
            "event_id_cnty": eid, "change": change, "event_date": str(row.get("event_date") or "")[:10],
            "event_type": str(row.get("event_type") or ""), "location": str(row.get("location") or ""),
            "fatalities": None if pd.isna(row.get("fatalities")) else int(row["fatalities"]),
            "verification_status": str(row.get("status") or "reported"),
            "what_changed": "; ".join(whats), "log_id": last_id, "at": at_of.get(last_id, ""),
        }))
    items.sort(key=lambda x: (x[0], x[1]["event_id_cnty"]))
    upto = max(head, area.cursor) if since is None or since == "last" else head
    today = now.astimezone(LOCAL_TZ).date()
    return Digest(area, since_dt, now, upto, [it for _, it in items],
                  area_levels(store, area, today) if levels else {},
                  tuple(sorted(datasets)))


# -- formats ---------------------------------------------------------------------------------------------
def licence_lines(datasets: Sequence[str]) -> list[str]:
    """The data licences' limits a digest carries (as every export does)."""
    frame = pd.DataFrame({"dataset": [d or UNDECLARED.dataset for d in datasets] or [CONFLICTMAP.dataset],
                          "event_id_cnty": [""] * max(len(datasets), 1)})
    lines = attributions(frame)
    by = {**LICENCES, UNDECLARED.dataset: UNDECLARED}
    for d in sorted(set(frame["dataset"])):
        lic = by.get(d, UNDECLARED)
        named = lic.name if lic.name.startswith(lic.dataset) else f"{lic.dataset}: {lic.name}"
        lines.append(named + (f" ({lic.url})" if lic.url else "")
                     + ("; shared rows omit the notes, actors and sources" if lic.restricted else ""))
    return lines


def _local(when: dt.datetime) -> str:
    return when.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M %Z (UTC%z)")


def levels_line(levels: dict[str, Any]) -> str:
    """One line summing up the change levels."""
    if not levels:
        return "levels: none"
    v4, v52 = levels["vs_4_weeks"], levels["vs_52_weeks"]
    hi = levels.get("highest_in_months")
    extra = (" — highest on record" if hi == "record" else f" — highest in {hi} months" if hi else "")
    return (f"this week ({levels['week'][0]} to {levels['week'][1]}): {levels['this_week']} incidents; "
            f"vs previous 4 weeks: {v4['level']}; vs past year: {v52['level']}{extra}")


def render_text(d: Digest) -> str:
    """The digest as plain text (every line through :func:`geodata.export.textsafe.printable`)."""
    lines = [f"Watch area: {d.area.name} — {d.area.describe()}",
             f"Changes from {_local(d.since)} to {_local(d.until)}: {len(d.items)}"]
    for it in d.items:
        fat = "" if it["fatalities"] is None else f", fatalities {it['fatalities']}"
        lines.append(f"  [{it['change']}] {it['event_id_cnty']}  {it['event_date']}  {it['event_type']} at "
                     f"{it['location']}{fat}, status {it['verification_status']} — {it['what_changed']}")
    if not d.items:
        lines.append("  nothing new, changed or removed")
    lines.append(levels_line(d.levels))
    lines += ["Data licences:"] + [f"  {x}" for x in licence_lines(d.datasets)]
    return "\n".join(printable(x) for x in lines) + "\n"


def feed_id(area: WatchArea) -> str:
    """The Atom feed id of an area (stable: owner and name)."""
    return f"urn:conflictmap:watch:{urllib.parse.quote(area.owner, safe='')}:{urllib.parse.quote(area.name, safe='')}"


def entry_id(area: WatchArea, item: dict[str, Any]) -> str:
    """A stable Atom entry id: the area, the incident and the change-log entry it reports."""
    return f"{feed_id(area)}:{urllib.parse.quote(item['event_id_cnty'], safe='')}:{item['log_id']}"


def render_atom(d: Digest) -> bytes:
    """The digest as an Atom feed (UTF-8 bytes); entry ids are stable across runs."""
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            el.text = text
        return el

    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    sub(feed, "id", feed_id(d.area))
    sub(feed, "title", f"conflictmap watch area: {d.area.name}")
    sub(feed, "updated", _utc_text(d.until))
    sub(sub(feed, "author"), "name", "conflictmap")
    sub(feed, "rights", " | ".join(licence_lines(d.datasets)))
    sub(feed, "subtitle", levels_line(d.levels))
    for it in d.items:
        e = sub(feed, "entry")
        sub(e, "id", entry_id(d.area, it))
        sub(e, "title", f"[{it['change']}] {it['event_id_cnty']}: {it['event_type']} at {it['location']}, "
                        f"{it['event_date']}")
        at = it.get("at") or ""
        sub(e, "updated", _utc_text(dt.datetime.fromisoformat(at)) if at else _utc_text(d.until))
        sub(e, "summary", f"{it['event_id_cnty']} ({it['change']}): {it['what_changed']}; status "
                          f"{it['verification_status']}; fatalities {it['fatalities']}")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def render(d: Digest, fmt: str) -> bytes:
    """The digest in ``fmt`` ("text", "json" or "atom") as UTF-8 bytes."""
    if fmt == "json":
        return (json.dumps(d.as_json(), ensure_ascii=False, indent=1) + "\n").encode("utf-8")
    if fmt == "atom":
        return render_atom(d)
    if fmt == "text":
        return render_text(d).encode("utf-8")
    raise WatchError(f"unknown format {fmt!r}; one of: {', '.join(FORMATS)}")


# -- e-mail ----------------------------------------------------------------------------------------------
def mail_message(digests: Sequence[Digest], to: str, sender: str) -> EmailMessage:
    """One e-mail holding the text of ``digests`` (and the licences' limits)."""
    msg = EmailMessage()
    total = sum(len(d.items) for d in digests)
    names = ", ".join(d.area.name for d in digests)
    msg["Subject"] = printable(f"conflictmap digest: {names} ({total} changes)")[:200]
    msg["From"] = sender
    msg["To"] = to
    msg.set_content("\n".join(render_text(d) for d in digests))
    return msg


def send_mail(msg: EmailMessage, smtp_url: str, user: str = "", password: str = "", timeout: float = 30,
              tls: ssl.SSLContext | None = None) -> None:
    """Send ``msg`` through ``smtp://host:port`` (``?starttls=1`` for STARTTLS; a login when ``user`` is set).

    Args:
        msg, smtp_url, user, password, timeout: the message, server, login and socket timeout.
        tls: the STARTTLS context (default: the system's trusted CAs, host name checked).
    Raises:
        WatchError: no or a bad URL; OutputError: the server refused or could not be reached, or its
            certificate is not trusted.
    """
    url = urllib.parse.urlsplit(smtp_url)
    if url.scheme != "smtp" or not url.hostname:
        raise WatchError("set CONFLICTMAP_SMTP_URL to smtp://host:port to send digests by e-mail")
    starttls = urllib.parse.parse_qs(url.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
    try:
        with smtplib.SMTP(url.hostname, url.port or 25, timeout=timeout) as smtp:
            if starttls:
                # smtplib's own default context checks no certificate: a password would go to anyone.
                smtp.starttls(context=tls or ssl.create_default_context())
            if user:
                smtp.login(user, password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise OutputError(f"the digest mail was not sent: {exc}") from exc


def check_address(address: str) -> str:
    """A plausible single e-mail address. Raises WatchError otherwise."""
    a = address.strip()
    if a.count("@") != 1 or any(c in a for c in " \r\n,;<>") or a.startswith("@") or a.endswith("@"):
        raise WatchError(f"not an e-mail address: {address!r}")
    return a


def mark_time(store: Any, upto: int, fallback: dt.datetime) -> str:
    """The store time of log entry ``upto`` (what a cursor moved there shows as ``since``)."""
    return log_time(store, upto) or _utc_text(fallback)
