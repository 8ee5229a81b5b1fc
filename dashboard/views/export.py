"""Export page: downloads of the current selection (see :mod:`dashboard.export_panel`)."""

from __future__ import annotations

import streamlit as st

from dashboard import sidebar

try:
    from dashboard import export_panel
except ImportError:
    st.info("Export is not available in this build")
else:
    cur = sidebar.current()
    export_panel.render(cur.data.export_selection(cur.spec, cur.view))
