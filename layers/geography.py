"""Offline geography drawn without tiles: country outlines, the Kosovo boundary and place labels.

Everything here is in the page itself, so the map reads on a machine without internet:

* neighbouring countries (Natural Earth) and the Kosovo boundary (geoBoundaries ADM0 when installed,
  else Natural Earth's outline) as thin outlines in a low pane;
* place names as text (Leaflet DivIcon markers, so screen readers, Ctrl+F and translation tools read
  them), thinned by zoom and by a greedy collision test in screen space, in a pane below every
  incident marker (see :data:`PANES`).
"""

from __future__ import annotations

import html
from typing import Sequence

import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from geodata.geo.placenames import display_name, map_labels
from geodata.geo.places import (
    NEIGHBOURS_ATTRIBUTION,
    PLACES_ATTRIBUTION,
    TOWNS_ATTRIBUTION,
    load_neighbours,
)
from layers.html import esc, script_json

#: Leaflet panes, bottom to top (Leaflet's own: tiles 200, overlays 400, markers 600, tooltips 650,
#: popups 700). Labels sit above polygons and below sites; sites below incidents, so a site never
#: hides an incident; uncertainty areas are under everything clickable.
PANES: dict[str, int] = {
    "cmGeography": 250, "cmChoropleth": 300, "cmUncertainty": 390, "cmLabels": 450, "cmSites": 520, "cmIncidents": 620,
}
#: Neighbouring-country names are placed by hand-free rule: at a representative point of the
#: clipped outline; this is their label zoom range.
COUNTRY_LABEL_ZOOM = (6, 10)


class Panes(MacroElement):
    """Creates :data:`PANES` on the map (must be added before any layer that uses them)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            {{ this.panes_json }}.forEach(function (p) {
                if (!map.getPane(p[0])) { map.createPane(p[0]).style.zIndex = p[1]; }
            });
            map.getPane("cmGeography").style.pointerEvents = "none";
            map.getPane("cmUncertainty").style.pointerEvents = "none";
            map.getPane("cmLabels").style.pointerEvents = "none";
        })();
        {% endmacro %}
    """)

    def __init__(self):
        super().__init__()
        self._name = "Panes"
        self.panes_json = script_json(sorted(PANES.items(), key=lambda kv: kv[1]))


