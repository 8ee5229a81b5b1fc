"""The map: every layer, legend, controls and attributions in one folium.Map.

The dashboard and the standalone HTML export both call :func:`build_map`, so the shared map
is the map the analyst sees.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen
from folium.template import Template

from geodata.geo.placenames import LANGUAGES
from geodata.model.precision import UNCERTAINTY_RADIUS_M
from geodata.settings import BOUNDARIES_ATTRIBUTION, COUNTRY_BOUNDARY_ATTRIBUTION
from layers.assets import prune_map_assets
from layers.geography import OfflineGeography, Panes, geography_payload
from layers.html import esc, script_json
from layers.incidents import COUNT_RAMP, IncidentLayer, choose_representation, incident_layer
from layers.municipalities import choropleth_values, generic_legend_items, municipality_layer
from layers.routes import route_layer
from layers.sites import site_layer
from layers.style import (
    BUFFER_COLOR,
    ROUTE_COLOR,
    SITE_COLOR,
    UNKNOWN_COLOR,
    REPRESENTATION_CSS,
    Legend,
    area,
    event_legend_items,
    line,
    ramp,
    ring,
)

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
    #: Kosovo outline (geoBoundaries ADM0, :attr:`geodata.geo.context.Context.country`, loaded by the
    #: caller); when None the map draws Natural Earth's outline.
    country_boundary: gpd.GeoDataFrame | None = None
    #: Draw the offline geography (outlines and place labels).
    geography: bool = True


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


class NarrowScreen(MacroElement):
    """Keeps controls off the data on a phone (a map narrower than 600 px): the layer control shows
    only its button until tapped (Leaflet draws it expanded for desktop readers, and the page's tests
    and screen readers still find every layer in it), popups fit the map's width. (The basemap
    notice is a control stacked under the zoom buttons: see :class:`BasemapFallback`.)"""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          @media (max-width: 599px) {
            .leaflet-control-layers-expanded:not(:hover):not(:focus-within) .leaflet-control-layers-list,
            .leaflet-control-layers-expanded:not(:hover):not(:focus-within) .leaflet-control-layers-separator {
                display: none; }
            .leaflet-control-layers-expanded:not(:hover):not(:focus-within) .leaflet-control-layers-toggle {
                display: block; }
            .leaflet-control-layers-expanded:not(:hover):not(:focus-within) { padding: 0; }
            .leaflet-popup-content { width: auto !important; max-width: calc(100vw - 80px); }
            .cm-popup { max-width: calc(100vw - 80px) !important; overflow-wrap: anywhere; }
          }
        </style>
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "NarrowScreen"


class CompactAttribution(MacroElement):
    """Keeps the attribution line to one line (full text on hover, focus or tap) so it covers no data.

    The full text stays in the page (readable by screen readers and Ctrl+F); exports also list
    every source in their "About this map" box.
    """

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          .leaflet-control-attribution { max-width: calc(100vw - 24px); white-space: nowrap; overflow: hidden;
              text-overflow: ellipsis; cursor: pointer; }
          .leaflet-control-attribution:hover, .leaflet-control-attribution:focus,
          .leaflet-control-attribution.cm-open { white-space: normal; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var a = {{ this._parent.get_name() }}.attributionControl.getContainer();
            a.setAttribute("tabindex", "0");
            a.setAttribute("title", "Sources and attributions (tap to expand)");
            L.DomEvent.on(a, "click", function () { a.classList.toggle("cm-open"); });
        })();
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "CompactAttribution"


class BasemapFallback(MacroElement):
    """Falls back to the offline geography when tiles cannot load, and says so in one short line.

    Tiles are tried first; the first tile that loads marks the basemap as working. If a tile fails
    (or none has loaded after 2 seconds, however the network fails) before any loads, the tile layer is switched off, the
    "No basemap" choice is selected and a one-line note appears. The map container carries
    ``data-basemap="tiles"`` or ``"offline"`` for whoever needs to know which one is shown.
    """

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="cm-basemap-note" role="status" style="display:none;position:absolute;z-index:1000;top:10px;
             left:50%;transform:translateX(-50%);background:rgba(255,255,255,.94);padding:2px 9px;border:1px solid #bbb;
             border-radius:3px;font:12px/1.4 sans-serif;color:#333;white-space:nowrap">
          Basemap tiles could not load: showing the offline map.</div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, tiles = {{ this.tiles }}, none = {{ this.none }};
            var box = map.getContainer(), ok = false, done = false;
            box.setAttribute("data-basemap", "loading");
            function fallback() {
                if (ok || done) { return; }
                done = true;
                map.removeLayer(tiles);
                if (none) { map.addLayer(none); }
                box.setAttribute("data-basemap", "offline");
                var note = document.querySelector(".cm-basemap-note");
                if (note) {
                    // A control in the top-left corner: Leaflet stacks it under the zoom buttons and any
                    // other control there (the exported map's Sequence chooser), so it covers none of them.
                    note.style.cssText = "background:rgba(255,255,255,.94);padding:2px 9px;border:1px solid #bbb;" +
                        "border-radius:3px;font:12px/1.4 sans-serif;color:#333;max-width:calc(100vw - 90px)";
                    var Note = L.Control.extend({options: {position: "topleft"}, onAdd: function () { return note; }});
                    new Note().addTo(map);
                }
            }
            tiles.on("tileload", function () {
                ok = true;
                box.setAttribute("data-basemap", "tiles");
                var note = document.querySelector(".cm-basemap-note");
                if (note) { note.style.display = "none"; }
            });
            tiles.on("tileerror", function () { setTimeout(fallback, 300); });
            // Tiles that neither load nor fail (a network that drops requests) decide within 2 s too.
            setTimeout(fallback, 2000);
        })();
        {% endmacro %}
    """)

    def __init__(self, tiles: folium.TileLayer, none_layer: folium.FeatureGroup | None):
        super().__init__()
        self._name = "BasemapFallback"
        self.tiles = tiles.get_name()
        self.none = none_layer.get_name() if none_layer is not None else "null"


