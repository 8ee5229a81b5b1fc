"""The sidebar every page shares: filters, view options, counts, and the URL kept in step with them.

:func:`render` runs once per rerun in ``dashboard/app.py`` before the page; pages read what it
decided through :func:`current`. Widget values live in ``st.session_state`` under the keys of
:mod:`dashboard.state`; the mapping to :class:`~geodata.model.filters.FilterSpec` and the URL is the
pure code there.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard import state as S
from dashboard.data import Snapshot
from dashboard.text import md_escape
from geodata.model.filters import NEAR_KM_RANGE, FilterSpec
from geodata.service import display_name

_CURRENT = "_cm_current"
_BOUNDS = "_cm_bounds"
#: (problems, spec the link opened with): the notice shows until the filters change.
LINK_NOTICE = "_cm_link_notice"
#: Session keys of the map's centre and zoom (set by the map page, carried in the URL).
W_CENTER, W_ZOOM = "v_center", "v_zoom"
#: (centre, zoom) the session's link asked for, or None: the map starts there instead of fitting the data.
INITIAL_VIEW = "_cm_initial_view"
#: A copy of the sidebar's widget values kept outside the widgets: Streamlit deletes a widget's value
#: after any run that did not draw it (page switches in a multipage app can produce such runs), and
#: the filters must never silently fall back to the widgets' defaults.
_KEPT = "_cm_kept_widgets"
_WIDGETS = (S.W_DATES, S.W_ACTORS, S.W_TYPES, S.W_SUBTYPES, S.W_MUNIS, S.W_MINFAT, S.W_TEXT, S.W_STATUS,
            S.W_ROUTES, S.W_SITES, S.W_KM, S.W_BASEMAP, S.W_METRIC, S.W_STEP, S.W_LANG)
#: URL key of the Sequences page's sequence; while it is in the URL, ``step`` is that page's step
#: number (``?seq=banjska-2023&step=2``), not the timeline step, and the sidebar leaves both alone.
SEQ_KEY, SEQ_STEP_KEY = "seq", "step"


def _sidebar_get_all(key: str) -> list[str]:
    """``st.query_params.get_all`` without the Sequences page's ``step`` (a step number, not a time step)."""
    if key == SEQ_STEP_KEY and SEQ_KEY in st.query_params:
        return []
    return st.query_params.get_all(key)


def _page_params() -> dict[str, list[str]]:
    """The URL parameters a page owns (kept when the sidebar rewrites the URL)."""
    if SEQ_KEY not in st.query_params:
        return {}
    return {k: st.query_params.get_all(k) for k in (SEQ_KEY, SEQ_STEP_KEY) if k in st.query_params}


@dataclass(frozen=True)
class Current:
    """What the sidebar decided for this rerun: the data snapshot, the filters and the view."""

    data: Snapshot
    spec: FilterSpec
    view: S.ViewOptions

    @property
    def choices(self) -> S.FilterChoices:
        """What the filter widgets offer."""
        return self.data.choices


def current() -> Current:
    """The :class:`Current` of this rerun (pages call this; :func:`render` must have run)."""
    return st.session_state[_CURRENT]


def _from_url(choices: S.FilterChoices, custom_tiles: bool) -> None:
    """First run of a session: the URL decides the initial filters and view (shared links), and
    anything it asked for that cannot be shown becomes a notice."""
    get_all = _sidebar_get_all
    spec = FilterSpec.from_query_params(get_all)
    view = S.ViewOptions.from_query_params(get_all, custom_tiles=custom_tiles)
    values = S.widget_values(spec, choices)
    st.session_state.update(values)
    st.session_state.update({S.W_BASEMAP: view.basemap, S.W_METRIC: view.metric, S.W_STEP: view.step,
                             S.W_LANG: view.lang, W_CENTER: view.center, W_ZOOM: view.zoom})
    st.session_state[INITIAL_VIEW] = (view.center, view.zoom) if view.center and view.zoom is not None else None
    problems = S.link_problems(get_all, spec, choices, view)
    if problems:
        st.session_state[LINK_NOTICE] = (tuple(problems), S.spec_from_widgets(values, choices))


