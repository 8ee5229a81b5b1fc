"""Shared styling: event-type colours, marker sizes, the legend."""

from __future__ import annotations

import math

from branca.element import MacroElement
from jinja2 import Template

from geodata.model.schema import EVENT_TYPES
from layers.html import esc

#: One colour per ACLED event type (colour-blind-safe Okabe–Ito palette), in EVENT_TYPES order.
EVENT_COLORS: dict[str, str] = dict(zip(
    EVENT_TYPES, ("#D55E00", "#CC79A7", "#E69F00", "#0072B2", "#009E73", "#56B4E9"),
))
UNKNOWN_COLOR = "#666666"
ROUTE_COLOR = "#1b1b1b"
SITE_COLOR = "#6a3d9a"
BUFFER_COLOR = "#ff7f00"


def event_color(event_type: str) -> str:
    """Colour for an ACLED event type (grey for anything else)."""
    return EVENT_COLORS.get(event_type, UNKNOWN_COLOR)


def marker_radius(fatalities: float | int | None) -> float:
    """Circle radius in pixels: 5 px with no fatalities, growing with the square root (area ∝ count)."""
    f = 0 if fatalities is None or fatalities != fatalities else max(0.0, float(fatalities))
    return round(5.0 + 3.0 * math.sqrt(f), 1)


class Legend(MacroElement):
    """A collapsible legend in the map's bottom-left corner (open on large maps; closed below 600 px
    and wherever it would cover more than a tenth of the map).

    ``sections`` is a list of ``(title, [(swatch_html, label), ...])``; labels are escaped here,
    swatches are produced by this module only. A section or a row may carry a third element, CSS
    classes that show it only for some incident representations (``cm-rep cm-rep-markers`` …: see
    :data:`REPRESENTATION_CSS`; the mounted dashboard map's legend follows its layers that way).
    """

    _template = Template("""
        {% macro html(this, kwargs) %}
        <details class="cm-legend" open style="position:absolute;z-index:1000;bottom:52px;left:10px;
             background:rgba(255,255,255,.94);padding:4px 9px;border:1px solid #999;border-radius:4px;
             font:12px/1.35 sans-serif;max-width:250px;max-height:calc(100% - 120px);overflow:auto">
          <summary style="cursor:pointer;font-weight:bold">Legend</summary>
          {{ this.body }}
        </details>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            // Start collapsed where the open legend would cover much of the map: on small screens,
            // and wherever it takes more than a tenth of the map's area (the dashboard's map column).
            // The legend box is in the page body, beside the map container.
            var map = {{ this._parent.get_name() }}, c = map.getContainer(), lg = document.querySelector(".cm-legend");
            function fit() {  // sizes are known only once the page is laid out; a reader's own choice stays
                if (!lg || lg.dataset.cmUser) { return; }
                if (c.clientWidth < 600 || lg.offsetWidth * lg.offsetHeight > 0.10 * c.clientWidth * c.clientHeight) {
                    lg.open = false;
                }
            }
            if (lg) { lg.querySelector("summary").addEventListener("click", function () { lg.dataset.cmUser = "1"; }); }
            fit();
            setTimeout(fit, 0);
            setTimeout(fit, 400);
            if (lg) { L.DomEvent.disableClickPropagation(lg); L.DomEvent.disableScrollPropagation(lg); }
        })();
        {% endmacro %}
    """)

    def __init__(self, sections: list[tuple[str, list[tuple[str, str]]]]):
        super().__init__()
        self._name = "Legend"
        parts = []
        for title, items, *section_cls in sections:
            parts.append(f'<div class="{_cls(section_cls)}">' if section_cls else "<div>")
            parts.append(f'<div style="font-weight:bold;margin-top:3px">{esc(title)}</div>')
            for swatch, label, *row_cls in items:
                parts.append(f'<div class="{_cls(row_cls)}">{swatch} {esc(label)}</div>' if row_cls
                             else f'<div>{swatch} {esc(label)}</div>')
            parts.append("</div>")
        self.body = "".join(parts)


def _cls(extra: list) -> str:
    """CSS classes from code (never user text), kept to letters, digits, dashes and spaces."""
    return "".join(ch for ch in " ".join(str(c) for c in extra) if ch.isalnum() or ch in "- ")


#: Legend rows for one representation (or choropleth metric) only: hidden unless the map document's
#: body says it is drawn (``cm-mode-markers|cluster|aggregate`` and ``cm-metric-is-incidents|fatalities``,
#: set by the incident group).
REPRESENTATION_CSS = (".cm-rep,.cm-metric{display:none}"
                      "body.cm-mode-markers .cm-rep-markers,body.cm-mode-cluster .cm-rep-cluster,"
                      "body.cm-mode-aggregate .cm-rep-aggregate,body.cm-metric-is-incidents .cm-metric-incidents,"
                      "body.cm-metric-is-fatalities .cm-metric-fatalities{display:block}")


def dot(color: str) -> str:
    """A round swatch for the legend."""
    return f'<span style="display:inline-block;width:11px;height:11px;border-radius:50%;background:{color};border:1px solid #333"></span>'


def box(color: str) -> str:
    """A square swatch for the legend."""
    return f'<span style="display:inline-block;width:12px;height:10px;background:{color};border:1px solid #555"></span>'


def line(color: str, dashed: bool = True) -> str:
    """A line swatch for the legend."""
    style = "dashed" if dashed else "solid"
    return f'<span style="display:inline-block;width:18px;border-top:3px {style} {color};vertical-align:middle"></span>'


def area(color: str) -> str:
    """A dashed-circle swatch: area of plausible location."""
    return (f'<span style="display:inline-block;width:12px;height:12px;border-radius:50%;border:1.5px dashed {color};'
            f'background:{color}22;vertical-align:middle"></span>')


def ring() -> str:
    """A ring swatch: a cluster's mix of event types around its count."""
    stops = ",".join(f"{c} {i * 60}deg {(i + 1) * 60}deg" for i, c in enumerate(EVENT_COLORS.values()))
    return (f'<span style="display:inline-block;width:14px;height:14px;border-radius:50%;vertical-align:middle;'
            f'background:conic-gradient({stops})"></span>')


def ramp(colors: tuple[str, ...]) -> str:
    """A sequential colour ramp swatch."""
    return "".join(f'<span style="display:inline-block;width:7px;height:10px;background:{c}"></span>' for c in colors)


def event_legend_items() -> list[tuple[str, str]]:
    """Legend rows for the six event types."""
    return [(dot(c), t) for t, c in EVENT_COLORS.items()]
