"""Incident points layer: validated point GeoDataFrame in, one Leaflet layer out.

The representation is chosen by size (see :func:`choose_representation`), following what
scalable web maps do: individual circle markers with full popups for small selections, markers
clustered in the browser (Leaflet.markercluster, compact columnar payload, popups built lazily)
for large ones, and H3 hexagons (counts per cell, :mod:`geodata.query.aggregate`) beyond that. Data is embedded once as columnar JSON
instead of one folium element per row, which is what makes 100,000 points cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import h3
import numpy as np
import pandas as pd
from branca.element import CssLink, Element, JavascriptLink
from folium.elements import ElementAddToElement, JSCSSMixin
from folium.template import Template

from geodata.query.aggregate import aggregate_by_hexagon
from geodata.geo.placenames import display_name
from geodata.model.precision import date_text, location_precision_text, uncertainty_radius_m
from geodata.model.schema import EVENT_TYPES
from layers.curation_html import fatalities_html, sources_html, status_html, status_outline
from layers.html import esc, safe_link, safe_url, script_json
from layers.style import UNKNOWN_COLOR, event_color, marker_radius

#: Up to this many incidents, one circle marker each with a full popup.
MARKER_LIMIT = 2_000
#: Up to this many, markers clustered in the browser; beyond, aggregated to H3 hexagons.
CLUSTER_LIMIT = 200_000
#: H3 resolution of the aggregated representation: resolution 7 hexagons average 5.2 km²
#: (about 1.4 km a side), a few thousand cells at most over Kosovo, so the page stays small.
HEX_RESOLUTION = 7
NOTES_MAX_CHARS = 700
#: Sequential colours for hexagon counts (ColorBrewer YlOrRd, 6 classes on a log scale of the count).
COUNT_RAMP = ("#ffffb2", "#fed976", "#feb24c", "#fd8d3c", "#f03b20", "#bd0026")
#: Largest source table (JSON bytes) embedded for cluster popups; see :func:`_source_table`.
SOURCE_TABLE_MAX_BYTES = 1_000_000


def choose_representation(n: int) -> str:
    """``"markers"`` (n ≤ MARKER_LIMIT), ``"cluster"`` (n ≤ CLUSTER_LIMIT) or ``"aggregate"``."""
    if n <= MARKER_LIMIT:
        return "markers"
    if n <= CLUSTER_LIMIT:
        return "cluster"
    return "aggregate"


def _fmt_date(value: object) -> str:
    ts = pd.Timestamp(value) if value is not None and value == value else None
    return "" if ts is None or pd.isna(ts) else ts.strftime("%Y-%m-%d")


#: The columns :func:`popup_html` and :func:`tooltip_text` read (any may be absent).
POPUP_COLUMNS = (
    "event_id_cnty", "event_date", "time_precision", "event_type", "sub_event_type", "actor1", "actor2",
    "assoc_actor_1", "assoc_actor_2", "location", "municipality", "admin2", "admin2_mismatch", "geo_precision",
    "fatalities", "notes", "source", "source_url", "sources", "aliases", "verification_status", "status_reason",
    "nearest_route", "dist_route_m", "nearest_site", "dist_site_m",
)


def popup_html(row: Mapping[str, Any], lang: str = "en") -> str:
    """Full popup for one incident; every value escaped, links http(s) only.

    Dates say how precise they are ("week of …"), places use the display language's name
    (:func:`geodata.geo.placenames.display_name`) and say how precise the location is.
    """
    notes = str(row.get("notes", "") or "")
    if len(notes) > NOTES_MAX_CHARS:
        notes = notes[:NOTES_MAX_CHARS] + "…"
    actors = " vs ".join(esc(a) for a in (row.get("actor1"), row.get("actor2")) if a)
    assoc = "; ".join(esc(a) for a in (row.get("assoc_actor_1"), row.get("assoc_actor_2")) if a)
    names = [display_name(p, lang) for p in (row.get("location"), row.get("municipality") or row.get("admin2")) if p]
    place = ", ".join(esc(p) for p in dict.fromkeys(n for n in names if n))
    when = date_text(row.get("event_date"), row.get("time_precision", 1))
    rows = [
        f"<b>{esc(when)} · {esc(row.get('sub_event_type'))}</b>",
        f"<i>{esc(row.get('event_type'))}</i>",
        f"<b>Where:</b> {place} <small>({esc(location_precision_text(row.get('geo_precision', 1)))})</small>",
        f"<b>Actors:</b> {actors}" + (f" <small>(with {assoc})</small>" if assoc else ""),
        f"<b>Fatalities:</b> {fatalities_html(row.get('fatalities'), row.get('verification_status'))}",
    ]
    if row.get("verification_status"):
        rows.append(status_html(row.get("verification_status"), row.get("status_reason")))
    if row.get("admin2_mismatch") is True:
        rows.append(f"<b>Note:</b> stated municipality {esc(row.get('admin2'))} differs from the coordinates")
    for label, col, dcol in (("Nearest route", "nearest_route", "dist_route_m"), ("Nearest site", "nearest_site", "dist_site_m")):
        dist = row.get(dcol)
        if row.get(col) and dist is not None and dist == dist:
            rows.append(f"<b>{label}:</b> {esc(row.get(col))} ({float(dist) / 1000:.1f} km)")
    rows.append(f'<div style="margin-top:4px">{esc(notes)}</div>')
    source = esc(row.get("source"))
    url = row.get("source_url")
    listed = row.get("sources")
    if isinstance(listed, list) and len(listed) > 1:  # every source of an annotated incident (geodata.curation.joined)
        rows.append(f"<b>Sources ({len(listed)}):</b>" + sources_html(listed))
    elif isinstance(listed, list) and listed:
        one = listed[0]
        rows.append(f"<b>Source:</b> {esc(one.get('outlet'))}"
                    + (f" — {safe_link(one.get('url'), 'report')}" if safe_url(one.get("url")) else ""))
    else:
        rows.append(f"<b>Source:</b> {source}" + (f" — {safe_link(url, 'report')}" if url else ""))
    if row.get("aliases"):
        rows.append(f"<small>Merged with {esc(row.get('aliases'))}</small>")
    rows.append(f"<small>{esc(row.get('event_id_cnty'))}</small>")
    return '<div class="cm-popup" style="max-width:320px">' + "<br>".join(rows) + "</div>"


def _source_html(source: str, url: str) -> str:
    """Escaped source name, with a link to the report when the URL is http(s)."""
    return esc(source) + (f" — {safe_link(url, 'report')}" if url else "")


#: Between the parts of a tooltip; the last part is the event id (see :func:`event_id_of_tooltip`).
TOOLTIP_SEP = " · "


def tooltip_text(row: Mapping[str, Any], lang: str = "en") -> str:
    """One-line tooltip (escaped): date (as precise as known), sub-event type, place (display name) and
    the event id — the dashboard finds the clicked incident by that id, also when its marker is drawn
    away from its own position (spread out of a co-location ring)."""
    when = date_text(row.get("event_date"), row.get("time_precision", 1))
    parts = [when, row.get("sub_event_type", ""), display_name(row.get("location", ""), lang),
             row.get("event_id_cnty") or ""]
    return esc(TOOLTIP_SEP.join(str(p) for p in parts if p is not None).rstrip(" ·"))


def event_id_of_tooltip(text: object) -> str | None:
    """The event id a tooltip of :func:`tooltip_text` ends with (the browser hands back its plain text)."""
    if not isinstance(text, str) or TOOLTIP_SEP not in text:
        return None
    return text.rsplit(TOOLTIP_SEP, 1)[1].strip() or None


@dataclass(frozen=True)
class Payload:
    """Columnar data for the browser, and which representation it is for."""

    mode: str
    data: dict

    @property
    def size_bytes(self) -> int:
        """Size of the JSON embedded in the page."""
        return len(script_json(self.data).encode("utf-8"))


def _hexagon_payload(incidents: gpd.GeoDataFrame, types: list[str], colors: list[str]) -> dict:
    """Aggregate-mode data: one H3 hexagon per occupied cell (see :mod:`geodata.query.aggregate`).

    ``lat``/``lon`` are cell centres, ``hex`` each cell's outline as a flat [lat, lon, …] list
    (drawn as-is: the browser needs no H3 library), ``n``/``f`` incident and fatality sums and
    ``t`` the index of the dominant event type.
    """
    agg = aggregate_by_hexagon(incidents, HEX_RESOLUTION)
    centres = [h3.cell_to_latlng(c) for c in agg.index]
    outlines = [[round(v, 5) for ll in h3.cell_to_boundary(c) for v in ll] for c in agg.index]
    type_pos = {t: i for i, t in enumerate(types)}
    return {
        "lat": [round(c[0], 5) for c in centres], "lon": [round(c[1], 5) for c in centres],
        "hex": outlines, "res": HEX_RESOLUTION, "ramp": list(COUNT_RAMP),
        "nmax": int(agg["incidents"].max()) if len(agg) else 1,
        "n": agg["incidents"].astype(int).tolist(), "f": agg["fatalities"].astype(int).tolist(),
        "t": [type_pos.get(t, len(types)) for t in agg["dominant_type"]],
        # Per-cell counts per event type (in ``types`` order): the tooltip shows the mix.
        "m": agg[list(types)].astype(int).to_numpy().tolist() if set(types) <= set(agg.columns) else [],
        "types": types, "colors": colors, "total": int(len(incidents)),
    }


def build_payload(incidents: gpd.GeoDataFrame, mode: str | None = None, lang: str = "en") -> Payload:
    """Columnar JSON for :class:`IncidentLayer` in the given (or size-chosen) representation.

    Args:
        incidents: validated (optionally enriched) incident layer.
        mode: ``"markers"``, ``"cluster"``, ``"aggregate"`` or ``None`` to choose by size.
    Returns:
        A :class:`Payload`; strings in it are already HTML-escaped.
    """
    mode = mode or choose_representation(len(incidents))
    types = list(EVENT_TYPES)
    colors = [event_color(t) for t in types] + [UNKNOWN_COLOR]
    if incidents.empty:
        return Payload(mode, {"lat": [], "lon": [], "t": [], "types": types, "colors": colors})
    if mode == "aggregate":
        return Payload(mode, _hexagon_payload(incidents, types, colors))
    type_idx = pd.Categorical(incidents["event_type"], categories=types).codes
    type_idx = np.where(type_idx < 0, len(types), type_idx)
    fat = incidents["fatalities"].fillna(0).astype(int).to_numpy()
    data: dict = {
        "lat": incidents.geometry.y.round(5).tolist(),
        "lon": incidents.geometry.x.round(5).tolist(),
        "t": type_idx.astype(int).tolist(),
        "f": fat.tolist(),
        "types": types, "colors": colors,
    }
    if mode == "markers":
        # Popups list every source and the verification status when the caller joined them (the
        # service does: geodata.service.curation.curated); drawing never reads the store itself.
        # Plain dicts, one per row: a pandas row (iterrows) costs more than the popup built from it.
        used = [c for c in POPUP_COLUMNS if c in incidents.columns]
        rows = pd.DataFrame(incidents[used]).to_dict("records")
        data["r"] = [marker_radius(v) for v in fat]
        data["popup"] = [popup_html(r, lang) for r in rows]
        data["tip"] = [tooltip_text(r, lang) for r in rows]
        data["id"] = [esc(v) for v in incidents["event_id_cnty"].tolist()]
        # Area of plausible location (metres) for geo_precision 2/3 (see geodata.model.precision).
        gp = incidents["geo_precision"] if "geo_precision" in incidents else pd.Series(1, index=incidents.index)
        data["u"] = [uncertainty_radius_m(v) for v in gp]
        if "verification_status" in incidents:  # outline colour = verification status (see the legend)
            outlines = [status_outline(v) for v in incidents["verification_status"]]
            data["oc"], data["ow"] = [o[0] for o in outlines], [o[1] for o in outlines]
    else:
        # Cluster mode: a compact payload; popups are assembled on click from shared tables.
        dates = pd.to_datetime(incidents["event_date"])
        day0 = dates.min().normalize()
        data["d0"] = day0.strftime("%Y-%m-%d")
        data["d"] = (dates - day0).dt.days.astype(int).tolist()
        loc_codes, locs = pd.factorize(incidents["location"].fillna("").astype(str))
        data["loc"] = loc_codes.tolist()
        data["locs"] = [esc(display_name(v, lang)) for v in locs]
        # Date precision and location precision per incident, as small codes (wording in the page).
        tp = incidents["time_precision"] if "time_precision" in incidents else pd.Series(1, index=incidents.index)
        gp = incidents["geo_precision"] if "geo_precision" in incidents else pd.Series(1, index=incidents.index)
        data["tp"] = pd.to_numeric(tp, errors="coerce").fillna(1).astype(int).clip(1, 3).tolist()
        data["gp"] = pd.to_numeric(gp, errors="coerce").fillna(1).astype(int).clip(1, 3).tolist()
        data["src"], data["srcs"] = _source_table(incidents)
    return Payload(mode, data)


def _source_table(incidents: gpd.GeoDataFrame) -> tuple[list[int], list[str]]:
    """Cluster popups' sources: per-incident codes into one shared table of escaped snippets.

    Sources repeat across incidents, so "source — report link" is stored once per distinct pair.
    When nearly every incident has its own report URL the table would dominate the page (100,000
    distinct links are over 10 MB); beyond :data:`SOURCE_TABLE_MAX_BYTES` the table holds source
    names only and the popup says that a narrower selection shows the link.
    """
    names = incidents["source"].fillna("").astype(str) if "source" in incidents else pd.Series("", index=incidents.index)
    urls = incidents["source_url"].fillna("").astype(str) if "source_url" in incidents else pd.Series("", index=incidents.index)
    codes, uniques = pd.factorize(names + "\x00" + urls)
    # Each snippet is its text plus ~100 bytes of link markup; estimate before escaping 100,000 of them.
    estimate = int(pd.Series(uniques, dtype="str").str.len().sum()) + 100 * len(uniques)
    table = [] if estimate > SOURCE_TABLE_MAX_BYTES else [_source_html(*k.split("\x00", 1)) for k in uniques]
    if estimate > SOURCE_TABLE_MAX_BYTES or len(script_json(table)) > SOURCE_TABLE_MAX_BYTES:
        codes, uniques = pd.factorize(names)
        table = [esc(n) + " <small>(narrow the filters for the report link)</small>" for n in uniques]
    return codes.tolist(), table


class _Text(Element):
    """Text already rendered, put in the page as it is (not compiled as a template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: object) -> str:
        return self.text


