"""Analysis page: timeline and breakdowns of the selection, then its table. Only wiring."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import sidebar
from dashboard.text import md_escape
from geodata._errors import ConflictmapError
from geodata.curation_service import with_curation
from geodata.placenames import display_name
from geodata.precision import precision_columns
from geodata.service import Summaries
from layers.style import EVENT_COLORS


def charts(summary: Summaries, step: str, lang: str = "en") -> None:
    """Timeline and breakdowns (Altair, event-type colours from layers.style); municipalities named in ``lang``."""
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
        if by == "municipality" and not data.empty:
            data = data.assign(municipality=data["municipality"].map(lambda m: display_name(m, lang)))
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


#: Largest table annotated with verification status, source count and sequence (one lookup per row).
CURATION_ROWS = 5_000


def honest_rows(rows: pd.DataFrame, selection: pd.DataFrame, settings, lang: str = "en") -> pd.DataFrame:
    """The table's rows with place names in ``lang``, the date as precisely as known, the location's
    precision and (for tables up to :data:`CURATION_ROWS`) verification status, sources and sequence.

    ``rows`` is :meth:`dashboard.data.Snapshot.table` of ``selection`` (same index).
    """
    rows = rows.copy()
    for col in ("location", "municipality"):
        if col in rows:
            rows[col] = rows[col].map(lambda v: display_name(v, lang))  # one spelling per place
    if not selection.index.is_unique or not rows.index.isin(selection.index).all():
        return rows
    src = selection.loc[rows.index]
    if "event_date" in src:
        prec = precision_columns(src)
        rows.insert(0, "date as known", prec["date_as_known"])
        at = rows.columns.get_loc("location") + 1 if "location" in rows else len(rows.columns)
        rows.insert(at, "location precision", prec["location_precision"])
    if "event_id_cnty" in src and "verification_status" not in rows and len(rows) <= CURATION_ROWS:
        try:
            cur = with_curation(pd.DataFrame({"event_id_cnty": src["event_id_cnty"]}), settings)
        except ConflictmapError:  # statuses unreadable: the table still shows the incidents
            return rows
        for col in ("verification_status", "source_count", "sequence"):
            rows[col] = cur[col]
    return rows


def table(cur: sidebar.Current) -> None:
    """The selection's rows (plain cells; links only for http(s) sources)."""
    selection = cur.data.selection(cur.spec)
    rows = honest_rows(cur.data.table(cur.spec), selection, cur.data.settings, cur.view.lang)
    st.subheader("Incidents")
    st.caption(f"{len(selection):,} incidents — {md_escape(cur.spec.describe(cur.view.lang))}")
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
            "verification_status": "status", "source_count": st.column_config.NumberColumn("sources", format="%d"),
        },
    )


cur = sidebar.current()
charts(cur.data.summaries(cur.spec, cur.view.step), cur.view.step, cur.view.lang)
table(cur)
