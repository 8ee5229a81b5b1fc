"""A sequence step-through control for a folium map (top left, under the zoom buttons): choose a sequence, step with ◀ ▶.

Each step shows its incident (ring marker; earlier steps smaller, joined by a path), zooms to the
step's extent (:func:`geodata.curation.sequences.step_view`, computed in EPSG:32634), and shows the step's
relation, date, summary, verification status and every source, plus a small timeline of the whole
sequence. Pure Leaflet (no plugin), so it works offline. The open sequence and step live in the
page's address (``#seq=ID&step=K``), so a link opens the same step.

Every string from data is either escaped server-side (HTML snippets) or set with ``textContent``
in the browser; the payload is embedded with :func:`layers.html.script_json`.
"""

from __future__ import annotations

import folium
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from geodata.curation.joined import Curation, annotate
from geodata.curation.sequences import RELATION_TEXT, Sequence, step_view
from layers.curation_html import sources_html, status_html
from layers.html import script_json


def _date(value: object) -> str:
    if value is None or pd.isna(value):
        return ""
    return pd.Timestamp(value).strftime("%Y-%m-%d")


def sequence_payload(sequences: list[Sequence], incidents: pd.DataFrame, curation: Curation | None = None) -> list[dict]:
    """The control's data: per sequence, its steps with place, date, extent, summary, status and sources.

    Args:
        sequences: the sequences to offer.
        incidents: incident rows (annotated with :func:`geodata.curation.joined.annotate`, or annotated
            here with ``curation``); steps whose incident is not among them are left out, and a
            sequence with no step left is not offered.
        curation: used when ``incidents`` is not annotated yet.
    Returns:
        A JSON-ready list; ``name``/``summary``/``relation`` are plain text, ``sources``/``status`` escaped HTML.
    """
    if "sources" not in incidents and curation is not None:
        incidents = annotate(incidents, curation)
    rows = incidents.drop_duplicates("event_id_cnty").set_index("event_id_cnty", drop=False)
    out = []
    for q in sequences:
        steps = []
        for s in q.steps:
            if s.event_id_cnty not in rows.index:
                continue
            r = rows.loc[s.event_id_cnty]
            view = step_view(q, incidents, s.step)
            steps.append({
                "n": s.step, "id": s.event_id_cnty, "relation": RELATION_TEXT.get(s.relation, s.relation),
                "summary": s.summary, "date": _date(r.get("event_date")), "place": str(r.get("location") or ""),
                "lat": round(float(r["latitude"]), 5), "lon": round(float(r["longitude"]), 5),
                "bounds": view.bounds, "sources": sources_html(r.get("sources") if isinstance(r.get("sources"), list) else []),
                "status": status_html(r.get("verification_status"), r.get("status_reason")) if "verification_status" in r else "",
            })
        if steps:
            out.append({"id": q.sequence_id, "name": q.name, "total": len(q.steps), "steps": steps})
    return out


