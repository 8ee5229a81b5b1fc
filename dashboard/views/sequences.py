"""Sequences page: steps through a named sequence of incidents (:func:`dashboard.sequences.render`).

Only wiring: the incidents come from :mod:`dashboard.data` (the whole data, not the sidebar's
filters: a sequence is shown whole), sequences and statuses from the curation service. The sequence
and step are in the URL (``?seq=banjska-2023&step=2``).
"""

from __future__ import annotations

import streamlit as st

from dashboard import data, sequences, sidebar
from geodata._errors import ConflictmapError
from geodata.model.filters import FilterSpec

cur = sidebar.current()
incidents = cur.data.selection(FilterSpec())
if "event_id_cnty" not in incidents:
    # Above the cluster limit the map's read leaves out ids; a sequence needs them.
    st.info("Sequences are shown for data of up to "
            f"{cur.data.settings.pushdown_rows:,} incidents; this store holds more.")
else:
    layers = cur.data.layers
    try:
        with data.curation_service(cur.data.settings) as svc:
            sequences.render(svc, incidents, routes=layers.routes, sites=layers.sites, country=layers.country)
    except ConflictmapError as exc:  # e.g. the store is down: one message, no traceback
        st.error("The sequences cannot be read right now.")
        st.text(str(exc))
