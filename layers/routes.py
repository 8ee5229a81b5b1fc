"""Patrol routes layer: dashed lines; illustrative routes say so in tooltip and popup."""

from __future__ import annotations

import folium
import geopandas as gpd

from layers.html import esc
from layers.style import ROUTE_COLOR


def route_layer(routes: gpd.GeoDataFrame, name: str = "Patrol routes") -> folium.FeatureGroup:
    """One dashed polyline per route with an escaped tooltip and popup."""
    group = folium.FeatureGroup(name=f"{name} ({len(routes)})", overlay=True)
    for _, row in routes.iterrows():
        label = esc(row["name"]) + (" — illustrative" if row.get("illustrative") else "")
        geoms = getattr(row.geometry, "geoms", [row.geometry])
        for g in geoms:
            folium.PolyLine(
                [(y, x) for x, y, *_ in g.coords], color=ROUTE_COLOR, weight=4, opacity=0.8, dash_array="8 6",
                tooltip=folium.Tooltip(label),
                popup=folium.Popup(
                    f"<b>{label}</b><br>{esc(row.get('basis', '') or '')}<br><small>{esc(row['route_id'])}</small>",
                    max_width=300,
                ),
                class_name="cm-route",
            ).add_to(group)
    return group
