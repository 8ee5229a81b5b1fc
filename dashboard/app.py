"""conflictmap dashboard: ``streamlit run dashboard/app.py`` from the repository root.

The entry point only assembles: it reads this rerun's data snapshot (:mod:`dashboard.data`, the
one module that touches incidents), draws the shared sidebar (:mod:`dashboard.sidebar`), shows
notices, and runs the page the user is on (``st.navigation``): the Map, Analysis, Sequences,
Upload and Export pages in ``dashboard/views/`` each compute only what they show.
"""

from __future__ import annotations

import sys
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
if str(_REPO) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(_REPO))

import streamlit as st  # noqa: E402

from dashboard import access, data, sidebar  # noqa: E402
from dashboard.text import md_escape  # noqa: E402
from geodata._errors import ConflictmapError  # noqa: E402
from geodata.service import HOW_TO_GET_BOUNDARIES  # noqa: E402
from geodata.settings import LOOPBACK_ADDRESSES, get_settings  # noqa: E402

# Not "pages/": Streamlit treats a pages/ folder next to the entry point as an old-style multipage app.
VIEWS = Path(__file__).resolve().parent / "views"
#: Less empty space above the first element, so the map starts near the top of the window.
LAYOUT_CSS = """<style>
[data-testid="stMainBlockContainer"]{padding-top:3.2rem;padding-bottom:2rem;padding-left:2rem;padding-right:2rem}
[data-testid="stSidebarHeader"]{height:2.5rem;padding-bottom:0}
</style>"""

st.set_page_config(page_title="conflictmap — northern Kosovo incidents", page_icon="🗺️", layout="wide")
st.markdown(LAYOUT_CSS, unsafe_allow_html=True)  # constant CSS, no data in it

try:
    settings = get_settings()
except ValueError as exc:  # a malformed CONFLICTMAP_* number: one message, no traceback
    st.error("A setting cannot be used.")
    st.text(str(exc))
    st.stop()
who = access.gate(settings)  # before anything is read: stops here until the person may come in

st.sidebar.markdown("**conflictmap** · security incidents in northern Kosovo")
try:
    st.session_state["_cm_user"] = access.current_user(settings, who)
    snap = data.snapshot()
    cur = sidebar.render(snap)
except ConflictmapError as exc:  # e.g. the PostGIS server is down: one message, no traceback
    st.error("The incident data cannot be read right now.")
    st.text(str(exc))
    st.stop()
access.sidebar_badge(access.user())

# ---------------------------------------------------------------- notices (user-facing only)
if st.get_option("server.address") not in LOOPBACK_ADDRESSES and not access.user().signed_in:
    st.warning("This dashboard is open to the network without sign-in (CONFLICTMAP_AUTH=none): anyone who can "
               "reach it works as this computer's user.", icon=":material/warning:")
if not st.get_option("server.enableStaticServing"):
    st.error("The map cannot load: static file serving is off. See “Set-up notes” in the sidebar.")
problems = sidebar.link_notice(cur)
if problems:
    # One paragraph (not a bulleted list) so the map stays above the fold.
    st.warning("This link asked for something that cannot be shown as asked: "
               + "; ".join(md_escape(p) for p in problems) + ".", icon=":material/link:")
if snap.layers.notices:
    st.error("A map layer could not be loaded and is left out. See “Set-up notes” in the sidebar.")

# ---------------------------------------------------------------- set-up hints (out of the way)
notes = []
if not st.get_option("server.enableStaticServing"):
    notes.append("Start the dashboard from the repository root (`streamlit run dashboard/app.py` reads "
                 ".streamlit/config.toml) or pass --server.enableStaticServing true.")
notes += snap.layers.notices
if snap.layers.municipalities is None:
    notes.append(HOW_TO_GET_BOUNDARIES)
if not snap.settings.tiles:
    notes.append("To offer your own tile server as a basemap, set CONFLICTMAP_TILES to its URL template "
                 "(e.g. http://127.0.0.1:8080/{z}/{x}/{y}.png).")
if notes:
    with st.sidebar.expander("Set-up notes"):
        for note in notes:
            st.text(note)  # plain text: may carry paths and commands



def watch_title() -> str:
    """The Watch page's name with the count of unread changes in the user's areas."""
    from dashboard.views.watch import unread_count

    n = unread_count()
    return f"Watch ({n})" if n else "Watch"


page = st.navigation([
    st.Page(VIEWS / "map.py", title="Map", icon=":material/map:", default=True),
    st.Page(VIEWS / "analysis.py", title="Analysis", icon=":material/bar_chart:"),
    st.Page(VIEWS / "sequences.py", title="Sequences", icon=":material/timeline:", url_path="sequences"),
    st.Page(VIEWS / "upload.py", title="Upload", icon=":material/upload:"),
    st.Page(VIEWS / "export.py", title="Export", icon=":material/download:"),
    st.Page(VIEWS / "sources.py", title="Data sources", icon=":material/sync:"),
    st.Page(VIEWS / "watch.py", title=watch_title(), icon=":material/notifications:", url_path="watch"),
], position="top")
page.run()
