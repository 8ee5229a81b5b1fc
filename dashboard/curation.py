"""Incident details section for analysts: verification status (change with who/why, undo), sources, duplicates.

:func:`render` draws the section for one incident from a
:class:`geodata.service.curation.CurationService`; the map page calls it under the details of the
clicked incident. Every change is recorded in the store's append-only history and moves its data
version, so every open session shows it on its next rerun. Text from data and users is shown with
``st.text``/``st.dataframe`` (never Markdown); links are http(s) only; a refused change shows one
message and changes nothing.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from geodata._errors import ConflictmapError
from geodata.service import http_url_or_none
from geodata.service import incident_sources
from geodata.service import STATUS_TEXT, TRANSITIONS, latest_undoable


def _history_frame(history) -> pd.DataFrame:
    return pd.DataFrame([{"#": c.change_id, "when (UTC)": c.at.strftime("%Y-%m-%d %H:%M"), "who": c.who,
                          "change": f"{c.old_status} → {c.new_status}" + (f" (undoes #{c.undoes})" if c.undoes else ""),
                          "why": c.why} for c in history], columns=["#", "when (UTC)", "who", "change", "why"])


def _sources_frame(sources) -> pd.DataFrame:
    return pd.DataFrame([{"outlet": s.outlet, "published": s.published.isoformat() if s.published else "",
                          "language": s.language, "report": http_url_or_none(s.url),
                          "archived copy": http_url_or_none(s.archive_url)} for s in sources],
                        columns=["outlet", "published", "language", "report", "archived copy"])


def _links() -> dict:
    return {"report": st.column_config.LinkColumn("report", display_text="open"),
            "archived copy": st.column_config.LinkColumn("archived copy", display_text="open")}


def render(service: Any, event_id: str, incidents: pd.DataFrame | None = None, key: str = "cur") -> None:
    """Draw the analyst section of one incident.

    Args:
        service: a :class:`geodata.service.curation.CurationService`.
        event_id: the incident's ``event_id_cnty``.
        incidents: the incident layer, for duplicate suggestions (``None`` leaves them out).
        key: widget-key prefix (two sections on one page need different prefixes).
    """
    flash = st.session_state.pop(f"{key}_flash", None)
    if flash:
        st.success(flash)
    try:
        curation = service.curation()
        history = service.history(event_id)
    except ConflictmapError as exc:
        st.error("The verification data cannot be read right now.")
        st.text(str(exc))
        return
    status = history[-1].new_status if history else curation.statuses.get(event_id, "reported")
    st.text(f"Verification status: {STATUS_TEXT.get(status, status)}")
    reason = history[-1].why if history else curation.reasons.get(event_id, "")
    if reason and status != "reported":
        st.text(f"Why: {reason}")
    if event_id in curation.aliases:
        st.text(f"Merged into {curation.aliases[event_id]}.")
    merged = sorted(a for a, k in curation.aliases.items() if k == event_id)
    if merged:
        st.text("Also known as: " + ", ".join(merged))

    sources = incident_sources(curation, event_id)
    st.text(f"Sources ({len(sources)})")
    if sources:
        st.dataframe(_sources_frame(sources), hide_index=True, width="stretch", column_config=_links())

    from dashboard import access

    if not access.user().may("status"):  # read-only for viewers; the store refuses their changes anyway
        if history:
            st.text("History (append-only)")
            st.dataframe(_history_frame(history), hide_index=True, width="stretch")
        access.refuse(access.user(), "status", "Changing a verification status or deciding duplicates")
        return
    # One name for every change below: it is recorded with each status change, undo and decision.
    who = st.text_input("Your name (recorded with every change)", key=f"{key}_who", max_chars=120)
    with st.form(f"{key}_status_form", clear_on_submit=True):
        new = st.selectbox("New status", TRANSITIONS.get(status, ()), key=f"{key}_new",
                           format_func=lambda s: STATUS_TEXT.get(s, s))
        why = st.text_area("Why (sources checked, what conflicts…)", key=f"{key}_why", max_chars=2000)
        if st.form_submit_button("Record status change"):
            try:
                c = service.change_status(event_id, new, who, why)
                st.session_state[f"{key}_flash"] = f"Recorded: {c.old_status} → {c.new_status} (change #{c.change_id})."
                st.rerun()
            except ConflictmapError as exc:
                st.error("Not recorded.")
                st.text(str(exc))
    target = latest_undoable(history)
    label = f"Undo change #{target.change_id} ({target.old_status} → {target.new_status})" if target else ""
    if target is not None and st.button(label, key=f"{key}_undo"):
        try:
            c = service.undo_status(event_id, who, "undo from the dashboard")
            st.session_state[f"{key}_flash"] = f"Undone: back to {c.new_status} (change #{c.change_id})."
            st.rerun()
        except ConflictmapError as exc:
            st.error("Not undone.")
            st.text(str(exc))
    if history:
        st.text("History (append-only)")
        st.dataframe(_history_frame(history), hide_index=True, width="stretch")

    if incidents is not None:
        _duplicates(service, event_id, incidents, key, who)


def _duplicates(service: Any, event_id: str, incidents: pd.DataFrame, key: str, who: str) -> None:
    """Suggested duplicates of this incident (confirm/dismiss) and decisions on it (undo)."""
    st.text("Possible duplicates")
    # As on the command line (`duplicates --all`): pairs from one dataset only when asked, since two
    # rows of one curated file are usually different events on purpose.
    within = st.checkbox("Also compare incidents of the same dataset", key=f"{key}_dup_all")
    try:
        table = service.suggestions(incidents, across_datasets=not within)
        decisions = service.decisions()
    except ConflictmapError as exc:
        st.error("Duplicates cannot be listed.")
        st.text(str(exc))
        return
    mine = table[(table["a"] == event_id) | (table["b"] == event_id)].head(5)
    if mine.empty:
        st.text("None suggested." if within else
                "None suggested from other datasets (tick the box above to compare within one dataset too).")
    for i, r in enumerate(mine.itertuples()):
        other = r.b if r.a == event_id else r.a
        st.text(f"{other} — score {r.score:.2f}: {r.reasons}")
        c1, c2 = st.columns(2)
        # Labels render Markdown: constant text only; the ids are in the st.text line above.
        if c1.button("Same incident: merge it into this one", key=f"{key}_merge_{i}"):
            _decide(service, "confirm", event_id, other, who, key)
        if c2.button("Not the same: dismiss", key=f"{key}_dismiss_{i}"):
            _decide(service, "dismiss", event_id, other, who, key)
    undone = {d.undoes for d in decisions if d.action == "undo"}
    live = [d for d in decisions if event_id in (d.keep, d.alias) and d.action != "undo" and d.decision_id not in undone]
    for d in live[-5:]:
        what = f"{d.alias} merged into {d.keep}" if d.action == "confirm" else f"{d.keep} and {d.alias} dismissed"
        st.text(f"Decision #{d.decision_id}: {what} ({d.who})")
        if st.button(f"Undo decision #{d.decision_id}", key=f"{key}_undo_dec_{d.decision_id}"):
            try:
                service.undo_decision(d.decision_id, who, "undo from the dashboard")
                st.session_state[f"{key}_flash"] = f"Decision #{d.decision_id} undone."
                st.rerun()
            except ConflictmapError as exc:
                st.error("Not undone.")
                st.text(str(exc))


def _decide(service: Any, action: str, keep: str, alias: str, who: str, key: str) -> None:
    try:
        d = service.decide(action, keep, alias, who, f"{action} from the dashboard")
        st.session_state[f"{key}_flash"] = f"Decision #{d.decision_id} recorded ({action})."
        st.rerun()
    except ConflictmapError as exc:
        st.error("Not recorded.")
        st.text(str(exc))
