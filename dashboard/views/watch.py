"""Dashboard page "Watch": saved watch areas, what changed in each since the user last read it, levels.

An area is saved by drawing it on a map (polygon or rectangle, Leaflet.draw from ``folium-offline``),
by picking a route, a site or a municipality and a distance, or from a GeoJSON polygon (the command
line takes one too: ``conflictmap watch add NAME --area FILE``). Areas belong to the signed-in
user (their e-mail) when sign-in is on, else to the OS user running the dashboard — the same owner
as the command line's. The page calls the service only; text from the data is shown with
``st.text``/``st.dataframe``, never as Markdown.
"""

from __future__ import annotations

import datetime as dt

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.text import md_escape
from geodata._errors import ConflictmapError
from geodata.service.incidents import IncidentService
from geodata.model.schema import EVENT_TYPES
from geodata.settings import get_settings

KIND_LABELS = {"Site": "site", "Route": "route", "Municipality": "municipality", "Drawn on the map": "area",
               "GeoJSON polygon": "area"}
DRAW_KEY = "watch-draw"


def drawn_area(value: object) -> bytes | None:
    """The polygon drawn on the map (streamlit-folium's ``last_active_drawing``) as GeoJSON bytes, or ``None``."""
    import json

    feature = (value or {}).get("last_active_drawing") if isinstance(value, dict) else None
    if not isinstance(feature, dict) or (feature.get("geometry") or {}).get("type") not in ("Polygon", "MultiPolygon"):
        return None
    return json.dumps({"type": "FeatureCollection", "features": [feature]}).encode("utf-8")


def _draw_panel() -> bytes | None:
    """The map to draw the area on (polygon or rectangle tools); returns the drawn shape."""
    from streamlit_folium import st_folium

    from dashboard import data
    from layers.draw import drawing_map

    layers = data.snapshot().layers
    st.caption("Draw the area with the polygon or rectangle tool at the map's top left; the last shape drawn is saved.")
    out = st_folium(drawing_map(layers.municipalities, layers.routes, layers.sites, country=layers.country), key=DRAW_KEY, height=420,
                    returned_objects=["last_active_drawing"], use_container_width=True)
    shape = drawn_area(out)
    st.caption("Shape drawn: ready to save." if shape else "No shape drawn yet.")
    return shape


# Signs every font has (emoji show as empty boxes where no emoji font is installed, as on many servers).
CHANGE_ICONS = {"new": "+ new", "changed": "± changed", "removed": "− removed"}


def current_owner() -> str:
    """The signed-in user's e-mail when sign-in is on, else the OS user ("local" if unknown)."""
    from geodata.service.watch import default_owner

    try:
        if st.user.is_logged_in and st.user.get("email"):
            return str(st.user.get("email"))
    except (AttributeError, KeyError, RuntimeError):  # sign-in not configured in this Streamlit
        pass
    return default_owner()


def unread_count() -> int:
    """How many changes wait in the current user's areas (the count beside the page's name); 0 on errors."""
    from dashboard import data

    try:
        with data.service(get_settings()) as svc:
            return sum(len(d.items) for d in svc.unread(current_owner(), levels=False).values())
    except ConflictmapError:
        return 0


