"""Upload page: CSV in, report out, new incidents everywhere at once (see :mod:`dashboard.upload_panel`)."""

from __future__ import annotations

import streamlit as st

from dashboard import sidebar

try:
    from dashboard import upload_panel
except ImportError:
    st.info("Upload is not available in this build")
else:
    cur = sidebar.current()
    upload_panel.render(cur.data.settings, (len(cur.data.selection(cur.spec)), cur.choices.total))
