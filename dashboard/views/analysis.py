"""Analysis page: timeline and breakdowns of the selection, then its table. Only wiring."""

from __future__ import annotations

import altair as alt
import streamlit as st

from dashboard import sidebar
from dashboard.text import md_escape
from geodata.service import Summaries
from layers.style import EVENT_COLORS


def charts(summary: Summaries, step: str) -> None:
    """Timeline and breakdowns (Altair, event-type colours from layers.style)."""
    scale = alt.Scale(domain=list(EVENT_COLORS), range=list(EVENT_COLORS.values()))
    # No chart legend: the colours are the map legend's, and "By event type" names them.
    color = alt.Color("event_type:N", title="Event type", scale=scale, legend=None)
    tl = summary.timeline
    st.markdown(f"**Incidents per {step}**")
    if tl.empty:
        st.caption("No incidents in the selection.")
    else:
        st.altair_chart(
            alt.Chart(tl).mark_bar().encode(
                x=alt.X("period:T", title=None, axis=alt.Axis(format="%b %Y", labelAngle=0)),
                y=alt.Y("incidents:Q", title="incidents", stack=True, axis=alt.Axis(tickMinStep=1, format="d")),
                color=color,
                tooltip=[alt.Tooltip("period:T", title=step), "event_type:N", "incidents:Q", "fatalities:Q"],
            ).properties(height=220),
            width="stretch",
        )
    cols = st.columns(3)
    for col, (title, by) in zip(cols, (("By event type", "event_type"), ("By actor (top 12)", "actor"),
                                       ("By municipality", "municipality"))):
        data = getattr(summary, f"by_{by}")
        with col:
            st.markdown(f"**{title}**")
            if data.empty:
                st.caption("—")
                continue
            enc = dict(x=alt.X("incidents:Q", title="incidents", axis=alt.Axis(tickMinStep=1, format="d")),
                       y=alt.Y(f"{by}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=200, labelOverlap=False)),
                       tooltip=[f"{by}:N", "incidents:Q", "fatalities:Q"])
            if by == "event_type":
                enc["color"] = alt.Color("event_type:N", legend=None, scale=scale)
            st.altair_chart(alt.Chart(data).mark_bar().encode(**enc).properties(height=alt.Step(20)),
                            width="stretch")


def table(cur: sidebar.Current) -> None:
    """The selection's rows (plain cells; links only for http(s) sources)."""
    selection = cur.data.selection(cur.spec)
    rows = cur.data.table(cur.spec)
    st.subheader("Incidents")
    st.caption(f"{len(selection):,} incidents — {md_escape(cur.spec.describe())}")
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


cur = sidebar.current()
charts(cur.data.summaries(cur.spec, cur.view.step), cur.view.step)
table(cur)