class OfflineGeography(MacroElement):
    """Outlines and thinned text labels (all data escaped server-side and inserted as text)."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          .cm-label { background: none; border: none; white-space: nowrap; pointer-events: none; }
          .cm-label span { position: relative; display: inline-block; transform: translate(-50%, -50%); font: 12px/1.1 sans-serif;
              color: #222; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff; }
          /* Points get their name to the right of a small dot, clear of a marker drawn on the spot. */
          .cm-label-pt span { transform: translate(-3px, -50%); }
          .cm-label-pt span::before { content: ""; display: inline-block; width: 5px; height: 5px; border-radius: 50%;
              background: #444; margin-right: 17px; vertical-align: middle; box-shadow: 0 0 0 1px #fff; }
          .cm-label-town span { font-weight: 600; font-size: 13px; }
          .cm-label-village span, .cm-label-landmark span { font-size: 11.5px; color: #333; }
          /* Near the right edge the name goes to the left of its dot, so it is not cut off. */
          .cm-label-pt.cm-label-left span { transform: translate(calc(-100% + 3px), -50%); }
          .cm-label-pt.cm-label-left span::before { display: none; }
          .cm-label-pt.cm-label-left span::after { content: ""; display: inline-block; width: 5px; height: 5px;
              border-radius: 50%; background: #444; margin-left: 17px; vertical-align: middle; box-shadow: 0 0 0 1px #fff; }
          .cm-label-off span::before, .cm-label-off span::after { display: none !important; }
          .cm-label-crossing span { font-size: 11.5px; color: #7a0000; }
          .cm-label-lake span { font-style: italic; color: #1f5f9e; }
          .cm-label-country span { font: 600 13px/1 sans-serif; letter-spacing: .2em; color: #777;
              text-transform: uppercase; }
          .cm-label-municipality span { font: italic 12px/1 sans-serif; color: #5b4a2f; }
        </style>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var geo = {{ this.geo_json }};
            L.geoJSON(geo.neighbours, {pane: "cmGeography", interactive: false,
                style: {color: "#8c8c8c", weight: 1, fillColor: "#e9e6df", fillOpacity: 0.35}}).addTo(map);
            if (geo.kosovo) {
                L.geoJSON(geo.kosovo, {pane: "cmGeography", interactive: false, className: "cm-kosovo-boundary",
                    style: {color: "#333", weight: 2.2, fillColor: "#ffffff", fillOpacity: 0.25}}).addTo(map);
            }
            var POINT_KINDS = ["town", "village", "crossing", "landmark"];
            var labels = geo.labels.map(function (l) {
                // l.n is escaped server-side: the label is plain text in the page.
                var pt = POINT_KINDS.indexOf(l.k) >= 0;
                var icon = L.divIcon({className: "cm-label cm-label-" + l.k + (pt ? " cm-label-pt" : ""),
                                      html: "<span>" + l.n + "</span>",
                                      iconSize: null});
                var mk = L.marker([l.lat, l.lon], {icon: icon, pane: "cmLabels", interactive: false,
                                                   keyboard: false});
                mk.cm = l;
                return mk;
            });
            var layer = L.layerGroup(labels).addTo(map);
            // Incident markers and co-location rings, as boxes in container pixels: a place label is
            // moved off the ring drawn on its own point, and left out where it would lie on another
            // place's marker (a reader would take that marker's count for this place).
            function markerBoxes() {
                var root = map.getContainer(), at = root.getBoundingClientRect(), out = [];
                root.querySelectorAll(".cm-cluster, .leaflet-cmIncidents-pane path").forEach(function (n) {
                    var r = n.getBoundingClientRect();
                    if (r.width > 0) { out.push([r.left - at.left, r.top - at.top, r.right - at.left, r.bottom - at.top]); }
                });
                return out;
            }
            function hits(b, q) { return b[0] < q[2] && q[0] < b[2] && b[1] < q[3] && q[1] < b[3]; }
            // Show each label from its zoom on, skipping any that would overlap a label already
            // placed (labels come sorted by importance), so names never collide.
            function thin() {
                var z = map.getZoom(), placed = [], size = map.getSize(), marks = markerBoxes(), named = {};
                var at = map.getContainer().getBoundingClientRect();
                function measure(el) {  // the label's drawn box, in container pixels
                    var r = el.firstChild.getBoundingClientRect();
                    return [r.left - at.left, r.top - at.top, r.right - at.left, r.bottom - at.top];
                }
                labels.forEach(function (mk) {
                    var el = mk.getElement(), l = mk.cm;
                    if (!el) { return; }
                    // A municipality named after its town, whose name is already shown: once is enough.
                    var show = z >= l.z0 && z <= l.z1 && !named[l.n];
                    el.firstChild.style.left = "";
                    el.firstChild.style.top = "";
                    el.classList.remove("cm-label-off", "cm-label-left");
                    el.style.display = show ? "" : "none";
                    if (!show) { return; }
                    var p = map.latLngToContainerPoint([l.lat, l.lon]);
                    var pt = el.classList.contains("cm-label-pt");
                    function gap(b, x, y) {  // from the box to a point (0 inside)
                        var dx = Math.max(b[0] - x, 0, x - b[2]), dy = Math.max(b[1] - y, 0, y - b[3]);
                        return Math.sqrt(dx * dx + dy * dy);
                    }
                    function free(b, own) {
                        for (var i = 0; i < placed.length; i++) { if (hits(b, placed[i])) { return false; } }
                        if (!pt) {  // an area's name: never under a ring
                            for (var m = 0; m < marks.length; m++) { if (hits(b, marks[m])) { return false; } }
                            return true;
                        }
                        // Its own place (the ring on it, or its point) must be the nearest marker to the
                        // name: a reader takes the nearest ring's count for the named place.
                        var mine = own.length ? gap(b, (own[0][0] + own[0][2]) / 2, (own[0][1] + own[0][3]) / 2)
                                              : gap(b, p.x, p.y);
                        for (var j = 0; j < marks.length; j++) {
                            if (own.indexOf(marks[j]) >= 0) { continue; }
                            var q = marks[j];
                            if (hits(b, q) || gap(b, (q[0] + q[2]) / 2, (q[1] + q[3]) / 2) < mine + 4) { return false; }
                        }
                        return true;
                    }
                    function place(left, dx, dy, off) {  // move the name, measure it, pad the box
                        el.classList.toggle("cm-label-left", left);
                        el.classList.toggle("cm-label-off", off);
                        el.firstChild.style.left = dx ? dx + "px" : "";  // (the span is position: relative)
                        el.firstChild.style.top = dy ? dy + "px" : "";
                        var bx = measure(el);
                        return [bx[0] - 3, bx[1] - 2, bx[2] + 3, bx[3] + 2];
                    }
                    var b = place(false, 0, 0, false), w = b[2] - b[0] - 6;
                    if (!pt) {
                        show = free(b, []);
                    } else {
                        // A ring or marker on the place's own point: the name goes beside it (right, left,
                        // above, below: the first spot that is free), never onto another place's marker.
                        var own = marks.filter(function (q) { return p.x >= q[0] && p.x <= q[2] && p.y >= q[1] && p.y <= q[3]; });
                        var r = 0, lft = 0, up = 0, down = 0;
                        own.forEach(function (q) {
                            r = Math.max(r, q[2] - p.x + 4); lft = Math.max(lft, p.x - q[0] + 7);
                            // b is the name's padded box as first drawn, on the point's line
                            up = Math.max(up, (b[3] - 2) - q[1] + 3); down = Math.max(down, q[3] - (b[1] + 2) + 3);
                        });
                        var roomRight = p.x + r + w <= size.x - 4;
                        var spots = [[false, r, 0], [true, -lft, 0]];
                        if (!roomRight) { spots.reverse(); }
                        if (own.length) { spots.push([false, -w / 2, -up], [false, -w / 2, down]); }
                        show = false;
                        for (var k = 0; k < spots.length && !show; k++) {
                            b = place(spots[k][0], spots[k][1], spots[k][2], own.length > 0);
                            show = free(b, own);
                        }
                    }
                    if (show) { placed.push(b); named[l.n] = true; }
                    el.style.display = show ? "" : "none";
                });
            }
            // Rings are redrawn after a zoom and when the incident layer arrives: place labels after them.
            // (Leaflet.markercluster animates its rings for about a quarter of a second after a zoom.)
            var pending = [];
            function later() {
                pending.forEach(clearTimeout);
                pending = [setTimeout(thin, 120), setTimeout(thin, 450)];
            }
            map.on("zoomend moveend viewreset", function () { thin(); later(); });
            map.on("layeradd layerremove", later);
            map.whenReady(thin);
            map.cmThinLabels = thin;
            // Place names in another language without rebuilding the map (the dashboard's language
            // switch): each label carries its names (escaped server-side, like l.n).
            map.cmSetPlaceLanguage = function (lang) {
                labels.forEach(function (mk) {
                    var l = mk.cm, name = (l.names || {})[lang];
                    if (!name || name === l.n) { return; }
                    l.n = name;
                    mk.options.icon.options.html = "<span>" + name + "</span>";
                    var el = mk.getElement(), span = el && el.querySelector("span");
                    if (span) { span.innerHTML = name; }
                });
                thin();
                later();
            };
        })();
        {% endmacro %}
    """)

    def __init__(self, geo: dict):
        super().__init__()
        self._name = "OfflineGeography"
        self.geo_json = script_json(geo)


