"""conflictmap dashboard: ``streamlit run dashboard/app.py`` from the repository root.

This file only wires widgets to pure functions: loading and enrichment (:mod:`geodata.layers_data`),
filtering (:mod:`geodata.filters`), summaries (:mod:`geodata.analysis`), playback
(:mod:`geodata.playback`), widget/URL state (:mod:`dashboard.state`) and the map (:mod:`layers.map`).

Caching: the four layers are loaded and enriched once per configuration and store version
(``st.cache_resource``: shared, never mutated); a filter change recomputes only the row positions
of the selection (``st.cache_data`` keyed on the :class:`FilterSpec`) and the map.

Large stores (more than ``CONFLICTMAP_PUSHDOWN_ROWS`` incidents, see :mod:`geodata.settings`) are
not held in memory: only the bundled incidents are loaded, the filter choices come from
``SELECT DISTINCT``/``MIN``/``MAX`` (:mod:`geodata.facets`), and each :class:`FilterSpec` is
answered by the store through :func:`geodata.pushdown.select_incidents` (cached with
``st.cache_data`` on settings key, store version and spec). Big selections are read lean (the
columns the map, charts, table and playback show), so a million stored incidents stay far below
2 GB (BENCHMARKS.md).

Time playback swaps the incident layer through ``st_folium(feature_group_to_add=...)`` inside a
fragment, so stepping through periods does not remount the map (zoom and pan are kept).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(_REPO))

import altair as alt  # noqa: E402
import folium  # noqa: E402
import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import streamlit as st  # noqa: E402
from streamlit_folium import st_folium  # noqa: E402

from dashboard import state as S  # noqa: E402
from geodata import analysis, playback  # noqa: E402
from geodata.boundaries import HOW_TO_GET_BOUNDARIES, BoundaryError  # noqa: E402
from geodata.enrich import buffer_features  # noqa: E402
from geodata.facets import StoreFacets, store_facets  # noqa: E402
from geodata.filters import ACTOR_COLUMNS, FilterSpec, filter_mask  # noqa: E402
from geodata.layers_data import LayerBundle, load_bundle  # noqa: E402
from geodata.pushdown import AGGREGATE_COLUMNS, LEAN_COLUMNS, select_incidents  # noqa: E402
from geodata.selection import Selection  # noqa: E402
from geodata.settings import Settings, get_settings  # noqa: E402
from geodata.store import open_store  # noqa: E402
from layers.assets import localize_links, write_static_assets  # noqa: E402
from layers.incidents import CLUSTER_LIMIT, MARKER_LIMIT, choose_representation  # noqa: E402
from layers.map import MapInputs, build_map, incident_group, layer_control  # noqa: E402
from layers.style import EVENT_COLORS  # noqa: E402

STATIC_VENDOR = Path(__file__).resolve().parent / "static" / "vendor"
VENDOR_URL = "/app/static/vendor/"  # where Streamlit static serving exposes STATIC_VENDOR
MAP_KEY = "conflictmap"
MAP_HEIGHT = 650
PLAY_SECONDS = 1.5
#: A click on an incident marker reports the marker's own position; anything farther is not a hit.
CLICK_TOLERANCE_M = 100.0
#: Compact attribution and legend so they do not cover the map in a dashboard column.
MAP_CSS = """<style>
.leaflet-control-layers{font:12px/1.4 sans-serif!important}
.leaflet-popup-content{font:12px/1.4 sans-serif!important;margin:10px 12px}
.leaflet-control-attribution{font:10px/1.3 sans-serif!important;max-width:75%;white-space:normal}
.cm-legend{font-size:11px!important;line-height:1.25!important;max-height:55%;overflow:auto}
</style>"""
#: Columns of a large store's lean selections (clustered view): the map's popups plus what the
#: charts (actors), the table (notes) and playback (dates) show.
PUSHDOWN_LEAN_COLUMNS = LEAN_COLUMNS + tuple(c for c in (*ACTOR_COLUMNS, "notes") if c not in LEAN_COLUMNS)
#: Columns of its aggregated selections (more than CLUSTER_LIMIT): hexagons and choropleth, plus
#: dates and actors for the timeline, key figures, breakdowns and playback.
PUSHDOWN_AGGREGATE_COLUMNS = AGGREGATE_COLUMNS + tuple(
    c for c in ("event_date", *ACTOR_COLUMNS) if c not in AGGREGATE_COLUMNS)


@dataclass(frozen=True)
class Loaded:
    """The enriched layers plus any problem met while loading the boundaries."""

    bundle: LayerBundle
    choices: S.FilterChoices
    boundary_error: str | None
    #: The store's facets when it is too large to hold in memory (selections then come from SQL);
    #: ``None``: every incident is in ``bundle.incidents``.
    pushdown: StoreFacets | None = None


def settings_key(settings: Settings) -> tuple[str, ...]:
    """The settings that decide what is loaded (the cache key of :func:`load_layers`)."""
    return (str(settings.data_dir), str(settings.boundaries_file), str(settings.routes_file), settings.db_url)


def store_version(settings: Settings) -> float:
    """Modification time of a SQLite store (0 for none/PostgreSQL): new uploads reload the layers."""
    if settings.db_url.startswith("sqlite:///"):
        path = Path(settings.db_url.removeprefix("sqlite:///"))
        return max((p.stat().st_mtime for p in (path, path.with_name(path.name + "-wal")) if p.exists()), default=0.0)
    return 0.0


@st.cache_data(show_spinner=False)
def data_generation(key: tuple[str, ...]) -> float:
    """A token that changes whenever ``st.cache_data.clear()`` runs (the upload panel does, after storing)."""
    return time.time()


@st.cache_resource(show_spinner=False)
def ensure_static_assets(dest: str) -> str:
    """Write Leaflet and plugins (folium-offline) where static serving finds them, once per process."""
    return str(write_static_assets(Path(dest)))


@st.cache_data(show_spinner=False)
def large_store_facets(key: tuple[str, ...], version: tuple[float, float], _settings: Settings) -> StoreFacets | None:
    """The store's facets (distinct values, date range, count) when it holds more than
    ``settings.pushdown_rows`` incidents; ``None`` for a smaller, absent or unreadable store."""
    store = open_store(_settings.db_url, create=False)
    if store is None:
        return None
    try:
        if store.count_incidents() <= _settings.pushdown_rows:
            return None
        return store_facets(store)
    finally:
        store.close()


@st.cache_resource(show_spinner="Loading and enriching layers…", max_entries=4)
def load_layers(key: tuple[str, ...], version: tuple[float, float], _settings: Settings) -> Loaded:
    """Load and enrich the four layers (shared by every session; callers must not mutate).

    A large store (:func:`large_store_facets`) stays in the database: only the bundled incidents
    are loaded, and the filter choices add the store's distinct values.
    """
    facets = large_store_facets(key, version, _settings)
    error = None
    try:
        bundle = load_bundle(_settings, include_store=facets is None)
    except BoundaryError as exc:  # a misconfigured boundaries file must not take the dashboard down
        error = str(exc)
        bundle = load_bundle(replace(_settings, boundaries_file=None), include_store=facets is None)
    choices = S.filter_choices(bundle.incidents, bundle.routes, bundle.sites)
    if facets is not None:
        names = bundle.municipalities["municipality"] if bundle.municipalities is not None else ()
        choices = S.with_store_facets(choices, facets, names)
    return Loaded(bundle, choices, error, facets)


@st.cache_data(show_spinner="Selecting incidents in the store…", max_entries=4)
def store_selection(key: tuple[str, ...], version: tuple[float, float], spec: FilterSpec,
                    _settings: Settings) -> gpd.GeoDataFrame:
    """The incidents matching ``spec`` from a large store (SQL first) plus the bundled ones.

    Few entries: a selection of a million incidents is a few hundred megabytes.
    """
    b = load_layers(key, version, _settings).bundle
    store = open_store(_settings.db_url, create=False)
    try:
        return select_incidents(
            store, spec, municipalities=b.municipalities, routes=b.routes, sites=b.sites, extra=b.incidents,
            lean_above=MARKER_LIMIT, aggregate_above=CLUSTER_LIMIT,
            lean_columns=PUSHDOWN_LEAN_COLUMNS, aggregate_columns=PUSHDOWN_AGGREGATE_COLUMNS)
    finally:
        if store is not None:
            store.close()


@st.cache_data(show_spinner=False, max_entries=128)
def selection_positions(key: tuple[str, ...], version: tuple[float, float], spec: FilterSpec,
                        _settings: Settings) -> np.ndarray:
    """Row positions of the incidents matching ``spec``."""
    b = load_layers(key, version, _settings).bundle
    return np.flatnonzero(filter_mask(b.incidents, spec, b.routes, b.sites))


def selected(key: tuple[str, ...], version: tuple[float, float], spec: FilterSpec,
             settings: Settings) -> gpd.GeoDataFrame:
    """The incidents matching ``spec`` (a view of the cached layer: do not mutate)."""
    if load_layers(key, version, settings).pushdown is not None:
        return store_selection(key, version, spec, settings)
    return load_layers(key, version, settings).bundle.incidents.iloc[selection_positions(key, version, spec, settings)]


@st.cache_data(show_spinner=False, max_entries=64)
def summaries(key: tuple[str, ...], version: tuple[float, float], spec: FilterSpec, step: str,
              _settings: Settings, _selection: gpd.GeoDataFrame | None = None) -> dict:
    """Key figures, timeline and breakdowns of the selection (recomputed only when it changes).

    ``_selection``: the rerun's ``selected(key, version, spec)`` when the caller has it (not hashed:
    it follows from the key), so a large store's selection is not unpickled once more.
    """
    sel = selected(key, version, spec, _settings) if _selection is None else _selection
    return {
        "figures": analysis.key_figures(sel),
        "timeline": analysis.timeline(sel, step),
        "event_type": analysis.breakdown(sel, "event_type"),
        "actor": analysis.breakdown(sel, "actor", top=12),
        "municipality": analysis.breakdown(sel, "municipality"),
    }


@st.cache_data(show_spinner=False, max_entries=16)
def table(key: tuple[str, ...], version: tuple[float, float], spec: FilterSpec, _settings: Settings,
          _selection: gpd.GeoDataFrame | None = None) -> pd.DataFrame:
    """The selection as the display table (a large store's: the newest ``S.PUSHDOWN_TABLE_ROWS``);
    ``_selection`` as in :func:`summaries`."""
    limit = S.PUSHDOWN_TABLE_ROWS if load_layers(key, version, _settings).pushdown is not None else None
    sel = selected(key, version, spec, _settings) if _selection is None else _selection
    return analysis.table_view(sel, limit=limit)


@st.cache_resource(show_spinner=False, max_entries=32)
def proximity_buffers(key: tuple[str, ...], version: tuple[float, float], routes: tuple[str, ...],
                      sites: tuple[str, ...], km: float, _settings: Settings) -> gpd.GeoDataFrame | None:
    """Buffers around the chosen routes and sites, for drawing (None when none chosen)."""
    b = load_layers(key, version, _settings).bundle
    parts = [buffer_features(layer[layer[col].isin(names)][[col, "geometry"]].rename(columns={col: "name"}), km)
             for layer, names, col in ((b.routes, routes, "name"), (b.sites, sites, "name_en")) if names]
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)


# ---------------------------------------------------------------- page
st.set_page_config(page_title="conflictmap — northern Kosovo incidents", page_icon="🗺️", layout="wide")
settings = get_settings()
ensure_static_assets(str(STATIC_VENDOR))
KEY = settings_key(settings)
# New uploads reload the layers: the SQLite file changes, or the upload panel clears st.cache_data.
VERSION = (store_version(settings), data_generation(KEY))
loaded = load_layers(KEY, VERSION, settings)
bundle, choices = loaded.bundle, loaded.choices

# First run of a session: the URL decides the initial filters and view (shared links).
if "_from_url" not in st.session_state:
    st.session_state["_from_url"] = True
    url_spec = FilterSpec.from_query_params(st.query_params.get_all)
    url_view = S.ViewOptions.from_query_params(st.query_params.get_all, custom_tiles=bool(settings.tiles))
    st.session_state.update(S.widget_values(url_spec, choices))
    st.session_state.update({S.W_BASEMAP: url_view.basemap, S.W_METRIC: url_view.metric, S.W_STEP: url_view.step})


def reset_filters() -> None:
    """Sidebar "Reset": every filter back to "all incidents" (view options are kept)."""
    st.session_state.update(S.widget_values(FilterSpec(), choices))


# ---------------------------------------------------------------- sidebar: filters
sb = st.sidebar
sb.header("Filters")
sb.date_input("Date range", min_value=choices.first, max_value=choices.last, key=S.W_DATES, format="YYYY-MM-DD")
sb.multiselect("Actor (primary or associated)", choices.actors, key=S.W_ACTORS)
sb.multiselect("Event type", choices.event_types, key=S.W_TYPES)
sub_options = choices.sub_event_types(tuple(st.session_state.get(S.W_TYPES) or ()))
# Keep only sub-types still offered (an event type may just have been removed).
st.session_state[S.W_SUBTYPES] = [v for v in st.session_state.get(S.W_SUBTYPES) or [] if v in sub_options]
sb.multiselect("Sub-event type", sub_options, key=S.W_SUBTYPES)
sb.multiselect("Municipality", choices.municipalities, key=S.W_MUNIS)
sb.number_input("Minimum fatalities", min_value=0, step=1, key=S.W_MINFAT)
sb.text_input("Search notes and location", key=S.W_TEXT, placeholder="e.g. Banjska")
with sb.expander("Proximity", expanded=bool(st.session_state.get(S.W_ROUTES) or st.session_state.get(S.W_SITES))):
    st.multiselect("Near patrol routes", choices.routes, key=S.W_ROUTES)
    st.multiselect("Near religious sites", choices.sites, key=S.W_SITES)
    st.slider("Within (km)", min_value=0.5, max_value=25.0, step=0.5, key=S.W_KM)

spec = S.spec_from_widgets(st.session_state, choices)
selection = selected(KEY, VERSION, spec, settings)
sb.markdown(f"**{len(selection):,} of {choices.total:,} incidents**")
if loaded.pushdown is not None:
    sb.caption(f"Large store ({loaded.pushdown.count:,} incidents): each filter change is answered by the "
               "store's SQL instead of holding every incident in memory.")
sb.caption(spec.describe())
sb.button("Reset filters", on_click=reset_filters, width="stretch")

sb.header("View")
basemaps = [k for k in S.BASEMAPS if k != "custom" or settings.tiles]
sb.radio("Basemap", basemaps, format_func=S.BASEMAPS.get, key=S.W_BASEMAP)
if not settings.tiles:
    sb.caption("Set CONFLICTMAP_TILES to a tile URL (e.g. a local tile server) to offer it here.")
sb.radio("Municipalities show", list(S.METRICS), format_func=S.METRICS.get, key=S.W_METRIC, horizontal=True)
sb.radio("Time step (timeline and playback)", S.STEPS, key=S.W_STEP, horizontal=True)
view = S.ViewOptions(st.session_state[S.W_BASEMAP], st.session_state[S.W_METRIC], st.session_state[S.W_STEP])
if sb.button("Reload data", help="Read the incident store again (after uploads from elsewhere)."):
    st.cache_data.clear()  # also renews data_generation, so the layers are read again
    for cached in (load_layers, proximity_buffers):  # (large_store_facets is st.cache_data, cleared above)
        cached.clear()
    st.rerun()

# The URL always describes the current view, so copying it shares it.
wanted = S.query_params(spec, view)
current = {k: st.query_params.get_all(k) for k in st.query_params}
if {k: (v if isinstance(v, list) else [v]) for k, v in wanted.items()} != current:
    st.query_params.from_dict(wanted)

buffers = (proximity_buffers(KEY, VERSION, spec.near_routes, spec.near_sites, spec.near_km, settings)
           if spec.uses_proximity else None)
notes = () if bundle.municipalities is not None else (HOW_TO_GET_BOUNDARIES,)
# What the export panel gets: the whole selection (not a playback period) and the view options.
context = Selection(
    incidents=selection, spec=spec, municipalities=bundle.municipalities, routes=bundle.routes, sites=bundle.sites,
    tiles=view.tiles(settings.tiles), metric=view.metric,
    tiles_attribution=settings.tiles_attribution if view.basemap == "custom" else None, notes=notes,
)

# ---------------------------------------------------------------- header and notices
st.title("conflictmap — security incidents in northern Kosovo")
if not st.get_option("server.enableStaticServing"):
    st.error("Static serving is off, so the map cannot load Leaflet. Start the dashboard from the repository root "
             "(`streamlit run dashboard/app.py`, which reads .streamlit/config.toml) or pass "
             "`--server.enableStaticServing true`.")
if loaded.boundary_error:
    st.error(f"Boundaries could not be loaded: {loaded.boundary_error}")
if bundle.municipalities is None:
    st.warning(HOW_TO_GET_BOUNDARIES, icon="⚠️")

summary = summaries(KEY, VERSION, spec, view.step, settings, selection)
figures = summary["figures"]
c1, c2, c3, c4 = st.columns(4)
c1.metric("Incidents", f"{figures.incidents:,}", help=f"of {choices.total:,} in the data")
c2.metric("Fatalities", f"{figures.fatalities:,}")
c3.metric("Distinct actors", f"{figures.actors:,}", help="primary and associated actors")
c4.metric("Date span", f"{figures.span_days:,} days" if figures.first else "—")
if figures.first:
    c4.caption(f"{figures.first:%Y-%m-%d} → {figures.last:%Y-%m-%d}")

tab_map, tab_table, tab_upload, tab_export = st.tabs(["Map", "Table", "Upload", "Export"])


# ---------------------------------------------------------------- map + playback (a fragment)
def playback_controls(options: list[dt.date]) -> tuple[dt.date, bool] | None:
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
                     format_func=lambda d: playback.period_label(d, view.step))
    return st.session_state["pb_period"], mode == "Up to period"


def map_panel() -> None:
    """Playback controls, the map and the details of the clicked incident."""
    options = playback.periods(selection["event_date"], view.step) if len(selection) else []
    if st.session_state.get("pb_playing") and st.session_state.get("pb_period") in options:
        nxt = playback.step(options, st.session_state["pb_period"], 1)
        if nxt == st.session_state["pb_period"]:
            st.session_state["pb_playing"] = False
            st.rerun()  # full rerun: drops the fragment's timer
        st.session_state["pb_period"] = nxt
    chosen = playback_controls(options)
    if chosen is None:
        shown = selection
        st.caption(f"Showing all {len(selection):,} incidents of the selection.")
    else:
        period, cumulative = chosen
        shown = playback.select_period(selection, period, view.step, cumulative)
        label = playback.period_label(period, view.step)
        st.caption(f"Showing {len(shown):,} incidents {'up to the end of' if cumulative else 'in'} {label} "
                   f"(municipality colours: whole selection).")

    representation = choose_representation(len(selection))
    m = build_map(MapInputs(incidents=selection, municipalities=bundle.municipalities, routes=bundle.routes,
                            sites=bundle.sites, buffers=buffers),
                  tiles=context.tiles, tiles_attribution=context.tiles_attribution, metric=view.metric,
                  representation=representation, dynamic_incidents=True)
    group = incident_group(shown, representation, name=f"Incidents ({len(shown):,})")
    m.get_root().header.add_child(folium.Element(MAP_CSS))
    localize_links(m, VENDOR_URL)
    localize_links(group, VENDOR_URL)  # the group joins the map inside st_folium
    out = st_folium(m, key=MAP_KEY, height=MAP_HEIGHT, use_container_width=True,
                    returned_objects=["last_object_clicked"], feature_group_to_add=group,
                    layer_control=layer_control())
    clicked = (out or {}).get("last_object_clicked")
    st.subheader("Incident details")
    row = (analysis.nearest_incident(shown, clicked["lat"], clicked["lng"], max_m=CLICK_TOLERANCE_M)
           if clicked else None)
    if row is None:
        st.caption("Click an incident on the map to see its details here." if not clicked
                   else "No incident of the current view at the clicked point.")
        return
    show_details(row)


def show_details(row) -> None:
    """The clicked incident, as text (never HTML)."""
    facts = {
        "Date": f"{row['event_date']:%Y-%m-%d}",
        "Event": f"{row.get('event_type')} — {row.get('sub_event_type')}",
        "Where": ", ".join(str(v) for v in (row.get("location"), row.get("municipality")) if v),
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


# ---------------------------------------------------------------- analysis charts
def charts() -> None:
    """Timeline and breakdowns of the selection (Altair, event-type colours from layers.style)."""
    scale = alt.Scale(domain=list(EVENT_COLORS), range=list(EVENT_COLORS.values()))
    # No chart legend: the colours are the map legend's, and "By event type" below names them.
    color = alt.Color("event_type:N", title="Event type", scale=scale, legend=None)
    tl = summary["timeline"]
    st.markdown(f"**Incidents per {view.step}**")
    if tl.empty:
        st.caption("No incidents in the selection.")
    else:
        st.altair_chart(
            alt.Chart(tl).mark_bar().encode(
                x=alt.X("period:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0)),
                y=alt.Y("incidents:Q", title="incidents", stack=True), color=color,
                tooltip=[alt.Tooltip("period:T", title=view.step), "event_type:N", "incidents:Q", "fatalities:Q"],
            ).properties(height=200),
            width="stretch",
        )
    for title, by in (("By event type", "event_type"), ("By actor (top 12)", "actor"),
                      ("By municipality", "municipality")):
        data = summary[by]
        st.markdown(f"**{title}**")
        if data.empty:
            st.caption("—")
            continue
        enc = dict(x=alt.X("incidents:Q", title="incidents"),
                   y=alt.Y(f"{by}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
                   tooltip=[f"{by}:N", "incidents:Q", "fatalities:Q"])
        if by == "event_type":
            enc["color"] = alt.Color("event_type:N", legend=None, scale=scale)
        st.altair_chart(alt.Chart(data).mark_bar().encode(**enc).properties(height=alt.Step(20)),
                        width="stretch")


with tab_map:
    left, right = st.columns([2, 1], gap="medium")
    with left:
        playing = bool(st.session_state.get("pb_playing"))
        st.fragment(run_every=PLAY_SECONDS if playing else None)(map_panel)()
    with right:
        charts()

# ---------------------------------------------------------------- table
with tab_table:
    st.caption(f"{len(selection):,} incidents — {spec.describe()}")
    rows = table(KEY, VERSION, spec, settings, selection)
    if len(rows) < len(selection):
        st.caption(f"Listing the newest {len(rows):,} of {len(selection):,} incidents; narrow the filters to list "
                   "them all (map, charts and figures cover the whole selection).")
    st.dataframe(
        rows, hide_index=True, width="stretch", height=min(560, 35 * (len(rows) + 1) + 3),
        column_config={
            "event_date": st.column_config.DateColumn("date", format="YYYY-MM-DD"),
            "event_type": "event type", "sub_event_type": "sub-event type",
            "assoc_actor_1": "associated (1)", "assoc_actor_2": "associated (2)",
            "source_url": st.column_config.LinkColumn("source link", display_text="report"),
            "fatalities": st.column_config.NumberColumn("fatalities", format="%d"),
            "notes": st.column_config.TextColumn("notes", width="large"),
            "event_id_cnty": "event id",
        },
    )

# ---------------------------------------------------------------- upload and export (other modules)
with tab_upload:
    try:
        from dashboard import upload_panel
    except ImportError:
        st.info("Upload is not available in this build")
    else:
        upload_panel.render(settings)

with tab_export:
    try:
        from dashboard import export_panel
    except ImportError:
        st.info("Export is not available in this build")
    else:
        export_panel.render(context)

st.caption(
    "Incidents: conflictmap (sourced public reports, see geodata/data/SOURCES.md) and uploads · "
    "Patrol routes: illustrative · Sites: sourced public references · "
    + ("Boundaries: geoBoundaries gbOpen 4.0.0, © OpenStreetMap contributors" if bundle.municipalities is not None
       else "Boundaries: not installed")
)
