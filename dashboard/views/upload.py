"""Upload page: CSV in, report out, new incidents everywhere at once (see :mod:`dashboard.upload_panel`)."""

from __future__ import annotations

import streamlit as st

from dashboard import access, sidebar

try:
    from dashboard import upload_panel
except ImportError:
    st.info("Upload is not available in this build")
else:
    cur = sidebar.current()
    if access.user().may("upload"):
        upload_panel.render(cur.data.settings, (len(cur.data.selection(cur.spec)), cur.choices.total))
    else:  # the store refuses a viewer's upload anyway; the page does not offer it
        st.header("Upload incidents")
        access.refuse(access.user(), "upload", "Uploading incidents")
