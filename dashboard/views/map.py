"""Map page: the map first (tall, above the fold), then time playback, key figures and the details of
the incident clicked on the map. Only wiring: data from :mod:`dashboard.data`, the map from
:mod:`layers.map`.

The map is mounted once per session: its base (outlines, labels, routes, sites, legend, basemap,
initial view) does not depend on the selection, and everything that does — the incidents, the
municipality choropleth, the proximity buffers — travels as feature groups through
``st_folium(feature_group_to_add=...)``. streamlit-folium keys its component on a hash of the base
map's script, so a filter change, a playback step, an upload or a status change swaps those layers
in the mounted map: its document, pan and zoom survive. So do a language switch (the labels carry
every language), a change of the choropleth's metric and a selection crossing a size limit
(markers / clusters / hexagons): the legend carries every representation's and metric's rows. The
base map is built again (and the map remounts) only when the basemap or the layer files change. The initial view is fitted to the
session's first selection (or a shared link's centre and zoom); later changes keep the reader's view.
The map's centre and zoom are carried in the URL (``c=lat,lon`` and ``z=``).
"""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

from dashboard import curation, data, sidebar
from dashboard import state as S
from dashboard.text import md_escape
from geodata.service import analysis, playback
from geodata.service import where
from geodata._errors import ConflictmapError
from geodata.service import context_key
from layers.assets import localize_links, write_static_assets
from layers.incidents import MARKER_LIMIT, choose_representation, event_id_of_tooltip, in_view_group
from layers.map import FitToData, MapInputs, build_map, layer_control, selection_groups

STATIC_VENDOR = Path(__file__).resolve().parents[1] / "static" / "vendor"
VENDOR_URL = "/app/static/vendor/"  # where Streamlit static serving exposes STATIC_VENDOR
MAP_KEY = "conflictmap"
#: Tall enough to be the page, short enough that a 900 px high window shows all of it.
MAP_HEIGHT = 700
PLAY_SECONDS = 1.5
#: A click on an incident marker reports the marker's own position; anything farther is not a hit.
CLICK_TOLERANCE_M = 100.0
#: Session key of the last clicked point (``{"lat", "lng"}``).
LAST_CLICK = "_cm_last_click"
#: Session key of the selection the initial view was fitted to: (its key, the selection).
FIT_TO = "_cm_fit_to"
#: Largest selection whose duplicate suggestions the details section computes.
DUPLICATE_ROWS = 5_000
#: When the map draws hexagons (more than :data:`layers.incidents.CLUSTER_LIMIT` incidents), the
#: incidents inside the reader's view are also drawn one by one, clickable with their full popups,
#: once the view (plus a margin for panning) holds at most this many: zooming into a town or a
#: street shows every incident there on its own, at any store size ("draw what the viewport needs").
VIEW_ROWS = MARKER_LIMIT
#: The view is widened by this share of its size on each side, so a short pan needs no new layer.
VIEW_MARGIN = 0.25
#: Compact attribution and legend so they do not cover the map in a dashboard column.
MAP_CSS = """<style>
.leaflet-control-layers{font:12px/1.4 sans-serif!important}
.leaflet-popup-content{font:12px/1.4 sans-serif!important;margin:10px 12px}
.leaflet-control-attribution{font:10px/1.3 sans-serif!important;max-width:75%;white-space:normal}
.cm-legend{font-size:11px!important;line-height:1.25!important;max-height:55%;overflow:auto}
</style>"""


@st.cache_resource(show_spinner=False)
def ensure_static_assets(dest: str) -> str:
    """Write Leaflet and plugins (folium-offline) where static serving finds them, once per process."""
    return str(write_static_assets(Path(dest)))