def _items_table(items: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(items, columns=["change", "event_id_cnty", "what_changed", "event_date", "event_type",
                                         "location", "fatalities", "verification_status"])
    frame["change"] = frame["change"].map(CHANGE_ICONS).fillna(frame["change"])
    return frame


def _save_form(svc: IncidentService, owner: str) -> None:
    from geodata.service.watch import STATUS_RANK, WatchError

    facets = svc.facets()
    options = {"Site": facets.sites, "Route": facets.routes, "Municipality": facets.municipalities,
               "Drawn on the map": (), "GeoJSON polygon": ()}
    with st.container(border=True):
        st.subheader("Save a watch area", anchor=False)
        name = st.text_input("Name", max_chars=80, placeholder="e.g. Banjska 2 km", key="watch-name")
        kind_label = st.radio("Around", list(KIND_LABELS), horizontal=True, key="watch-kind")
        upload = None
        drawn: bytes | None = None
        if kind_label == "Drawn on the map":
            drawn = _draw_panel()
            ref = "drawn on the map"
        elif kind_label == "GeoJSON polygon":
            upload = st.file_uploader("Polygon (GeoJSON)", type=["geojson", "json"], key="watch-file")
            ref = upload.name if upload is not None else None
        else:
            ref = st.selectbox(kind_label, list(options[kind_label]), index=None, key=f"watch-ref-{kind_label}",
                               placeholder=f"pick a {kind_label.lower()}")
        km = st.number_input("Distance (km; around a polygon: 0 for none)", min_value=0.0, max_value=200.0, value=2.0, step=0.5, key="watch-km")
        types = st.multiselect("Only event types", list(EVENT_TYPES), key="watch-types")
        actor = st.text_input("Only actors containing", max_chars=120, key="watch-actor")
        status = st.selectbox("At least status", ["", *STATUS_RANK], format_func=lambda s: s or "any",
                              key="watch-status")
        if st.button("Save area", type="primary", key="watch-save"):
            try:
                if kind_label == "Drawn on the map" and drawn is None:
                    raise WatchError("draw the area on the map first (polygon or rectangle tool)")
                if kind_label == "GeoJSON polygon" and upload is None:
                    raise WatchError("choose a GeoJSON file with the area's polygon")
                area = svc.watch_add(name, KIND_LABELS[kind_label], ref or "", km or None, owner=owner,
                                     types=types, actor=actor, min_status=status,
                                     data=drawn if drawn is not None else
                                     (upload.getvalue() if upload is not None else None))
            except ConflictmapError as exc:
                st.error("The area was not saved.")
                st.text(str(exc))
                return
            st.session_state["watch-saved"] = f"{area.name}: {area.describe()}"
            st.rerun()  # draw the new area with the others


def render() -> None:
    """Draw the page."""
    from dashboard import data
    from geodata.service.watch import levels_line

    owner = current_owner()
    st.header("Watch areas")
    st.caption("What arrived, was corrected or was withdrawn in each of your areas since you last marked it read "
               "— by when it reached the store, not by the event's date.")
    saved = st.session_state.pop("watch-saved", None)
    if saved:
        st.success("Saved. What changes there from now on appears in its box.")
        st.text(saved)
    try:
        with data.service(get_settings()) as svc:
            digests = svc.unread(owner)
            if not digests:
                st.info("No watch areas yet: save one below (or `conflictmap watch add`).")
            for name, d in digests.items():
                with st.container(border=True):
                    st.subheader(f"{md_escape(name)} · {len(d.items)} unread", anchor=False)  # a user's name: no Markdown
                    st.text(d.area.describe())
                    cols = st.columns([3, 2])
                    with cols[0]:
                        if d.items:
                            st.dataframe(_items_table(d.items), hide_index=True, width="stretch")
                        else:
                            st.text("Nothing new, changed or removed since you last read it.")
                    with cols[1]:
                        end = dt.date.fromisoformat(d.levels["week"][1])
                        # Each week by its first day (ISO text sorts in time order on the axis).
                        starts = [(end - dt.timedelta(days=7 * k + 6)).isoformat() for k in range(11, -1, -1)]
                        weekly = pd.DataFrame({"week": starts, "incidents": d.levels["weekly"]})
                        chart = alt.Chart(weekly).mark_bar().encode(
                            x=alt.X("week:O", title="week starting"),
                            y=alt.Y("incidents:Q", axis=alt.Axis(format="d", tickMinStep=1)))  # whole incidents
                        st.altair_chart(chart.properties(height=170), width="stretch")
                        st.text(levels_line(d.levels))
                    b1, b2 = st.columns(2)
                    if b1.button("Mark read", key=f"read-{name}", disabled=not d.items):
                        svc.mark_read(d)
                        st.rerun()
                    if b2.button("Remove area", key=f"remove-{name}"):
                        svc.watch_remove(name, owner)
                        st.rerun()
            _save_form(svc, owner)
    except ConflictmapError as exc:
        st.error("The watch areas cannot be read right now.")
        st.text(str(exc))


if __name__ == "__main__":  # run as a page file (st.Page("dashboard/views/watch.py"))
    render()
