"""A map to draw a watch area on: the offline geography, routes and sites, and Leaflet.draw's polygon
and rectangle tools (the ``folium-offline`` copy of the plugin, so it works without internet).

Pure drawing: it gets its layers from the caller and returns a folium map; the page reads the drawn
shape from streamlit-folium's ``last_active_drawing``.
"""

from __future__ import annotations

import folium
import geopandas as gpd
from offlinefolium.plugins import Draw

from layers.map import MapInputs, build_map


def drawing_map(municipalities: gpd.GeoDataFrame | None, routes: gpd.GeoDataFrame | None,
                sites: gpd.GeoDataFrame | None, language: str = "en",
                country: gpd.GeoDataFrame | None = None) -> folium.Map:
    """The map a watch area is drawn on (no incidents: the shape is what matters).

    Args:
        municipalities, routes, sites: context layers, any of them ``None``.
        language: place-name language (``"en"``, ``"sq"``, ``"sr"``).
        country: the official Kosovo outline, ``None`` for Natural Earth's.
    Returns:
        A folium map with the draw toolbar (polygon and rectangle only; one shape at a time).
    """
    empty = gpd.GeoDataFrame({"event_type": []}, geometry=gpd.GeoSeries([], crs="EPSG:4326"), crs="EPSG:4326")
    m = build_map(MapInputs(incidents=empty, municipalities=municipalities, routes=routes, sites=sites,
                            country_boundary=country),
                  dynamic_incidents=True, dynamic_selection=True, language=language, height="420px")
    Draw(draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                       "polygon": {"allowIntersection": False, "showArea": True}, "rectangle": True},
         edit_options={"edit": False, "remove": True}, position="topleft").add_to(m)
    return m