def _follow_data(choices: S.FilterChoices) -> None:
    """After the data changed (an upload or undo anywhere): dates the user did not set follow the
    data's new range, and choices no longer offered are dropped (before the widgets are drawn)."""
    bounds = (choices.first, choices.last)
    old = st.session_state.get(_BOUNDS)
    if old != bounds and S.W_DATES in st.session_state:
        st.session_state[S.W_DATES] = S.follow_dates(st.session_state[S.W_DATES], old, bounds)
    st.session_state[_BOUNDS] = bounds
    st.session_state.update(S.prune_values(st.session_state, choices))


def _reset(choices: S.FilterChoices) -> None:
    """"Reset filters": every filter, proximity included, back to "all incidents" (view kept)."""
    st.session_state.update(S.widget_values(FilterSpec(), choices))
    st.session_state.pop(LINK_NOTICE, None)


#: On a phone the sidebar covers the page: "Show map" (narrow screens only) closes it, so the result of a
#: filter change is one tap away. Constant markup, no user text; the script only clicks Streamlit's own
#: collapse button.
SHOW_MAP_HTML = """
<style>
.cm-show-map { display: none; width: 100%; padding: 0.5rem; border-radius: 0.5rem; border: 1px solid #0072B2;
               background: #0072B2; color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
@media (max-width: 767px) { .cm-show-map { display: block; } }
</style>
<button class="cm-show-map" type="button" data-testid="cm-show-map">Show map</button>
<script>
document.querySelectorAll("button.cm-show-map").forEach(function (b) {
  if (b.dataset.bound) { return; }
  b.dataset.bound = "1";
  b.addEventListener("click", function () {
    var close = document.querySelector('[data-testid="stSidebarCollapseButton"] button')
      || document.querySelector('[data-testid="stSidebarHeader"] button');
    if (close) { close.click(); }
    window.scrollTo(0, 0);
  });
});
</script>
"""


def _show_map_button() -> None:
    """The phone-only "Show map" button (see :data:`SHOW_MAP_HTML`)."""
    st.html(SHOW_MAP_HTML, unsafe_allow_javascript=True)