class IncidentAssets(JSCSSMixin, MacroElement):
    """The incident layer's scripts and styles (Leaflet.markercluster) on the map itself.

    With ``dynamic_incidents`` the incident layer arrives later as a swapped feature group, and a
    mounted map does not load new scripts: a map first shown as hexagons (which need none) would
    otherwise fail when a filter brings markers or clusters ("L.markerClusterGroup is not a function").
    """

    default_js = IncidentLayer.default_js
    default_css = IncidentLayer.default_css

    def __init__(self) -> None:
        super().__init__()
        self._name = "IncidentAssets"


class FitToData(MacroElement):
    """Fits the view to the data, leaving room for the legend, title and controls.

    Each box in a map corner (legend, title, layer control, zoom buttons, "About") is cleared either
    by a strip along its side or along its top/bottom, whichever leaves the larger map area.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, bounds = L.latLngBounds({{ this.bounds }});
            function fit() {
                var c = map.getContainer(), cr = c.getBoundingClientRect(), W = cr.width, H = cr.height;
                var pad = {l: 12, t: 12, r: 12, b: 12};
                var sel = ".cm-legend, .cm-title, .cm-about, .leaflet-control-layers, .leaflet-control-zoom, " +
                          ".leaflet-control-attribution, .leaflet-control-scale";
                document.querySelectorAll(sel).forEach(function (el) {  // boxes sit in the page, beside the map
                    var r = el.getBoundingClientRect();
                    if (!r.width || !r.height) { return; }
                    var x0 = r.left - cr.left, y0 = r.top - cr.top, x1 = r.right - cr.left, y1 = r.bottom - cr.top;
                    var left = x0 < W / 2, top = y0 < H / 2, side = left ? x1 + 8 : W - x0 + 8,
                        edge = top ? y1 + 8 : H - y0 + 8;
                    if (el.classList.contains("cm-title")) { pad.t = Math.max(pad.t, edge); return; }
                    if ((W - side) * H >= W * (H - edge)) {
                        if (left) { pad.l = Math.max(pad.l, side); } else { pad.r = Math.max(pad.r, side); }
                    } else if (top) { pad.t = Math.max(pad.t, edge); } else { pad.b = Math.max(pad.b, edge); }
                });
                map.fitBounds(bounds, {paddingTopLeft: [pad.l, pad.t], paddingBottomRight: [pad.r, pad.b],
                                       maxZoom: {{ this.max_zoom }}, animate: false});
                c.setAttribute("data-fitted", "1");
            }
            map.cmFitToData = fit;
            map.getContainer().cmFitToData = fit;  // lets a page script (or a test) restore the fitted view
            map.whenReady(function () { setTimeout(fit, 0); });
        })();
        {% endmacro %}
    """)

    def __init__(self, bounds: list[list[float]], max_zoom: int = 14):
        super().__init__()
        self._name = "FitToData"
        self.bounds = script_json(bounds)
        self.max_zoom = int(max_zoom)


