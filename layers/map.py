"""The map: every layer, legend, controls and attributions in one folium.Map.

The dashboard and the standalone HTML export both call :func:`build_map`, so the shared map
is the map the analyst sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import folium
import geopandas as gpd
from branca.element import MacroElement
from folium.plugins import Fullscreen
from folium.template import Template

from geodata.settings import BOUNDARIES_ATTRIBUTION
from layers.assets import prune_map_assets
from layers.html import esc, script_json
from layers.incidents import choose_representation, incident_layer
from layers.municipalities import choropleth_values, municipality_layer
from layers.routes import route_layer
from layers.sites import site_layer
from layers.style import BUFFER_COLOR, ROUTE_COLOR, SITE_COLOR, Legend, event_legend_items, line

#: Northern Kosovo: the default view when there is nothing to fit.
DEFAULT_CENTER = (42.93, 20.78)
DEFAULT_ZOOM = 10
MAX_ZOOM = 18
INCIDENT_ATTRIBUTION = "Incidents: conflictmap (sourced public reports) and uploaded files"
SITES_ATTRIBUTION = "Sites: conflictmap (sourced public references)"
ROUTES_ATTRIBUTION = "Patrol routes: illustrative (real routes are not public)"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = "© OpenStreetMap contributors"


@dataclass
class MapInputs:
    """What to draw. ``incidents`` is the filtered, enriched selection; other layers may be None."""

    incidents: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame | None = None
    routes: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    buffers: gpd.GeoDataFrame | None = None
    extra_attributions: list[str] = field(default_factory=list)


class Attributions(MacroElement):
    """Adds escaped attribution strings to the map's attribution control."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var ctl = {{ this._parent.get_name() }}.attributionControl;
            {{ this.items_json }}.forEach(function (a) { ctl.addAttribution(a); });
        })();
        {% endmacro %}
    """)

    def __init__(self, items: list[str]):
        super().__init__()
        self._name = "Attributions"
        self.items_json = script_json([esc(i) for i in items])


class Title(MacroElement):
    """A title box at the top of the map (escaped)."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="cm-title" style="position:absolute;z-index:1000;top:10px;left:50%;transform:translateX(-50%);
             background:rgba(255,255,255,.93);padding:5px 12px;border:1px solid #999;border-radius:4px;
             font:13px/1.35 sans-serif;max-width:60%;text-align:center">{{ this.body }}</div>
        {% endmacro %}
    """)

    def __init__(self, title: str, subtitle: str = ""):
        super().__init__()
        self._name = "Title"
        self.body = f"<b>{esc(title)}</b>" + (f"<br><small>{esc(subtitle)}</small>" if subtitle else "")


def build_map(
    inputs: MapInputs,
    *,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
    metric: str = "incidents",
    representation: str | None = None,
    title: str | None = None,
    subtitle: str = "",
    height: str = "100%",
    dynamic_incidents: bool = False,
) -> folium.Map:
    """Build the conflictmap map.

    Args:
        inputs: the layers to draw.
        tiles: tile URL template, ``"osm"`` for OpenStreetMap, or ``None`` for no tiles (readable
            offline: polygons, lines and points need no basemap).
        tiles_attribution: attribution for a custom tile URL.
        metric: choropleth metric, ``"incidents"`` or ``"fatalities"``.
        representation: force the incident representation (``None`` chooses by size).
        title, subtitle: optional title box (exports).
        height: CSS height of the map.
        dynamic_incidents: leave the incident layer and the layer control out of the map; the
            caller adds them with :func:`incident_group` and :func:`layer_control` (the dashboard
            passes them to ``st_folium(feature_group_to_add=..., layer_control=...)`` so time
            playback swaps incidents without remounting the map). Legend, choropleth and initial
            view still come from ``inputs.incidents``.
    Returns:
        A folium.Map whose default assets are pruned to Leaflet (see :mod:`layers.assets`).
    """
    m = folium.Map(location=DEFAULT_CENTER, zoom_start=DEFAULT_ZOOM, tiles=None, control_scale=True,
                   height=height, prefer_canvas=False)
    # Without tiles nothing sets a maximum zoom, and Leaflet.markercluster then throws
    # "Map has no maxZoom specified": no cluster is drawn. Set it on the map itself.
    m.options["max_zoom"] = MAX_ZOOM
    prune_map_assets(m)
    attributions = [INCIDENT_ATTRIBUTION]
    if tiles:
        url, attr = (OSM_TILES, OSM_ATTRIBUTION) if tiles == "osm" else (tiles, tiles_attribution or tiles)
        folium.TileLayer(url, attr=esc(attr), name="Basemap tiles", overlay=False, control=True).add_to(m)
        # A second, empty base layer lets the reader switch tiles off (offline, or for a cleaner print).
        folium.FeatureGroup(name="No basemap", overlay=False, control=True, show=False).add_to(m)

    legend: list[tuple[str, list[tuple[str, str]]]] = [("Incidents by event type", event_legend_items())]
    if inputs.municipalities is not None and not inputs.municipalities.empty:
        values = choropleth_values(inputs.incidents, inputs.municipalities, metric)
        layer, items = municipality_layer(inputs.municipalities, values, metric)
        layer.add_to(m)
        legend.append((f"Municipalities: {metric} in selection", items))
        attributions.append(BOUNDARIES_ATTRIBUTION)
    if inputs.buffers is not None and not inputs.buffers.empty:
        folium.GeoJson(
            inputs.buffers[["geometry"]].to_json(), name="Proximity buffer",
            style_function=lambda f: {"color": BUFFER_COLOR, "weight": 1, "fillColor": BUFFER_COLOR, "fillOpacity": 0.12},
        ).add_to(m)
    if inputs.routes is not None and not inputs.routes.empty:
        route_layer(inputs.routes).add_to(m)
        legend.append(("Other layers", [(line(ROUTE_COLOR), "Patrol route (illustrative)")]))
        attributions.append(ROUTES_ATTRIBUTION)
    if inputs.sites is not None and not inputs.sites.empty:
        site_layer(inputs.sites).add_to(m)
        swatch = f'<span style="color:{SITE_COLOR};font:bold 14px serif">✝</span>'
        if legend[-1][0] == "Other layers":
            legend[-1][1].append((swatch, "Monastery / religious site"))
        else:
            legend.append(("Other layers", [(swatch, "Monastery / religious site")]))
        attributions.append(SITES_ATTRIBUTION)
    mode = representation or choose_representation(len(inputs.incidents))
    if not dynamic_incidents:
        incident_layer(inputs.incidents, mode).add_to(m)
    if mode != "markers":
        # Clusters and hexagons take the colour of their most frequent event type: say so.
        view = {"cluster": "clusters", "aggregate": "hexagons"}.get(mode, mode)
        legend[0] = (legend[0][0] + f" ({view}: most frequent type)", legend[0][1])

    if mode == "markers":  # markers are outlined by verification status (layers.incidents)
        from layers.curation_html import status_legend_items

        legend.insert(1, ("Verification status (marker outline)", status_legend_items()))
    Legend(legend).add_to(m)
    Attributions(attributions + list(inputs.extra_attributions)).add_to(m)
    Fullscreen(position="topleft").add_to(m)
    if title:
        Title(title, subtitle).add_to(m)
    if not inputs.incidents.empty:
        (minx, miny, maxx, maxy) = inputs.incidents.total_bounds
        pad = 0.05
        m.fit_bounds([[miny - pad, minx - pad], [maxy + pad, maxx + pad]])
    if not dynamic_incidents:
        layer_control().add_to(m)
    return m


def layer_control() -> folium.LayerControl:
    """The map's layer control (expanded, top right)."""
    return folium.LayerControl(collapsed=False, position="topright")


def incident_group(incidents: gpd.GeoDataFrame, representation: str | None = None,
                   name: str | None = None) -> folium.FeatureGroup:
    """The incident overlay wrapped in a FeatureGroup, for ``st_folium(feature_group_to_add=...)``.

    Args:
        incidents: the incidents to draw (e.g. one playback period of the selection).
        representation: as in :func:`build_map`; pass the full selection's representation so the
            map's assets stay the same from period to period.
        name: label in the layer control (defaults to "Incidents (N)").
    Returns:
        A FeatureGroup holding one :class:`layers.incidents.IncidentLayer`.
    """
    group = folium.FeatureGroup(name=name or f"Incidents ({len(incidents):,})", overlay=True, control=True)
    incident_layer(incidents, representation).add_to(group)
    return group