def playback_controls(options: list[dt.date], step: str) -> tuple[dt.date, bool] | None:
    """Playback widgets; returns (period, cumulative) or None when playback is off."""
    mode = st.radio("Time playback", ["Off", "Up to period", "Within period"], key="pb_mode", horizontal=True,
                    help="Step through the selection period by period (step set in the sidebar).")
    if mode == "Off" or not options:
        st.session_state["pb_playing"] = False
        return None
    if st.session_state.get("pb_period") not in options:
        st.session_state["pb_period"] = options[0]

    def move(delta: int) -> None:
        st.session_state["pb_period"] = playback.step(options, st.session_state.get("pb_period"), delta)

    b1, b2, b3, sl = st.columns([1, 1, 1, 9], vertical_alignment="bottom")
    b1.button("◀", on_click=move, args=(-1,), key="pb_prev", help="Previous period")
    if b2.button("⏸" if st.session_state.get("pb_playing") else "▶", key="pb_play", help="Play / pause"):
        st.session_state["pb_playing"] = not st.session_state.get("pb_playing", False)
        if st.session_state["pb_playing"] and st.session_state["pb_period"] == options[-1]:
            st.session_state["pb_period"] = options[0]
        st.rerun()  # full rerun: starts or stops the fragment's timer
    b3.button("▶|", on_click=move, args=(1,), key="pb_next", help="Next period")
    sl.select_slider("Period", options, key="pb_period", label_visibility="collapsed",
                     format_func=lambda d: playback.period_label(d, step))
    return st.session_state["pb_period"], mode == "Up to period"


def _start_at(m: folium.Map, view: tuple[tuple[float, float], int] | None) -> None:
    """Open the map at a shared link's centre and zoom instead of fitting it to the data.

    The same for the whole session (the map's script, and so the map, stay the same while the user
    pans); where the user then goes is reported back by the browser (:func:`_remember_view`).
    """
    if view is None:
        return
    for name, child in list(m._children.items()):
        if isinstance(child, (folium.map.FitBounds, FitToData)):
            del m._children[name]
    m.location = [view[0][0], view[0][1]]
    m.options["zoom"] = int(view[1])


def _remember_view(out: dict | None) -> None:
    """Keep the map's centre and zoom (as the browser reports them) in the session and the URL."""
    center, zoom = (out or {}).get("center"), (out or {}).get("zoom")
    if not center or zoom is None:
        return
    c = S.parse_center(f"{center.get('lat')},{center.get('lng')}")
    z = S.parse_zoom(str(zoom))
    known = (st.session_state.get(sidebar.W_CENTER), st.session_state.get(sidebar.W_ZOOM))
    if c is None or z is None or (c, z) == known:
        return
    st.session_state[sidebar.W_CENTER], st.session_state[sidebar.W_ZOOM] = c, z
    view = S.ViewOptions(center=c, zoom=z).to_query_params()
    st.query_params[S.VIEW_KEYS["center"]] = view[S.VIEW_KEYS["center"]]
    st.query_params[S.VIEW_KEYS["zoom"]] = view[S.VIEW_KEYS["zoom"]]


@st.cache_resource(show_spinner=False, max_entries=8)
def _base_map(version: tuple, look: tuple, initial: tuple | None, fit_key: tuple,
              _fit_to, _data: data.Snapshot) -> folium.Map:
    """The map without anything that depends on the selection, built once per data and layer files,
    look (tiles) and initial view (``fit_key`` names the selection ``_fit_to`` that the view
    is fitted to: the session's first), and shared. Never changed after it is built (:func:`_show`
    copies it before streamlit-folium adds to it). Not the language: place labels carry every
    language and the selection's groups switch them (and draw the sites). Not the representation
    nor the metric: the legend holds every representation's and metric's rows and the incident
    group says which to show. A language change, a change of metric or a selection crossing a size
    limit keeps the mounted map."""
    tiles, attribution = look
    layers = _data.layers
    m = build_map(MapInputs(incidents=_fit_to, municipalities=layers.municipalities, routes=layers.routes,
                            sites=layers.sites, country_boundary=layers.country),
                  tiles=tiles, tiles_attribution=attribution,
                  dynamic_incidents=True, dynamic_selection=True, dynamic_view=True)
    _start_at(m, initial)
    m.get_root().header.add_child(folium.Element(MAP_CSS))
    localize_links(m, VENDOR_URL)
    return m