class IncidentLayer(JSCSSMixin, folium.map.Layer):
    """The incident overlay, drawn in the browser from a :class:`Payload`."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var d = {{ this.payload_json }};
            var mode = {{ this.mode_json }};
            // Hexagons stay on the map while the page re-sends the same selection: the dashboard's
            // map gets its layers again whenever any of them changes (the incidents in view after a
            // pan), and building and adding thousands of cells again stalled the pan. The cells are
            // kept per payload (key) and a light stand-in takes their place in the layer group; its
            // removal waits one tick, so a stand-in for the same cells added meanwhile keeps them.
            var cache = window.cmSticky || (window.cmSticky = {order: [], entries: {}});
            var key = {{ this.cache_key_json }};
            function standIn(entry) {
                var StandIn = L.Layer.extend({
                    onAdd: function (map) {
                        entry.on += 1;
                        if (entry.timer) { clearTimeout(entry.timer); entry.timer = null; }
                        if (!map.hasLayer(entry.layer)) { map.addLayer(entry.layer); }
                    },
                    onRemove: function (map) {
                        entry.on -= 1;
                        if (entry.timer) { clearTimeout(entry.timer); }
                        entry.timer = setTimeout(function () {
                            entry.timer = null;
                            if (entry.on <= 0 && map.hasLayer(entry.layer)) { map.removeLayer(entry.layer); }
                        }, 0);
                    },
                    getBounds: function () { return entry.layer.getBounds(); }
                });
                return new StandIn();
            }
            if (mode === "aggregate" && cache.entries[key]) { return standIn(cache.entries[key]); }
            // Clusters show how many incidents they hold (number, size) and their mix of event
            // types as a ring (conic gradient), not the colour of the most frequent type.
            function clusterIcon(cluster) {
                var kids = cluster.getAllChildMarkers(), tally = {}, order = [];
                for (var j = 0; j < kids.length; j++) {
                    var c = kids[j].options.fillColor;
                    if (!tally[c]) { tally[c] = 0; order.push(c); }
                    tally[c] += 1;
                }
                var n = cluster.getChildCount(), size = n < 10 ? 30 : n < 100 ? 36 : n < 1000 ? 42 : 48;
                var stops = [], acc = 0;
                d.colors.forEach(function (c) {
                    if (!tally[c]) { return; }
                    var a0 = acc; acc += 360 * tally[c] / kids.length;
                    stops.push(c + " " + a0.toFixed(1) + "deg " + acc.toFixed(1) + "deg");
                });
                var label = n.toLocaleString("en") + " incidents here: " + d.colors.filter(function (c) { return tally[c]; }).map(function (c) {
                    return tally[c] + " " + d.types[d.colors.indexOf(c)]; }).join(", ");
                return L.divIcon({className: "marker-cluster cm-cluster", iconSize: L.point(size, size),
                    html: '<div class="cm-cluster-ring" role="button" aria-label="' + label + '" title="' + label +
                          '" style="margin:0;width:' + size + 'px;height:' + size + 'px;border-radius:50%;' +
                          'background:conic-gradient(' + stops.join(",") + ');display:flex;align-items:center;' +
                          'justify-content:center;box-shadow:0 0 0 1px #222"><span style="background:#fff;' +
                          'border-radius:50%;width:' + (size - 12) + 'px;height:' + (size - 12) + 'px;line-height:' +
                          (size - 12) + 'px;text-align:center;font:bold 11px sans-serif;color:#111">' + n.toLocaleString("en") +
                          '</span></div>'});
            }
            // Markers: co-located incidents (closer than 14 px) join a small cluster that shows their
            // count and spreads them out on click (spiderfy), so every incident can be opened.
            // chunkedLoading stays off: with markercluster 1.1.0 (the offline copy) a fitBounds pan
            // during chunked loading throws in _moveEnd ("reading 'lat'") and no cluster is drawn.
            var group = mode === "aggregate" ? L.featureGroup()
                : L.markerClusterGroup({chunkedLoading: false, showCoverageOnHover: false,
                                        maxClusterRadius: mode === "markers" ? 14 : 50,
                                        spiderfyDistanceMultiplier: 1.6, iconCreateFunction: clusterIcon});
            var areas = L.featureGroup(), drawnAreas = {};
            var renderer = mode === "markers" ? undefined : L.canvas({padding: 0.5, pane: "cmIncidents"});
            function esc(s) { return String(s); }  // strings in d are escaped server-side
            var DATEP = {2: "week of ", 3: "month of "};
            var GEOP = {1: "location exact (named place)", 2: "location approximate (town level)",
                        3: "location approximate (region level)"};
            // Keep opened popups clear of the title box at the top of exported maps.
            var popupOpts = {maxWidth: 340, autoPanPaddingTopLeft: L.point(20, 90)};
            for (var i = 0; i < d.lat.length; i++) {
                var m;
                if (mode === "aggregate") {
                    var ring = [];
                    for (var k = 0; k < d.hex[i].length; k += 2) { ring.push([d.hex[i][k], d.hex[i][k + 1]]); }
                    // Sequential colour by count (log scale): where incidents concentrate, not which type wins.
                    var lv = Math.min(1, Math.log(1 + d.n[i]) / Math.log(1 + d.nmax));
                    var mix = (d.m[i] || []).map(function (v, j) { return v ? v + " " + d.types[j] : ""; })
                        .filter(Boolean).join(", ");
                    m = L.polygon(ring, {renderer: renderer, color: "#333", weight: 0.4, pane: "cmIncidents",
                        fillColor: d.ramp[Math.min(d.ramp.length - 1, Math.floor(lv * d.ramp.length))],
                        fillOpacity: 0.8, className: "cm-cell"});
                    m.bindTooltip(d.n[i] + (d.n[i] === 1 ? " incident" : " incidents") + ", " + d.f[i] +
                                  (d.f[i] === 1 ? " fatality" : " fatalities") + (mix ? " (" + mix + ")" : ""));
                } else if (mode === "markers") {
                    m = L.circleMarker([d.lat[i], d.lon[i]], {radius: d.r[i], color: d.oc ? d.oc[i] : "#222",
                        weight: d.ow ? d.ow[i] : 1, pane: "cmIncidents",
                        fillColor: d.colors[d.t[i]], fillOpacity: 0.9, className: "cm-incident"});
                    m.bindPopup(d.popup[i], popupOpts);
                    m.bindTooltip(d.tip[i], {pane: "tooltipPane"});
                    m.options.cmId = d.id[i];
                    var ukey = d.lat[i] + "," + d.lon[i] + "," + (d.u ? d.u[i] : 0);
                    if (d.u && d.u[i] > 0 && !drawnAreas[ukey]) {
                        drawnAreas[ukey] = true;  // one circle per spot and level, however many incidents share it
                        // An area of plausible location instead of a false pin-point (geo_precision 2/3).
                        // Drawn faint, and the wider the fainter: a precise incident stays the eye's first
                        // stop, and a region-level circle (25 km) does not frame the whole view.
                        var wide = d.u[i] > 10000;
                        areas.addLayer(L.circle([d.lat[i], d.lon[i]], {radius: d.u[i], pane: "cmUncertainty",
                            interactive: false, color: d.colors[d.t[i]], weight: wide ? 0.8 : 1.2,
                            opacity: wide ? 0.35 : 0.6, dashArray: wide ? "2 6" : "4 4",
                            fillColor: d.colors[d.t[i]], fillOpacity: wide ? 0 : 0.06,
                            className: "cm-uncertainty" + (wide ? " cm-uncertainty-wide" : "")}));
                    }
                } else {
                    m = L.circleMarker([d.lat[i], d.lon[i]], {renderer: renderer, pane: "cmIncidents",
                        radius: 5 + 3 * Math.sqrt(d.f[i]), color: "#222", weight: 1,
                        fillColor: d.colors[d.t[i]], fillOpacity: 0.85});
                    m.bindPopup((function (k) { return function () {
                        var day = new Date(d.d0 + "T00:00:00Z"); day.setUTCDate(day.getUTCDate() + d.d[k]);
                        var tp = d.tp ? d.tp[k] : 1, gp = d.gp ? d.gp[k] : 1, when;
                        if (tp === 2) { day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7)); }
                        when = tp === 3 ? "month of " + day.toISOString().slice(0, 7) : (DATEP[tp] || "") + day.toISOString().slice(0, 10);
                        return '<div class="cm-popup"><b>' + when + " · " + d.types[d.t[k]] + "</b><br>" +
                               esc(d.locs[d.loc[k]]) + " <small>(" + GEOP[gp] + ")</small><br>Fatalities: " + d.f[k] +
                               "<br><b>Source:</b> " + d.srcs[d.src[k]] +
                               "<br><small>Narrow the filters for full details.</small></div>";
                    }; })(i), popupOpts);
                }
                group.addLayer(m);
            }
            group = L.featureGroup([areas, group]);
            if (mode !== "aggregate") { return group; }
            cache.entries[key] = {layer: group, on: 0, timer: null};
            cache.order.push(key);
            // The last few selections are kept; older cells are let go once nothing shows them.
            cache.order = cache.order.filter(function (k, i, all) {
                if (i >= all.length - 3 || cache.entries[k].on > 0) { return true; }
                delete cache.entries[k];
                return false;
            });
            return standIn(cache.entries[key]);
        })();
        {% endmacro %}
    """)

    default_js = [
        ("markerclusterjs", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js"),
    ]
    default_css = [
        ("markerclustercss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css"),
        ("markerclusterdefaultcss", "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css"),
    ]

    def render(self, **kwargs: object) -> None:
        """Render as folium does (links, the add-to-parent statement, the macros, the children), but
        hand the rendered script to the page as text: branca wraps it in an ``Element``, which
        compiles it as a Jinja template — a megabyte of payload JSON lexed on every render."""
        figure = self.get_root()
        for name, url in self.default_js:
            figure.header.add_child(JavascriptLink(url), name=name)
        for name, url in self.default_css:
            figure.header.add_child(CssLink(url), name=name)
        if self.show:
            self.add_child(ElementAddToElement(element_name=self.get_name(),
                                               element_parent_name=self._parent.get_name()),
                           name=self.get_name() + "_add")
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                getattr(figure, part).add_child(_Text(macro(self, kwargs)), name=self.get_name())
        for child in self._children.values():
            child.render(**kwargs)

    def __init__(self, payload: Payload, name: str = "Incidents", show: bool = True):
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "IncidentLayer"
        self.payload = payload
        self.payload_json = script_json(payload.data)
        self.mode_json = script_json(payload.mode)
        # Names the drawn hexagons in the browser (see the template): the same selection, the same key.
        self.cache_key_json = script_json(hashlib.sha1(self.payload_json.encode()).hexdigest()
                                          if payload.mode == "aggregate" else "")
        if payload.mode == "aggregate":
            self.default_js, self.default_css = [], []


def incident_layer(incidents: gpd.GeoDataFrame, mode: str | None = None, name: str | None = None,
                   lang: str = "en") -> IncidentLayer:
    """Build the incident overlay.

    Args:
        incidents: validated (optionally enriched) incident layer.
        mode: force a representation; ``None`` chooses by size.
        name: label in the layer control (defaults to "Incidents (N)").
    Returns:
        A folium layer ready to add to a map.
    """
    payload = build_payload(incidents, mode, lang)
    label = name or f"Incidents ({len(incidents):,})" + ("" if payload.mode == "markers" else f" — {payload.mode}")
    return IncidentLayer(payload, name=label)


class _DimAggregates(folium.MacroElement):
    """While its layer is on the map, the hexagons and the municipality colours under it are drawn
    faint (the map container gets the class ``cm-in-view``): at street zoom one hexagon's or one
    municipality's fill would otherwise colour the whole view behind the single incidents."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }};
            if (!document.getElementById("cm-in-view-css")) {
                var css = document.createElement("style");
                css.id = "cm-in-view-css";
                css.textContent = ".cm-in-view .leaflet-cmIncidents-pane > canvas{opacity:.18}" +
                    ".cm-in-view .leaflet-cmChoropleth-pane{opacity:.35}";
                document.head.appendChild(css);
            }
            group.on("add", function () { group._map.getContainer().classList.add("cm-in-view"); });
            group.on("remove", function () { if (group._map) { group._map.getContainer().classList.remove("cm-in-view"); } });
        })();
        {% endmacro %}
    """)


def in_view_group(incidents: gpd.GeoDataFrame, lang: str = "en") -> folium.FeatureGroup:
    """The incidents inside the reader's view, drawn one by one with full popups over the hexagons
    of a large selection (which are drawn faint meanwhile), as "Incidents in view (N)".

    Args:
        incidents: the rows inside the view (every column, curation joined by the caller).
        lang: display language of place names.
    Returns:
        A FeatureGroup for ``st_folium(feature_group_to_add=...)``.
    """
    group = folium.FeatureGroup(name=f"Incidents in view ({len(incidents):,})", overlay=True, control=True)
    incident_layer(incidents, "markers", lang=lang).add_to(group)
    _DimAggregates().add_to(group)
    return group
