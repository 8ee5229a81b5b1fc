"""Monastery and religious sites layer: distinct icon, trilingual names, UNESCO status."""

from __future__ import annotations

import folium
import geopandas as gpd

from layers.html import esc, safe_link
from layers.style import SITE_COLOR

_ICON_HTML = (
    '<div class="cm-site" title="{title}" style="width:20px;height:20px;border-radius:4px;background:#fff;'
    'border:2px solid ' + SITE_COLOR + ';color:' + SITE_COLOR + ';font:bold 15px/16px serif;text-align:center">✝</div>'
)


def site_popup(row) -> str:
    """Popup for one site; every value escaped."""
    lines = [
        f"<b>{esc(row['name_en'])}</b>",
        f"{esc(row['name_sq'])} / {esc(row['name_sr'])}",
        f"{esc(str(row['site_type']).capitalize())}, {esc(row['municipality'])}",
    ]
    if row.get("founded"):
        lines.append(f"Founded: {esc(row['founded'])}")
    if row.get("unesco_status"):
        lines.append(f"<b>UNESCO:</b> {esc(row['unesco_status'])}")
    if row.get("notes"):
        lines.append(esc(row["notes"]))
    lines.append(f"Source: {safe_link(row.get('source_url'), 'reference')}")
    return '<div class="cm-popup" style="max-width:300px">' + "<br>".join(lines) + "</div>"


def site_layer(sites: gpd.GeoDataFrame, name: str = "Religious sites", lang: str = "en") -> folium.FeatureGroup:
    """One marker per site with a church-cross icon, tooltip (name in ``lang``) and popup.

    Sites are drawn in the ``cmSites`` pane (:data:`layers.geography.PANES`), below incidents, so a
    site never hides an incident at the same spot.
    """
    group = folium.FeatureGroup(name=f"{name} ({len(sites)})", overlay=True)
    col = {"sq": "name_sq", "sr": "name_sr"}.get(lang, "name_en")
    for _, row in sites.iterrows():
        label = row.get(col) or row["name_en"]
        folium.Marker(
            location=(row.geometry.y, row.geometry.x),
            icon=folium.DivIcon(html=_ICON_HTML.format(title=esc(label)), icon_size=(20, 20), icon_anchor=(10, 10)),
            tooltip=folium.Tooltip(esc(label)),
            pane="cmSites",
            popup=folium.Popup(site_popup(row), max_width=320),
        ).add_to(group)
    return group