@st.cache_resource(show_spinner=False, max_entries=16)
def _selection_groups(version: tuple, spec, look: tuple, representation: str, period: tuple | None, _shown,
                      _selection, _municipalities, _buffers, _data: data.Snapshot) -> list[folium.FeatureGroup]:
    """The layers of one selection (or one playback ``period`` of it): choropleth, buffers, incidents;
    shared like :func:`_base_map`."""
    metric, lang = look[0], look[1]
    groups = selection_groups(_data.drawable(_shown), municipalities=_municipalities, choropleth_of=_selection,
                              buffers=_buffers,
                              metric=metric, representation=representation, language=lang,
                              name=f"Incidents ({len(_shown):,})", sites=_data.layers.sites)
    for group in groups:
        localize_links(group, VENDOR_URL)  # the groups join the map inside st_folium
    return groups


def _view_box() -> tuple[float, float, float, float] | None:
    """The reader's view as (west, south, east, north), widened by :data:`VIEW_MARGIN`, from what the
    mounted map reported last (streamlit-folium's ``bounds``); ``None`` before it reported any."""
    bounds = (st.session_state.get(MAP_KEY) or {}).get("bounds") or {}
    sw, ne = bounds.get("_southWest") or {}, bounds.get("_northEast") or {}
    try:
        west, south, east, north = (float(sw["lng"]), float(sw["lat"]), float(ne["lng"]), float(ne["lat"]))
    except (KeyError, TypeError, ValueError):
        return None
    if not (west < east and south < north):
        return None
    dx, dy = (east - west) * VIEW_MARGIN, (north - south) * VIEW_MARGIN
    # Rounded (about 100 m) so that a tiny move reuses the cached layer.
    return tuple(round(v, 3) for v in (west - dx, south - dy, east + dx, north + dy))  # type: ignore[return-value]


@st.cache_resource(show_spinner=False, max_entries=8)
def _coordinates(version: tuple, spec, period: tuple | None, _shown):
    """Longitudes and latitudes of the shown incidents as arrays (read once per selection)."""
    return _shown.geometry.x.to_numpy(), _shown.geometry.y.to_numpy()


@st.cache_resource(show_spinner=False, max_entries=16)
def _view_group(version: tuple, spec, look: tuple, period: tuple | None, box: tuple, _shown, _data: data.Snapshot):
    """The incidents inside ``box`` as one clickable layer, or their count when there are too many.

    The shown (hexagon-sized) selection holds only the columns hexagons need: it counts the box, and
    the service reads the box's incidents whole (with status and sources) for their popups.

    Returns:
        ``(group, n, rows)``: a feature group "Incidents in view (N)" with every incident in the box
        (markers with full popups), N and those rows; ``(None, n, None)`` when the box holds none or
        more than :data:`VIEW_ROWS`.
    """
    lon, lat = _coordinates(version, spec, period, _shown)
    west, south, east, north = box
    inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
    n = int(inside.sum())
    if n == 0 or n > VIEW_ROWS:
        return None, n, None
    rows = data.in_view(_data.settings, spec, box)
    if period is not None:  # a playback step shows one period: the box's rows of that period
        rows = rows[rows["event_date"].isin(set(_shown["event_date"].iloc[inside.nonzero()[0]]))]
    group = in_view_group(rows, look[1])
    localize_links(group, VENDOR_URL)
    return group, len(rows), rows


def _fit_selection(key: tuple, selection):
    """The selection the session's initial view is fitted to: the first one shown, kept for the session
    (so later selections do not change the base map, which would remount it)."""
    kept = st.session_state.get(FIT_TO)
    if kept is None or kept[0][0] != key[0]:  # new data version of the layer files: fit again
        kept = (key, selection)
        st.session_state[FIT_TO] = kept
    return kept


def _show(m: folium.Map, groups: list[folium.FeatureGroup]) -> dict | None:
    """``st_folium`` of the shared map and the selection's layers; the map is left as it was.

    streamlit-folium adds the feature group and the layer control to the map it is given and
    renames every element, and rendering a folium element adds children to it (a marker its icon
    again): the shared objects are copied, so each rerun renders what was built, as a fresh build did.
    """
    return st_folium(_fresh(m), key=MAP_KEY, height=MAP_HEIGHT, use_container_width=True,
                     returned_objects=["last_object_clicked", "last_object_clicked_tooltip", "center", "zoom",
                                       "bounds"],
                     feature_group_to_add=[_fresh(g) for g in groups], layer_control=layer_control())