def render(data: Snapshot) -> Current:
    """Draw the sidebar, keep the URL in step, and remember the result for the pages.

    Args:
        data: this rerun's :class:`~dashboard.data.Snapshot`.
    Returns:
        The :class:`Current` filters and view (also available through :func:`current`).
    """
    choices = data.choices
    has_munis = data.layers.municipalities is not None
    kept = st.session_state.get(_KEPT, {})
    for key in _WIDGETS:  # values Streamlit dropped between runs come back from the copy
        if key not in st.session_state and key in kept:
            st.session_state[key] = kept[key]
    if "_from_url" not in st.session_state:
        st.session_state["_from_url"] = True
        _from_url(choices, custom_tiles=bool(data.settings.tiles))
    _follow_data(choices)

    sb = st.sidebar
    sb.header("Filters")
    # The count and Reset sit above the filters: a multiselect that has focus is taller (its typing
    # row) and shrinks when the click that blurs it lands, so a button below it moved away under
    # the pointer and the first click on Reset was lost (issue 21 item 2).
    top = sb.container()
    sb.date_input("Date range", min_value=choices.first, max_value=choices.last, key=S.W_DATES, format="YYYY-MM-DD")
    sb.multiselect("Actor (primary or associated)", choices.actors, key=S.W_ACTORS)
    sb.multiselect("Event type", choices.event_types, key=S.W_TYPES)
    sub_options = choices.sub_event_types(tuple(st.session_state.get(S.W_TYPES) or ()))
    # Keep only sub-types still offered (an event type may just have been removed).
    st.session_state[S.W_SUBTYPES] = [v for v in st.session_state.get(S.W_SUBTYPES) or [] if v in sub_options]
    sb.multiselect("Sub-event type", sub_options, key=S.W_SUBTYPES)
    lang = st.session_state.get(S.W_LANG, "en")
    sb.multiselect("Municipality", choices.municipalities, key=S.W_MUNIS, format_func=lambda m: display_name(m, lang))
    sb.number_input("Minimum fatalities", min_value=0, step=1, key=S.W_MINFAT)
    sb.text_input("Search notes and location", key=S.W_TEXT, placeholder="e.g. Banjska")
    sb.multiselect("Verification status", S.STATUSES, key=S.W_STATUS, format_func=str.capitalize,
                   help="Reported: one source, not yet checked. Corroborated: two or more independent sources. "
                        "Verified: checked by an analyst. Disputed: reports conflict. An incident without a "
                        "recorded status counts as reported.")
    near = bool(st.session_state.get(S.W_ROUTES) or st.session_state.get(S.W_SITES))
    with sb.expander("Near routes or sites", expanded=near):
        st.multiselect("Near patrol routes", choices.routes, key=S.W_ROUTES)
        st.multiselect("Near religious sites", choices.sites, key=S.W_SITES)
        st.slider("Within (km)", min_value=NEAR_KM_RANGE[0], max_value=NEAR_KM_RANGE[1], step=0.5, key=S.W_KM)

    spec = S.spec_from_widgets(st.session_state, choices)
    count = len(data.selection(spec))
    top.markdown(f"**{count:,} of {choices.total:,} incidents**")
    with top:
        _show_map_button()
    top.button("Reset filters", on_click=_reset, args=(choices,), width="stretch")
    near_text = data.proximity(spec)
    if near_text:
        sb.text(near_text)  # plain text: route and site names never reach Markdown
    sb.caption(md_escape(spec.describe(lang)))

    sb.header("View")
    basemaps = [k for k in S.BASEMAPS if k != "custom" or data.settings.tiles]
    sb.radio("Basemap", basemaps, format_func=S.BASEMAPS.get, key=S.W_BASEMAP)
    if has_munis:
        sb.radio("Municipalities show", list(S.METRICS), format_func=S.METRICS.get, key=S.W_METRIC, horizontal=True)
    elif S.W_METRIC not in st.session_state:
        st.session_state[S.W_METRIC] = "incidents"
    sb.radio("Time step (timeline and playback)", S.STEPS, key=S.W_STEP, horizontal=True)
    sb.radio("Place names in", list(S.LANGUAGES), format_func=S.LANGUAGES.get, key=S.W_LANG, horizontal=True,
             help="The map, filters, charts and table name each place in this language.")
    view = S.ViewOptions(st.session_state[S.W_BASEMAP], st.session_state[S.W_METRIC], st.session_state[S.W_STEP],
                         st.session_state.get(W_CENTER), st.session_state.get(W_ZOOM), st.session_state[S.W_LANG])
    if data.large:
        sb.caption(f"Large store ({data.facets.count:,} incidents): each filter change is answered by the "
                   "store's database instead of holding every incident in memory.")

    # The URL always describes the current view, so copying it shares it.
    wanted = S.query_params(spec, view, custom_tiles=bool(data.settings.tiles))
    page = _page_params()
    if page:  # the sequence page's step number takes the URL's "step" key; the session keeps the time step
        wanted = {k: v for k, v in wanted.items() if k != S.VIEW_KEYS["step"]} | page
    have = {k: st.query_params.get_all(k) for k in st.query_params}
    if {k: (v if isinstance(v, list) else [v]) for k, v in wanted.items()} != have:
        st.query_params.from_dict(wanted)

    st.session_state[_KEPT] = {k: st.session_state[k] for k in _WIDGETS if k in st.session_state}
    cur = Current(data, spec, view)
    st.session_state[_CURRENT] = cur
    return cur


def link_notice(cur: Current) -> tuple[str, ...]:
    """The shared link's problems while the filters are still the ones it opened with, else ()."""
    notice = st.session_state.get(LINK_NOTICE)
    if not notice:
        return ()
    problems, opened = notice
    if opened != cur.spec:
        st.session_state.pop(LINK_NOTICE, None)
        return ()
    return problems