class CompactLayerControl(MacroElement):
    """Collapses the layer control to its button on small maps (below 600 px wide)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }}, ctl = {{ this.control }};
            if (map.getContainer().clientWidth < 600) { ctl.remove(); ctl.options.collapsed = true; ctl.addTo(map); }
        })();
        {% endmacro %}
    """)

    def __init__(self, control: folium.LayerControl):
        super().__init__()
        self._name = "CompactLayerControl"
        self.control = control.get_name()


def _country_boundary(inputs: MapInputs) -> tuple[gpd.GeoDataFrame | None, str | None]:
    """The Kosovo outline to draw and its attribution (None, None: use Natural Earth's)."""
    if inputs.country_boundary is not None:
        return inputs.country_boundary, COUNTRY_BOUNDARY_ATTRIBUTION
    return None, None


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
    dynamic_selection: bool = False,
    language: str = "en",
    dynamic_view: bool = False,
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
        dynamic_selection: also leave out everything else that depends on the selection — the
            municipality choropleth and the proximity buffers (the caller adds them with
            :func:`selection_groups`) — and show the choropleth's legend without numbers. The map's
            script then depends only on the layer files, language, basemap, representation and the
            initial view, so the dashboard mounts it once and a filter change only swaps layers
            (streamlit-folium keys its component on a hash of that script). ``inputs.incidents``
            only sets the initial view and the representation.
        language: display language of place names (``"en"``, ``"sq"``, ``"sr"``; see :mod:`geodata.geo.placenames`).
        dynamic_view: the language, the representation and the choropleth's metric are set by the
            incident group (:func:`incident_group`), not built in: place labels carry every language,
            the legend holds every representation's and metric's rows and shows those drawn, and the
            religious sites are left out (:func:`selection_groups` draws them, named in the language).
            A language switch, a change of metric or a selection crossing a size limit (markers,
            clusters, hexagons) then keeps the mounted map.
    Returns:
        A folium.Map whose default assets are pruned to Leaflet (see :mod:`layers.assets`).
    """
    m = folium.Map(location=DEFAULT_CENTER, zoom_start=DEFAULT_ZOOM, tiles=None, control_scale=True,
                   height=height, prefer_canvas=False)
    # Without tiles nothing sets a maximum zoom, and Leaflet.markercluster then throws
    # "Map has no maxZoom specified": no cluster is drawn. Set it on the map itself.
    m.options["max_zoom"] = MAX_ZOOM
    prune_map_assets(m)
    Panes().add_to(m)
    attributions = [INCIDENT_ATTRIBUTION]
    fallback = None
    if tiles:
        url, attr = (OSM_TILES, OSM_ATTRIBUTION) if tiles == "osm" else (tiles, tiles_attribution or tiles)
        label = "OpenStreetMap" if tiles == "osm" else "Tile server"
        tile_layer = folium.TileLayer(url, attr=esc(attr), name=f"Basemap: {label}", overlay=False, control=True)
        tile_layer.add_to(m)
        # A second, empty base layer lets the reader switch tiles off (offline, or for a cleaner print).
        none_layer = folium.FeatureGroup(name="No basemap (offline map)", overlay=False, control=True, show=False)
        none_layer.add_to(m)
        fallback = BasemapFallback(tile_layer, none_layer)
    if inputs.geography:
        kosovo, kosovo_attr = _country_boundary(inputs)
        geo, geo_attr = geography_payload(kosovo, inputs.municipalities, language,
                                          languages=LANGUAGES if dynamic_view else ())
        OfflineGeography(geo).add_to(m)
        attributions += ([kosovo_attr] if kosovo_attr else []) + geo_attr

    legend: list[tuple[str, list[tuple[str, str]]]] = [("Incidents by event type", event_legend_items())]
    if dynamic_selection and inputs.municipalities is not None and not inputs.municipalities.empty:
        if dynamic_view:  # both metrics' rows; the incident group flags which one is drawn
            for each in ("incidents", "fatalities"):
                legend.append((f"Municipalities: {each} in selection", generic_legend_items(each),  # type: ignore[arg-type]
                               f"cm-metric cm-metric-{each}"))
        else:
            legend.append((f"Municipalities: {metric} in selection", generic_legend_items(metric)))
        attributions.append(BOUNDARIES_ATTRIBUTION)
    elif inputs.municipalities is not None and not inputs.municipalities.empty:
        values = choropleth_values(inputs.incidents, inputs.municipalities, metric)
        layer, items = municipality_layer(inputs.municipalities, values, metric, lang=language)
        layer.add_to(m)
        legend.append((f"Municipalities: {metric} in selection", items))
        attributions.append(BOUNDARIES_ATTRIBUTION)
    if inputs.buffers is not None and not inputs.buffers.empty and not dynamic_selection:
        _buffer_layer(inputs.buffers).add_to(m)
    if inputs.routes is not None and not inputs.routes.empty:
        route_layer(inputs.routes).add_to(m)
        legend.append(("Other layers", [(line(ROUTE_COLOR), "Patrol route (illustrative)")]))
        attributions.append(ROUTES_ATTRIBUTION)
    if inputs.sites is not None and not inputs.sites.empty:
        if not dynamic_view:
            site_layer(inputs.sites, lang=language).add_to(m)
        swatch = f'<span style="color:{SITE_COLOR};font:bold 14px serif">✝</span>'
        if legend[-1][0] == "Other layers":
            legend[-1][1].append((swatch, "Monastery / religious site"))
        else:
            legend.append(("Other layers", [(swatch, "Monastery / religious site")]))
        attributions.append(SITES_ATTRIBUTION)
    mode = representation or choose_representation(len(inputs.incidents))
    if not dynamic_incidents:
        incident_layer(inputs.incidents, mode, lang=language).add_to(m)
    from layers.curation_html import status_legend_items

    if dynamic_view:
        # Every representation's rows, each shown only while that representation is drawn.
        rows: dict[tuple[str, str], list[str]] = {}
        for each in ("markers", "cluster", "aggregate"):
            for row in _representation_legend(each):
                rows.setdefault(row, []).append(f"cm-rep-{each}")
        legend[0] = (legend[0][0], legend[0][1] + [(sw, label, " ".join(["cm-rep", *modes]))
                                                   for (sw, label), modes in rows.items()])
        legend.insert(1, ("Verification status (marker outline)", status_legend_items(),  # type: ignore[arg-type]
                          "cm-rep cm-rep-markers"))
        m.get_root().header.add_child(folium.Element(f"<style>{REPRESENTATION_CSS}</style>"))
    else:
        legend[0] = (legend[0][0], legend[0][1] + _representation_legend(mode))
        if mode == "markers":  # markers are outlined by verification status (layers.incidents)
            legend.insert(1, ("Verification status (marker outline)", status_legend_items()))
    Legend(legend).add_to(m)
    Attributions(attributions + list(inputs.extra_attributions)).add_to(m)
    CompactAttribution().add_to(m)
    NarrowScreen().add_to(m)
    Fullscreen(position="topleft").add_to(m)
    if title:
        Title(title, subtitle).add_to(m)
    if fallback is not None:
        fallback.add_to(m)
    if dynamic_incidents:
        IncidentAssets().add_to(m)
    control = None
    if not dynamic_incidents:
        control = layer_control()
        control.add_to(m)
        CompactLayerControl(control).add_to(m)
    if not inputs.incidents.empty:
        (minx, miny, maxx, maxy) = _bounds(inputs.incidents)
        pad = 0.01
        # Added last: it measures the legend, title and controls before fitting.
        FitToData([[miny - pad, minx - pad], [maxy + pad, maxx + pad]]).add_to(m)
    return m


def _bounds(incidents: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """``total_bounds`` of point incidents, from one vectorised coordinate read (GeoPandas' bounds
    ask GEOS for each geometry's box: a tenth of a second per million points on every map built)."""
    xy = shapely.get_coordinates(np.asarray(incidents.geometry.array))
    if not len(xy):
        return tuple(float(v) for v in incidents.total_bounds)  # type: ignore[return-value]
    lo, hi = np.nanmin(xy, axis=0), np.nanmax(xy, axis=0)
    return float(lo[0]), float(lo[1]), float(hi[0]), float(hi[1])


def _representation_legend(mode: str) -> list[tuple[str, str]]:
    """Legend rows explaining how the chosen representation draws incidents."""
    if mode == "aggregate":
        return [(ramp(COUNT_RAMP), "Hexagons (~1.4 km): colour = number of incidents (hover: mix of types)")]
    rows = [(ring(), ("Number in a ring: incidents at one spot or nearby; ring = mix of event types; "
                      "click to spread them out"))]
    if mode == "markers":
        km2, km3 = UNCERTAINTY_RADIUS_M[2] / 1000, UNCERTAINTY_RADIUS_M[3] / 1000
        rows.append((area(UNKNOWN_COLOR), (f"Dashed circle: location approximate — town level (~{km2:g} km), "
                                           f"region level (~{km3:g} km)")))
    return rows


def _buffer_layer(buffers: gpd.GeoDataFrame, pane: str | None = None) -> folium.GeoJson:
    """The proximity buffers (faint, outlined)."""
    return folium.GeoJson(
        buffers[["geometry"]].to_json(), name="Proximity buffer",
        style_function=lambda f: {"color": BUFFER_COLOR, "weight": 1, "fillColor": BUFFER_COLOR, "fillOpacity": 0.12},
        **({"pane": pane} if pane else {}),
    )


def selection_groups(
    incidents: gpd.GeoDataFrame,
    *,
    municipalities: gpd.GeoDataFrame | None = None,
    choropleth_of: gpd.GeoDataFrame | None = None,
    buffers: gpd.GeoDataFrame | None = None,
    metric: str = "incidents",
    representation: str | None = None,
    language: str = "en",
    name: str | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> list[folium.FeatureGroup]:
    """What changes with the selection, as feature groups for ``st_folium(feature_group_to_add=...)``.

    Args:
        incidents: the incidents to draw (a playback period, or the whole selection).
        municipalities: the boundary layer, for the choropleth (``None``: no choropleth).
        choropleth_of: the incidents the choropleth counts (the whole selection; default ``incidents``).
        buffers: proximity buffers of the selection, if any.
        metric, representation, language, name: as in :func:`build_map` / :func:`incident_group`.
        sites: the religious sites, named in ``language``, for a map built with ``dynamic_view``.
    Returns:
        The municipality choropleth (drawn below routes and sites), the buffers, the sites, then the
        incidents ("Incidents (N)" in the layer control).
    """
    groups: list[folium.FeatureGroup] = []
    if municipalities is not None and not municipalities.empty:
        values = choropleth_values(incidents if choropleth_of is None else choropleth_of, municipalities, metric)
        layer, _items = municipality_layer(municipalities, values, metric, lang=language, pane="cmChoropleth")
        group = folium.FeatureGroup(name=f"Municipalities ({metric})", overlay=True, control=True)
        layer.add_to(group)
        groups.append(group)
    if buffers is not None and not buffers.empty:
        group = folium.FeatureGroup(name="Proximity buffer", overlay=True, control=True)
        _buffer_layer(buffers, pane="cmChoropleth").add_to(group)
        groups.append(group)
    if sites is not None and not sites.empty:
        groups.append(site_layer(sites, lang=language))
    groups.append(incident_group(incidents, representation, name=name, language=language, metric=metric))
    return groups


def layer_control() -> folium.LayerControl:
    """The map's layer control (expanded, top right)."""
    return folium.LayerControl(collapsed=False, position="topright")


def incident_group(incidents: gpd.GeoDataFrame, representation: str | None = None,
                   name: str | None = None, language: str = "en", metric: str | None = None) -> folium.FeatureGroup:
    """The incident overlay wrapped in a FeatureGroup, for ``st_folium(feature_group_to_add=...)``.

    Args:
        incidents: the incidents to draw (e.g. one playback period of the selection).
        representation: as in :func:`build_map`; pass the full selection's representation so the
            map's assets stay the same from period to period.
        name: label in the layer control (defaults to "Incidents (N)").
        metric: the choropleth's metric drawn with it, for the legend (``None``: not said).
    Returns:
        A FeatureGroup holding one :class:`layers.incidents.IncidentLayer`.
    """
    group = folium.FeatureGroup(name=name or f"Incidents ({len(incidents):,})", overlay=True, control=True)
    incident_layer(incidents, representation, lang=language).add_to(group)
    _ViewFlags(representation or choose_representation(len(incidents)), metric, language).add_to(group)
    return group


class _ViewFlags(MacroElement):
    """Tells the map its group joins how it is drawn, for a map built with ``dynamic_view``: the
    representation (body class ``cm-mode-…``) and the choropleth's metric (``cm-metric-is-…``), which
    pick the legend rows shown, and the place names' language (``map.cmSetPlaceLanguage``). On other
    maps it changes nothing visible (their legend has no such rows, their labels one language)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }}, mode = {{ this.mode_json }}, metric = {{ this.metric_json }},
                lang = {{ this.lang_json }};
            function flag() {
                var b = document.body, m = group._map;
                b.classList.remove("cm-mode-markers", "cm-mode-cluster", "cm-mode-aggregate");
                b.classList.add("cm-mode-" + mode);
                if (metric) {
                    b.classList.remove("cm-metric-is-incidents", "cm-metric-is-fatalities");
                    b.classList.add("cm-metric-is-" + metric);
                }
                if (m && m.cmSetPlaceLanguage) { m.cmSetPlaceLanguage(lang); }
            }
            group.on("add", flag);
            flag();
        })();
        {% endmacro %}
    """)

    def __init__(self, mode: str, metric: str | None = None, lang: str = "en"):
        super().__init__()
        self._name = "ViewFlags"
        self.mode_json = script_json(str(mode))
        self.metric_json = script_json(metric or "")
        self.lang_json = script_json(str(lang))