def _fresh(element):
    """A copy of ``element`` to render: the element tree (each element's ``_children``) is copied,
    everything else an element holds (compiled templates, payload dicts and lists, options) is
    shared, as rendering only adds children. A plain ``deepcopy`` recompiles every Jinja template
    and copies every coordinate list (half a second for a million-incident map)."""
    memo: dict[int, object] = {}
    stack, seen = [element], set()
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        for name, value in vars(el).items():
            if name == "_children":
                stack.extend(value.values())
            elif name != "_parent" and not isinstance(value, folium.Element):
                memo[id(value)] = value
    return copy.deepcopy(element, memo)


def map_panel() -> None:
    """The map, playback controls and the details of the clicked incident (a fragment)."""
    cur = sidebar.current()
    selection = cur.data.selection(cur.spec)
    step = cur.view.step
    options = playback.periods(selection["event_date"], step) if len(selection) else []
    if st.session_state.get("pb_playing") and st.session_state.get("pb_period") in options:
        nxt = playback.step(options, st.session_state["pb_period"], 1)
        if nxt == st.session_state["pb_period"]:
            st.session_state["pb_playing"] = False
            st.rerun()  # full rerun: drops the fragment's timer
        st.session_state["pb_period"] = nxt
    mode_on = st.session_state.get("pb_mode", "Off") != "Off" and options
    if mode_on and st.session_state.get("pb_period") not in options:
        st.session_state["pb_period"] = options[0]  # before the slider is drawn: map and slider agree
    shown = selection
    if mode_on:
        shown = playback.select_period(selection, st.session_state["pb_period"], step,
                                       st.session_state.get("pb_mode") == "Up to period")

    representation = choose_representation(len(selection))
    ctx = cur.data.context(cur.spec, cur.view)
    version = (cur.data.key, cur.data.version, context_key(cur.data.settings))  # data and layer files
    look = (cur.view.metric, cur.view.lang, ctx.tiles, ctx.tiles_attribution)
    fit_key, fit_to = _fit_selection((context_key(cur.data.settings), repr(cur.spec)), selection)
    m = _base_map(version[2:], look[2:], st.session_state.get(sidebar.INITIAL_VIEW),
                  fit_key, fit_to, cur.data)
    period = ((st.session_state.get("pb_period"), st.session_state.get("pb_mode"), step) if mode_on else None)
    layers = cur.data.layers
    groups = _selection_groups(version, cur.spec, look, representation, period, shown, selection,
                               layers.municipalities, cur.data.buffers(cur.spec), cur.data)
    in_view = None
    box = _view_box() if representation == "aggregate" else None
    if box is not None:
        in_view = _view_group(version, cur.spec, look, period, box, shown, cur.data)
        if in_view[0] is not None:
            groups = [*groups, in_view[0]]
    out = _show(m, groups)
    _remember_view(out)
    if representation == "aggregate":
        if in_view is not None and in_view[0] is not None:
            st.caption(f"The {in_view[1]:,} incidents in view are drawn one by one over the hexagons: "
                       "click one for its details.")
        else:
            many = f" (now {in_view[1]:,} in view)" if in_view is not None and in_view[1] > VIEW_ROWS else ""
            st.caption(f"Hexagons count the incidents. Zoom in until the view holds at most {VIEW_ROWS:,} "
                       f"incidents{many} to see and click each one.")

    chosen = playback_controls(options, step)
    if chosen is None:
        st.caption(f"Showing all {len(selection):,} incidents of the selection.")
    else:
        period, cumulative = chosen
        label = playback.period_label(period, step)
        st.caption(f"Showing {len(shown):,} incidents {'up to the end of' if cumulative else 'in'} "
                   f"{md_escape(label)} (municipality colours: whole selection).")

    # The component's value resets whenever the map's content changes (e.g. new data after a status
    # change): the last click is kept in the session so the details stay on the incident chosen.
    clicked = (out or {}).get("last_object_clicked") or st.session_state.get(LAST_CLICK)
    tip = (out or {}).get("last_object_clicked_tooltip") if (out or {}).get("last_object_clicked") else None
    if clicked is not None and tip is not None:
        clicked = {**clicked, "tip": str(tip)}
    elif clicked is not None and (out or {}).get("last_object_clicked"):
        clicked = {k: v for k, v in clicked.items() if k != "tip"}
    st.session_state[LAST_CLICK] = clicked
    pool = in_view[2] if in_view is not None and in_view[2] is not None else shown
    row = _clicked_row(pool, clicked) if clicked else None
    st.subheader("Incident details")
    if row is None:
        st.caption("Click an incident on the map to see its details here." if not clicked
                   else "No incident of the current view at the clicked point.")
        return
    show_details(row, cur.view.lang)
    analyst_section(cur, row, selection)