class SequenceControl(MacroElement):
    """The step-through control (see the module docstring)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var data = {{ this.payload_json }};
            var layer = L.featureGroup().addTo(map);
            var state = {q: -1, k: 0};  // no sequence until the reader picks one (or the link names one)
            var ctl = L.control({position: "topleft"});
            // On a phone the box keeps to the upper left corner and scrolls, so the map stays visible.
            var narrow = document.createElement("style");
            narrow.textContent = "@media (max-width: 600px) { .cm-sequence { width: 60vw !important; max-height: 30vh !important; " +
                "font-size: 11px !important; } .cm-seq-select { max-width: 55vw !important; } }";
            document.head.appendChild(narrow);  // bottom-left holds the legend
            function el(tag, cls, parent) { var e = L.DomUtil.create(tag, cls, parent); return e; }
            ctl.onAdd = function () {
                var box = el("div", "cm-sequence");
                box.style.cssText = "background:rgba(255,255,255,.96);padding:4px 8px;border:1px solid #999;border-radius:4px;" +
                    "font:12px/1.4 sans-serif;max-width:80vw;max-height:45vh;overflow:auto";
                L.DomEvent.disableClickPropagation(box);
                L.DomEvent.disableScrollPropagation(box);
                var head = el("div", "", box); head.innerHTML = "<b>Sequence</b> ";
                var sel = el("select", "cm-seq-select", head); sel.style.maxWidth = "210px";
                var none = document.createElement("option"); none.value = -1; none.textContent = "Step through…"; sel.appendChild(none);
                data.forEach(function (q, i) { var o = document.createElement("option"); o.value = i; o.textContent = q.name; sel.appendChild(o); });
                var details = el("div", "cm-seq-details", box); details.style.width = "300px"; details.style.maxWidth = "78vw";
                var nav = el("div", "", details); nav.style.margin = "4px 0";
                var prev = el("button", "cm-seq-prev", nav); prev.type = "button"; prev.textContent = "◀ Previous";
                var label = el("span", "cm-seq-label", nav); label.style.margin = "0 6px";
                var next = el("button", "cm-seq-next", nav); next.type = "button"; next.textContent = "Next ▶";
                var line = el("div", "cm-seq-timeline", details);
                line.style.cssText = "position:relative;height:14px;margin:4px 6px;border-bottom:2px solid #bbb";
                var rel = el("div", "cm-seq-relation", details); rel.style.color = "#555";
                var summary = el("div", "cm-seq-summary", details); summary.style.fontWeight = "bold";
                var status = el("div", "cm-seq-status", details);
                var sources = el("div", "cm-seq-sources", details);
                function show() {
                    sel.value = state.q;
                    if (state.q < 0) {  // the whole selection stays in view; the box is just the chooser
                        details.style.display = "none"; layer.clearLayers(); return;
                    }
                    details.style.display = "";
                    var q = data[state.q], s = q.steps[state.k];
                    label.textContent = "Step " + (state.k + 1) + " of " + q.steps.length;
                    prev.disabled = state.k === 0; next.disabled = state.k === q.steps.length - 1;
                    rel.textContent = (state.k === 0 ? "Start" : "… " + s.relation) + " · " + s.date + " · " + s.place + " · " + s.id;
                    summary.textContent = s.summary;
                    status.innerHTML = s.status;  // escaped server-side
                    sources.innerHTML = s.sources ? "<b>Sources:</b>" + s.sources : "";
                    layer.clearLayers();
                    var path = [];
                    for (var i = 0; i <= state.k; i++) {
                        var p = q.steps[i], cur = i === state.k;
                        path.push([p.lat, p.lon]);
                        L.circleMarker([p.lat, p.lon], {radius: cur ? 14 : 8, color: cur ? "#d62728" : "#333", weight: cur ? 4 : 2,
                            fill: false, className: cur ? "cm-seq-step cm-seq-current" : "cm-seq-step"})
                            .bindTooltip("Step " + (i + 1)).addTo(layer);
                    }
                    if (path.length > 1) { L.polyline(path, {color: "#d62728", weight: 2, dashArray: "5 5", className: "cm-seq-path"}).addTo(layer); }
                    if (s.bounds) { map.fitBounds(s.bounds, {maxZoom: 15, animate: false}); }
                    line.innerHTML = "";
                    var t0 = Date.parse(q.steps[0].date), t1 = Date.parse(q.steps[q.steps.length - 1].date), span = Math.max(t1 - t0, 1);
                    q.steps.forEach(function (p, i) {
                        var dot = el("span", i === state.k ? "cm-seq-dot cm-seq-dot-current" : "cm-seq-dot", line);
                        var x = q.steps.length === 1 ? 50 : (t1 === t0 ? 100 * i / (q.steps.length - 1) : 100 * (Date.parse(p.date) - t0) / span);
                        dot.title = p.date;
                        dot.style.cssText = "position:absolute;top:" + (i === state.k ? 2 : 4) + "px;left:calc(" + x + "% - 5px);width:" +
                            (i === state.k ? 12 : 8) + "px;height:" + (i === state.k ? 12 : 8) + "px;border-radius:50%;background:" +
                            (i <= state.k ? "#d62728" : "#bbb");
                    });
                    try { history.replaceState(null, "", "#seq=" + encodeURIComponent(q.id) + "&step=" + (state.k + 1)); } catch (e) {}
                }
                sel.onchange = function () {
                    state.q = +sel.value; state.k = 0; show();
                    if (state.q < 0) { try { history.replaceState(null, "", location.pathname + location.search); } catch (e) {} }
                };
                prev.onclick = function () { if (state.k > 0) { state.k--; show(); } };
                next.onclick = function () { if (state.k < data[state.q].steps.length - 1) { state.k++; show(); } };
                // The address's #seq=ID&step=K chooses the sequence and step, on opening and whenever the
                // reader edits it in an open tab. A hash that cannot be decoded (#seq=%E0%A4%A) or names
                // no sequence is ignored: the control stays as it is.
                function fromHash() {
                    var m = /seq=([^&]+)(?:&step=(\\d+))?/.exec(location.hash || "");
                    if (!m) { return false; }
                    var want;
                    try { want = decodeURIComponent(m[1]); } catch (e) { return false; }
                    var found = -1;
                    data.forEach(function (q, i) { if (q.id === want) { found = i; } });
                    if (found < 0) { return false; }
                    state.q = found; state.k = 0;
                    if (m[2]) { state.k = Math.min(Math.max(+m[2] - 1, 0), data[found].steps.length - 1); }
                    return true;
                }
                fromHash();
                window.addEventListener("hashchange", function () { if (fromHash()) { show(); } });
                setTimeout(show, 0);
                return box;
            };
            if (data.length) { ctl.addTo(map); }
        })();
        {% endmacro %}
    """)

    def __init__(self, payload: list[dict]):
        super().__init__()
        self._name = "SequenceControl"
        self.payload = payload
        self.payload_json = script_json(payload)


def add_sequence_control(m: folium.Map, sequences: list[Sequence], incidents: pd.DataFrame,
                         curation: Curation | None = None) -> SequenceControl | None:
    """Add the step-through control to ``m`` when at least one sequence has an incident among ``incidents``.

    Returns:
        The control, or ``None`` when there is nothing to step through.
    """
    payload = sequence_payload(sequences, incidents, curation)
    if not payload:
        return None
    control = SequenceControl(payload)
    control.add_to(m)
    return control
