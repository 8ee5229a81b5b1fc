"""Sequence page: step through a named sequence of incidents on the map and the timeline, with each step's sources.

Self-contained: :func:`render` draws the whole page from a :class:`geodata.service.curation.CurationService`
and the incident layer; the lead's navigation registers it as a page. The sequence and step are in
the URL (``?seq=banjska-2023&step=2``), so a link opens the same step. Text from data is shown
with ``st.text``/``st.dataframe`` (never Markdown); links are http(s) only.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import folium
from branca.element import MacroElement
from jinja2 import Template
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geodata.service import http_url_or_none
from geodata.service import annotate
from geodata.service import RELATION_TEXT, find_sequence, step_view
from geodata.service import STATUS_TEXT
from layers.assets import localize_links
from layers.map import MapInputs, build_map

#: Where Streamlit's static serving exposes the offline Leaflet copy (written by dashboard/app.py).
VENDOR_URL = "/app/static/vendor/"
MAP_KEY = "seq_map"
NARROW_CSS = "<style>@media (max-width: 600px) { .cm-legend { display: none } }</style>"
class _ClosedLegend(MacroElement):
    """Map script: the step map is small and shows a few markers, so its legend starts collapsed."""

    _template = Template("""{% macro script(this, kwargs) %}
        document.querySelectorAll("details.cm-legend").forEach(function (d) { d.open = false; });
        {% endmacro %}""")


def _query_step(n: int) -> int:
    """The ``step`` URL parameter as 1…n (1 when absent or malformed)."""
    try:
        return min(max(int(st.query_params.get("step", "1")), 1), n)
    except ValueError:
        return 1


def sources_frame(sources: list[dict] | None) -> pd.DataFrame:
    """A step's sources as a table; links only for http(s) URLs."""
    rows = [{"outlet": s.get("outlet") or "", "published": s.get("published") or "", "language": s.get("language") or "",
             "report": http_url_or_none(s.get("url")), "archived copy": http_url_or_none(s.get("archive_url"))}
            for s in sources or []]
    return pd.DataFrame(rows, columns=["outlet", "published", "language", "report", "archived copy"])


def step_map(view, incidents: pd.DataFrame, context: dict[str, Any]) -> folium.Map:
    """The map of one step: the steps so far, the current one ringed, earlier ones joined by a path."""
    m = build_map(MapInputs(incidents=view.incidents, routes=context.get("routes"), sites=context.get("sites"),
                            country_boundary=context.get("country")),
                  representation="markers")
    pts = [(float(r.latitude), float(r.longitude)) for r in view.incidents.itertuples()]
    if len(pts) > 1:
        folium.PolyLine(pts, color="#d62728", weight=2, dash_array="5 5", class_name="cm-seq-path").add_to(m)
    cur = incidents[incidents["event_id_cnty"] == view.current.event_id_cnty]
    if len(cur):
        folium.CircleMarker((float(cur["latitude"].iloc[0]), float(cur["longitude"].iloc[0])), radius=14, color="#d62728",
                            weight=4, fill=False, class_name="cm-seq-current").add_to(m)
    if view.bounds:
        m.fit_bounds(view.bounds, max_zoom=15)
    # On a phone the legend would cover the few markers of a step: the page's text says what they are.
    m.get_root().header.add_child(folium.Element(NARROW_CSS))
    _ClosedLegend().add_to(m)  # after the legend's own script (it runs in order of addition)
    localize_links(m, VENDOR_URL)
    return m


def timeline_chart(sequence, incidents: pd.DataFrame, k: int) -> alt.Chart:
    """Steps on a date axis: steps so far in red, the current one larger, later ones grey."""
    dates = incidents.drop_duplicates("event_id_cnty").set_index("event_id_cnty")["event_date"]
    rows = [{"step": s.step, "date": pd.Timestamp(dates.get(s.event_id_cnty)), "summary": s.summary,
             "state": "current" if s.step == k else ("done" if s.step < k else "later")}
            for s in sequence.steps if s.event_id_cnty in dates.index]
    frame = pd.DataFrame(rows)
    return alt.Chart(frame).mark_circle().encode(
        x=alt.X("date:T", title=None), y=alt.Y("step:O", title="step", sort="ascending"),
        size=alt.Size("state:N", scale=alt.Scale(domain=["current", "done", "later"], range=[300, 90, 60]), legend=None),
        color=alt.Color("state:N", scale=alt.Scale(domain=["current", "done", "later"], range=["#d62728", "#e99", "#bbb"]),
                        legend=None),
        tooltip=["step", "date:T", "summary"],
    ).properties(height=max(90, 28 * len(rows)))


