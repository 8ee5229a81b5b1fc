"""Dashboard page "Data sources": each live source's last sync and counts, and "Sync now" with progress.

Self-contained: register it with ``st.Page(sources.render, title="Data sources")`` (or run the file
as a page; it then renders itself). It only wires widgets to the service
(:meth:`geodata.service.incidents.IncidentService.sync_state` and ``sync``); secrets come from the environment or ``.streamlit/secrets.toml``
and are never shown. Text from a server or the user is shown with ``st.text``/``st.dataframe``,
never as Markdown.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import access, data

from geodata._errors import ConflictmapError
from geodata.service import ACLED_TERMS_URL
from geodata.settings import get_settings

#: Shown per source: name, how to configure it, licence line (constant text: safe as Markdown).
SOURCES: dict[str, tuple[str, str, str]] = {
    "acled": ("ACLED", "set ACLED_USERNAME and ACLED_PASSWORD (environment or .streamlit/secrets.toml)",
              (f"ACLED Terms of Use ({ACLED_TERMS_URL}): exports withhold notes, actors and sources of ACLED "
               "events unless 'Full rows, internal use only' is ticked.")),
    "ucdp": ("UCDP GED", "set UCDP_TOKEN (environment or .streamlit/secrets.toml)",
             "CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/): shared in full, with attribution."),
}


def _state() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The store's ``sync_state`` and its incidents per dataset and licence."""
    with data.service(get_settings()) as svc:
        return svc.sync_state()


def _run_sync(source: str, country: str, since: dt.date | None, version: str) -> bool:
    """Run one sync inside an ``st.status`` box that lists the progress lines; True when it succeeded."""
    name = SOURCES[source][0]
    with st.status(f"Syncing {name}…", expanded=True) as box:
        lines = st.empty()
        seen: list[str] = []

        def say(msg: str) -> None:
            seen.append("".join(ch if ch.isprintable() else " " for ch in msg)[:300])
            lines.text("\n".join(seen[-12:]))  # plain text: messages name user-given countries

        try:
            with data.service(get_settings()) as svc:
                counts = svc.sync(source, country=country, since=since, version=version, progress=say)
        except ConflictmapError as exc:
            box.update(label=f"{name}: the sync failed; nothing was changed", state="error")
            st.text(str(exc))
            return False
        box.update(label=f"{name}: {counts.line()}", state="complete")
    st.session_state["cm_sources_last"] = f"{name}: {counts.line()}"
    return True


def render() -> None:
    """Draw the Data sources page."""
    from geodata.service import configured_sources

    st.header("Data sources")
    st.caption("Live sources pulled into the incident store. Each sync adds new events, updates corrected ones "
               "and removes events ACLED deleted, in one transaction.")
    try:
        state, held = _state()
    except ConflictmapError as exc:
        st.error("The sync state cannot be read.")
        st.text(str(exc))
        return
    configured = configured_sources()
    if len(held):
        st.subheader("In the store")
        st.dataframe(held, hide_index=True, width="stretch")
    last = st.session_state.get("cm_sources_last")
    if last:
        st.success(last.replace("*", "\\*"))  # our own counts line; escaped all the same
    for source, (name, how, terms) in SOURCES.items():
        with st.container(border=True):
            st.subheader(name)
            st.caption(terms)
            rows = state[state["source"].astype(str).str.startswith(source + "/")]
            if rows.empty:
                st.text("Never synced.")
            else:
                table = rows.rename(columns={"source": "source/country", "last_sync_at": "last sync (UTC)"})
                stamps = pd.to_datetime(table["last sync (UTC)"], errors="coerce", utc=True)
                table["last sync (UTC)"] = stamps.dt.strftime("%Y-%m-%d %H:%M").fillna("")
                st.dataframe(table.drop(columns=["cursor", "upload_id"]), hide_index=True, width="stretch")
            if not configured[source]:
                st.text(f"Not configured: {how}.")
                continue
            if not access.user().may("sync"):
                access.refuse(access.user(), "sync", "Running a sync")
                continue
            cols = st.columns([2, 2, 1])
            country = cols[0].text_input("Country", value="Kosovo", key=f"cm_sync_{source}_country")
            since: dt.date | None = None
            version = "26.1"
            if source == "acled":
                if cols[1].checkbox("First pull from a date", key="cm_sync_acled_use_since"):
                    since = cols[1].date_input("From", value=dt.date(2024, 1, 1), key="cm_sync_acled_since")
            else:
                version = cols[1].text_input("GED version", value="26.1", key="cm_sync_ucdp_version")
            clicked = cols[2].button("Sync now", key=f"cm_sync_{source}_now", type="primary")
            if clicked and _run_sync(source, country, since, version):
                st.rerun()  # redraw the table with the new state


if __name__ == "__main__":  # run as a page file (st.Page("dashboard/views/sources.py"))
    render()
