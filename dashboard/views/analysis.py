"""Analysis page: timeline and breakdowns of the selection, then its table. Only wiring."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import sidebar
from dashboard.text import md_escape
from geodata._errors import ConflictmapError
from geodata.service.curation import with_curation
from geodata.service import display_name
from geodata.model.precision import precision_columns
from geodata.service.incidents import Summaries
from layers.style import EVENT_COLORS


#: How a period is labelled on the timeline's axis, per step.
PERIOD_LABELS = {"day": "%Y-%m-%d", "week": "%Y-%m-%d", "month": "%b %Y"}
#: The timeline's axis title, per step (a week is labelled by its first day).
PERIOD_TITLES = {"day": "day", "week": "week starting", "month": "month"}


def timeline_chart(tl: pd.DataFrame, step: str) -> alt.Chart:
    """The stacked timeline: one bar per period (a band, so one day or one week is a readable bar, not a
    hairline), colours of the map's palette (layers.style, colour-blind safe) named in a legend.

    Args:
        tl: :meth:`geodata.service.incidents.IncidentService.timeline` rows (period, event_type, incidents, fatalities).
        step: "day", "week" or "month".
    Returns:
        The Altair chart.
    """
    scale = alt.Scale(domain=list(EVENT_COLORS), range=list(EVENT_COLORS.values()))
    data = tl.assign(label=pd.to_datetime(tl["period"]).dt.strftime(PERIOD_LABELS.get(step, "%Y-%m-%d")))
    order = list(dict.fromkeys(data.sort_values("period")["label"]))
    return alt.Chart(data).mark_bar(stroke="white", strokeWidth=0.5).encode(
        x=alt.X("label:O", title=PERIOD_TITLES.get(step, step), sort=order,
                axis=alt.Axis(labelAngle=0, labelOverlap=True, labelPadding=4)),
        y=alt.Y("incidents:Q", title="incidents", stack=True, axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("event_type:N", title="Event type", scale=scale,
                        # Two columns at a small size fit a phone's 390 px without cutting a name.
                        legend=alt.Legend(orient="top", direction="horizontal", columns=2, labelLimit=0,
                                          labelFontSize=10, symbolType="square", title=None)),
        # The same event types stack in the same order in every bar (the legend's order).
        order=alt.Order("event_type:N"),
        tooltip=[alt.Tooltip("label:O", title=PERIOD_TITLES.get(step, step)),
                 alt.Tooltip("event_type:N", title="event type"), "incidents:Q", "fatalities:Q"],
    ).properties(height=300)


def breakdown_chart(data: pd.DataFrame, by: str) -> alt.Chart:
    """Horizontal bars of one breakdown; hovering a bar shows the full name (axis labels are cut at 240 px so
    the bars keep room on a phone)."""
    scale = alt.Scale(domain=list(EVENT_COLORS), range=list(EVENT_COLORS.values()))
    enc = dict(x=alt.X("incidents:Q", title="incidents", axis=alt.Axis(tickMinStep=1, format="d")),
               y=alt.Y(f"{by}:N", sort="-x", title=None, axis=alt.Axis(labelLimit=240, labelOverlap=False)),
               tooltip=[alt.Tooltip(f"{by}:N", title=by.replace("_", " ")), "incidents:Q", "fatalities:Q"])
    if by == "event_type":
        enc["color"] = alt.Color("event_type:N", legend=None, scale=scale)  # the bars name their colour
    return alt.Chart(data).mark_bar().encode(**enc).properties(height=alt.Step(20))


def charts(summary: Summaries, step: str, lang: str = "en") -> None:
    """Timeline and breakdowns (Altair, event-type colours from layers.style); municipalities named in ``lang``."""
    tl = summary.timeline
    st.markdown(f"**Incidents per {step}**")
    if tl.empty:
        st.caption("No incidents in the selection.")
    else:
        st.altair_chart(timeline_chart(tl, step), width="stretch")
    by_type, by_muni = st.columns(2)
    # Actors get the full width: their names are long ("EULEX: European Union Rule of Law Mission…").
    for col, (title, by) in ((by_type, ("By event type", "event_type")), (by_muni, ("By municipality", "municipality")),
                             (st.container(), ("By actor (top 12)", "actor"))):
        data = getattr(summary, f"by_{by}")
        if by == "municipality" and not data.empty:
            data = data.assign(municipality=data["municipality"].map(lambda m: display_name(m, lang)))
        with col:
            st.markdown(f"**{title}**")
            if data.empty:
                st.caption("—")
                continue
            st.altair_chart(breakdown_chart(data, by), width="stretch")


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


#: Columns shown first in the table, in this order (the others follow as the data has them).
TABLE_FIRST = ("date as known", "event_date", "event_type", "location", "location precision", "municipality",
               "fatalities", "source_url",
               "verification_status", "actor1", "actor2")


def table(cur: sidebar.Current) -> None:
    """The selection's rows (plain cells; links only for http(s) sources)."""
    selection = cur.data.selection(cur.spec)
    rows = honest_rows(cur.data.table(cur.spec), selection, cur.data.settings, cur.view.lang)
    st.subheader("Incidents")
    st.caption(f"{len(selection):,} incidents — {md_escape(cur.spec.describe(cur.view.lang))}")
    if len(rows) < len(selection):
        st.caption(f"Listing the newest {len(rows):,} of {len(selection):,} incidents; narrow the filters to list "
                   "them all (map, charts and figures cover the whole selection).")
    # What a reader looks for first comes first, so where and the source need no sideways scrolling;
    # the rest follows and scrolls inside the table's own box (never the page).
    first = [c for c in TABLE_FIRST if c in rows]
    st.dataframe(
        rows, hide_index=True, width="stretch", height=min(560, 35 * (len(rows) + 1) + 3),
        column_order=first + [c for c in rows.columns if c not in first],
        column_config={
            "event_date": st.column_config.DateColumn("date", format="YYYY-MM-DD"),
            "event_type": "event type", "sub_event_type": "sub-event type",
            "assoc_actor_1": "associated (1)", "assoc_actor_2": "associated (2)",
            "source_url": st.column_config.LinkColumn("source link", display_text="report"),
            "fatalities": st.column_config.NumberColumn("fatalities", format="%d"),
            "notes": st.column_config.TextColumn("notes", width="medium"),
            "location": st.column_config.TextColumn("location", width="small"),
            "municipality": st.column_config.TextColumn("municipality", width="small"),
            "event_id_cnty": "event id",
            "verification_status": "status", "source_count": st.column_config.NumberColumn("sources", format="%d"),
        },
    )


cur = sidebar.current()
charts(cur.data.summaries(cur.spec, cur.view.step), cur.view.step, cur.view.lang)
table(cur)