def _label_rows(labels: pd.DataFrame) -> list[dict]:
    return [{"n": esc(r.name_), "lat": round(float(r.lat), 5), "lon": round(float(r.lon), 5), "k": str(r.kind),
             "z0": int(r.min_zoom), "z1": int(getattr(r, "max_zoom", 22))}
            for r in labels.rename(columns={"name": "name_"}).itertuples(index=False)]


def geography_payload(kosovo: gpd.GeoDataFrame | None = None, municipalities: gpd.GeoDataFrame | None = None,
                      lang: str = "en", languages: Sequence[str] = ()) -> tuple[dict, list[str]]:
    """Data for :class:`OfflineGeography` and the attributions it needs.

    Args:
        kosovo: the Kosovo outline (geoBoundaries ADM0); ``None`` uses Natural Earth's outline.
        municipalities: when given, their names are added as labels (display language).
        lang: display language of the labels (see :mod:`geodata.geo.placenames`).
        languages: also carry each label's name in these languages (``names``), so that the mounted
            map switches language in place (``map.cmSetPlaceLanguage``, called by the incident group).
    Returns:
        ``(payload, attributions)``.
    """
    neighbours = load_neighbours()
    is_kosovo = neighbours["name"] == "Kosovo"
    outline = kosovo if kosovo is not None and not kosovo.empty else neighbours[is_kosovo]
    others = neighbours[~is_kosovo]
    rows = _label_rows(_labels(lang, neighbours, municipalities))
    if languages:
        # The same place in each language: same kind and point (names differ, so does their order).
        names: dict[tuple, dict[str, str]] = {}
        for other in languages:
            for r in _label_rows(_labels(other, neighbours, municipalities)):
                names.setdefault((r["k"], r["lat"], r["lon"]), {})[other] = r["n"]
        for r in rows:
            r["names"] = names.get((r["k"], r["lat"], r["lon"]), {})
    payload = {
        "neighbours": _geojson(others),
        "kosovo": _geojson(outline[["geometry"]]) if not outline.empty else None,
        "labels": rows,
    }
    attributions = [NEIGHBOURS_ATTRIBUTION, TOWNS_ATTRIBUTION, PLACES_ATTRIBUTION]
    return payload, attributions