def _clicked_row(shown, clicked: dict):
    """The incident the reader clicked: by the event id its tooltip ends with (exact, also for a
    marker spread out of a co-location ring, whose drawn position is not its own), else the incident
    nearest the clicked point within :data:`CLICK_TOLERANCE_M`."""
    event_id = event_id_of_tooltip(clicked.get("tip"))
    if event_id and "event_id_cnty" in shown:
        hits = shown.index[shown["event_id_cnty"].astype(str) == event_id]
        if len(hits):
            return shown.loc[hits[0]]
    return analysis.nearest_incident(shown, clicked["lat"], clicked["lng"], max_m=CLICK_TOLERANCE_M)


def analyst_section(cur: sidebar.Current, row, selection) -> None:
    """Verification status (change with who/why, undo), sources and possible duplicates of the clicked incident."""
    event_id = str(row.get("event_id_cnty") or "")
    if not event_id:
        return
    # Duplicate suggestions compare every pair near the incident: offered for marker-sized selections only.
    pool = selection if len(selection) <= DUPLICATE_ROWS and "event_id_cnty" in selection else None
    with st.expander("Verification, sources and possible duplicates", expanded=True):
        try:
            with data.curation_service(cur.data.settings) as svc:
                curation.render(svc, event_id, pool, key="cur")
        except ConflictmapError as exc:  # the store is down: one message, no traceback
            st.error("The verification data cannot be read right now.")
            st.text(str(exc))


def show_details(row, lang: str = "en") -> None:
    """The clicked incident, as text (never HTML or Markdown); places in their one display name for ``lang``."""
    facts = {
        "Date": f"{row['event_date']:%Y-%m-%d}",
        "Event": f"{row.get('event_type')} — {row.get('sub_event_type')}",
        "Where": where(row.get("location"), row.get("municipality"), lang),
        "Actors": " vs ".join(str(v) for v in (row.get("actor1"), row.get("actor2")) if v),
        "Associated actors": "; ".join(str(v) for v in (row.get("assoc_actor_1"), row.get("assoc_actor_2")) if v),
        "Fatalities": str(row.get("fatalities")),
        "Source": str(row.get("source") or ""),
        "Event id": str(row.get("event_id_cnty") or ""),
    }
    st.dataframe({"field": list(facts), "value": list(facts.values())}, hide_index=True, width="stretch")
    st.text(str(row.get("notes") or ""))
    url = analysis.http_url_or_none(row.get("source_url"))
    if url:
        st.link_button("Open the source report", url)


def key_figures() -> None:
    """Incidents, fatalities, actors and date span of the selection."""
    cur = sidebar.current()
    figures = cur.data.figures(cur.spec)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Incidents", f"{figures.incidents:,}", help=f"of {cur.choices.total:,} in the data")
    c2.metric("Fatalities", f"{figures.fatalities:,}")
    c3.metric("Distinct actors", f"{figures.actors:,}", help="primary and associated actors")
    c4.metric("Date span", (f"{figures.span_days:,} day{'' if figures.span_days == 1 else 's'}"
                            if figures.first else "—"))
    if figures.first:
        c4.caption(f"{figures.first:%Y-%m-%d} → {figures.last:%Y-%m-%d}")


ensure_static_assets(str(STATIC_VENDOR))
playing = bool(st.session_state.get("pb_playing"))
st.fragment(run_every=PLAY_SECONDS if playing else None)(map_panel)()
key_figures()