def render(service: Any, incidents: pd.DataFrame, **context: Any) -> None:
    """Draw the sequence page.

    Args:
        service: a :class:`geodata.service.curation.CurationService` (sequences, statuses, sources).
        incidents: the incident layer (all incidents, not only the filtered ones: a sequence is shown whole).
        context: optional ``routes``/``sites``/``country`` layers for the map.
    """
    st.header("Sequences")
    sequences = service.sequences()
    if not sequences:
        st.info("No sequences yet. Bundled sequences appear here once geodata/data/sequences.csv is installed.")
        return
    ids = [q.sequence_id for q in sequences]
    wanted = st.query_params.get("seq")
    if wanted is not None and wanted not in ids:
        st.warning("The link names a sequence that does not exist; showing the first one.")
    index = ids.index(wanted) if wanted in ids else 0
    names = {q.sequence_id: q.name for q in sequences}
    chosen = st.selectbox("Sequence", ids, index=index, format_func=lambda i: names[i], key="seq_choice")
    if chosen != wanted:
        st.query_params["seq"] = chosen
        st.query_params["step"] = "1"
    sequence = find_sequence(sequences, chosen)
    n = len(sequence.steps)
    k = _query_step(n) if chosen == wanted else 1

    prev_col, label_col, next_col = st.columns([1, 2, 1])
    if prev_col.button("◀ Previous", disabled=k <= 1, key="seq_prev", width="stretch"):
        st.query_params["step"] = str(k - 1)
        st.rerun()
    if next_col.button("Next ▶", disabled=k >= n, key="seq_next", width="stretch"):
        st.query_params["step"] = str(k + 1)
        st.rerun()
    label_col.text(f"Step {k} of {n}")
    st.query_params["step"] = str(k)

    shown = annotate(incidents, service.curation())
    view = step_view(sequence, shown, k)
    step = view.current
    row = shown[shown["event_id_cnty"] == step.event_id_cnty]
    left, right = st.columns([3, 2])  # map first: on a phone the columns stack and the map leads
    with left:
        st_folium(step_map(view, shown, context), key=MAP_KEY, height=460, use_container_width=True, returned_objects=[])
    with right:
        relation = "Start" if k == 1 else f"… {RELATION_TEXT.get(step.relation, step.relation)}"
        facts = [relation]
        if len(row):
            r = row.iloc[0]
            facts += [f"{pd.Timestamp(r['event_date']):%Y-%m-%d}", str(r.get("location") or ""), step.event_id_cnty]
        st.text(" · ".join(facts))
        st.subheader(f"Step {k}")
        st.text(step.summary)
        if len(row):
            r = row.iloc[0]
            status = str(r.get("verification_status") or "reported")
            st.text(f"Status: {STATUS_TEXT.get(status, status)}"
                    + (f" — {r.get('status_reason')}" if r.get("status_reason") and status != "reported" else ""))
            if status == "disputed":
                st.text(f"Fatalities: {r.get('fatalities')} (disputed)")
        else:
            st.text(f"{step.event_id_cnty} is not among the incidents loaded.")
        st.text("Sources of this step")
        st.dataframe(sources_frame(row.iloc[0]["sources"] if len(row) else []), hide_index=True, width="stretch",
                     column_config={"report": st.column_config.LinkColumn("report", display_text="open"),
                                    "archived copy": st.column_config.LinkColumn("archived copy", display_text="open")})
    st.text("Timeline of the sequence" + (f" (window {view.window[0]:%Y-%m-%d} – {view.window[1]:%Y-%m-%d})"
                                          if view.window else ""))
    st.altair_chart(timeline_chart(sequence, shown, k), width="stretch")
    steps = pd.DataFrame([{"step": s.step, "relation": RELATION_TEXT.get(s.relation, s.relation), "incident": s.event_id_cnty,
                           "summary": s.summary} for s in sequence.steps])
    st.dataframe(steps, hide_index=True, width="stretch")