def _labels(lang: str, neighbours: gpd.GeoDataFrame, municipalities: gpd.GeoDataFrame | None) -> pd.DataFrame:
    """Every label in ``lang``: places, countries and (when given) municipalities, most important first."""
    labels = map_labels(lang)
    extra = []
    for name, point in zip(neighbours["name"], neighbours.geometry.representative_point()):
        extra.append({"name": name, "lat": point.y, "lon": point.x, "kind": "country",
                      "min_zoom": COUNTRY_LABEL_ZOOM[0], "max_zoom": COUNTRY_LABEL_ZOOM[1], "priority": 0})
    if municipalities is not None and not municipalities.empty:
        for name, point in zip(municipalities["municipality"], municipalities.geometry.representative_point()):
            extra.append({"name": display_name(name, lang), "lat": point.y, "lon": point.x, "kind": "municipality",
                          "min_zoom": 9, "max_zoom": 12, "priority": 25})
    if extra:
        labels = pd.concat([labels, pd.DataFrame(extra)], ignore_index=True)
        labels = labels.sort_values(["priority", "name"], kind="stable")
    if "max_zoom" not in labels:
        labels["max_zoom"] = 22
    labels["max_zoom"] = labels["max_zoom"].fillna(22)
    return labels


def _geojson(gdf: gpd.GeoDataFrame) -> dict:
    import json

    return json.loads(gdf[["geometry"]].to_json(drop_id=True))


def label_names(payload: dict) -> list[str]:
    """The label texts in a :func:`geography_payload` (for tests and the PNG)."""
    return [html.unescape(l["n"]) for l in payload["labels"]]
