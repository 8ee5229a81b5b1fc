"""Static PNG map of a selection for reports and slides: no tiles, no browser.

Drawn with GeoPandas plotting on a matplotlib ``Figure`` (object API, no ``pyplot`` global
state, so it is safe inside Streamlit's threads): municipalities shaded by the selection's metric,
patrol routes, religious sites, incidents coloured by event type, a legend, the title
(:meth:`FilterSpec.describe`) and the attributions.
"""

from __future__ import annotations

import datetime as dt
import io
import textwrap

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from geodata.selection import Selection
from layers.export_html import attributions, generated_stamp
from layers.municipalities import choropleth_values, class_breaks, class_colors, color_for, legend_items
from layers.style import EVENT_COLORS, ROUTE_COLOR, SITE_COLOR, UNKNOWN_COLOR, event_color

#: Northern Kosovo (lon/lat) when there is nothing to fit.
DEFAULT_EXTENT = (20.3, 42.75, 21.1, 43.3)


def _extent(selection: Selection) -> tuple[float, float, float, float]:
    """Bounds to show: the incidents (padded), else the routes and sites, else northern Kosovo."""
    for layer in (selection.incidents, selection.routes, selection.sites):
        if layer is not None and not layer.empty:
            minx, miny, maxx, maxy = layer.total_bounds
            pad = max(0.04, 0.08 * max(maxx - minx, maxy - miny))
            return minx - pad, miny - pad, maxx + pad, maxy + pad
    return DEFAULT_EXTENT


def _fit_box(extent: tuple[float, float, float, float], box_w: float, box_h: float) -> tuple[float, float, float, float]:
    """Grow ``extent`` (lon/lat) so that, drawn with the local aspect, it fills a ``box_w``×``box_h`` box."""
    minx, miny, maxx, maxy = extent
    k = np.cos(np.radians((miny + maxy) / 2))  # ground width of one degree of longitude relative to latitude
    w, h = (maxx - minx) * k, maxy - miny
    if w / h < box_w / box_h:
        grow = (h * box_w / box_h / k - (maxx - minx)) / 2
        minx, maxx = minx - grow, maxx + grow
    else:
        grow = (w * box_h / box_w - h) / 2
        miny, maxy = miny - grow, maxy + grow
    return minx, miny, maxx, maxy


def render_png(selection: Selection, *, dpi: int = 150, size_in: tuple[float, float] = (12.0, 8.0),
               generated_at: dt.datetime | None = None) -> bytes:
    """Render ``selection`` as a PNG image.

    Args:
        selection: what to draw (incidents may be empty; context layers may be None).
        dpi: resolution; with the default size, 150 dpi gives 1500×1200 pixels.
        size_in: figure size in inches (width, height).
        generated_at: time printed under the title (now when ``None``).
    Returns:
        PNG bytes.
    """
    fig = Figure(figsize=size_in, dpi=dpi)
    FigureCanvasAgg(fig)
    box = (0.01, 0.08, 0.74, 0.82)  # map on the left, legend on the right
    ax = fig.add_axes(box)
    minx, miny, maxx, maxy = _fit_box(_extent(selection), box[2] * size_in[0], box[3] * size_in[1])
    handles: list = []

    muni = selection.municipalities
    if muni is not None and not muni.empty:
        values = choropleth_values(selection.incidents, muni, selection.metric)
        breaks = class_breaks(values)
        colors = [color_for(int(values.get(m, 0)), breaks) for m in muni["municipality"]]
        muni.plot(ax=ax, color=colors, edgecolor="#555", linewidth=0.6, alpha=0.75, zorder=1)
        for name, point in zip(muni["municipality"], muni.geometry.representative_point()):
            if minx <= point.x <= maxx and miny <= point.y <= maxy:
                ax.annotate(str(name), (point.x, point.y), ha="center", fontsize=7, color="#333", zorder=2,
                            annotation_clip=True)
        handles.append(Patch(color="none", label=f"Municipalities: {selection.metric}\nin selection"))
        for colour, (_swatch, label) in zip(class_colors(breaks), legend_items(breaks, selection.metric)):
            handles.append(Patch(facecolor=colour, edgecolor="#555", alpha=0.75, label=label))
    if selection.routes is not None and not selection.routes.empty:
        selection.routes.plot(ax=ax, color=ROUTE_COLOR, linewidth=1.8, linestyle=(0, (5, 3)), zorder=3)
        handles.append(Line2D([], [], color=ROUTE_COLOR, linestyle="--", label="Patrol route (illustrative)"))
    if selection.sites is not None and not selection.sites.empty:
        selection.sites.plot(ax=ax, marker="P", color=SITE_COLOR, markersize=55, edgecolor="white", linewidth=0.6,
                             zorder=4)
        handles.append(Line2D([], [], marker="P", color="w", markerfacecolor=SITE_COLOR, markersize=9,
                              label="Monastery / religious site"))

    inc = selection.incidents
    if not inc.empty:
        fat = inc["fatalities"].fillna(0).astype(float).to_numpy()
        sizes = 14 + 22 * np.sqrt(np.clip(fat, 0, None)) if len(inc) <= 5000 else np.full(len(inc), 4.0)
        inc.plot(ax=ax, color=[event_color(t) for t in inc["event_type"]], markersize=sizes,
                 edgecolor="#222" if len(inc) <= 5000 else "none", linewidth=0.4, alpha=0.85, zorder=5)
        present = set(inc["event_type"])
        for t, c in EVENT_COLORS.items():
            if t in present:
                handles.append(Line2D([], [], marker="o", color="w", markerfacecolor=c, markeredgecolor="#222",
                                      markersize=8, label=t))
        if not present.issubset(EVENT_COLORS):
            handles.append(Line2D([], [], marker="o", color="w", markerfacecolor=UNKNOWN_COLOR, markersize=8,
                                  label="Other event type"))

    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect(1 / np.cos(np.radians((miny + maxy) / 2)))  # lon/lat at this latitude, as GeoPandas does
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    if handles:
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False,
                  title="Legend", title_fontsize=9, alignment="left")

    n = len(inc)
    title = "\n".join(textwrap.wrap(f"conflictmap — {selection.spec.describe()}", 110))
    fig.suptitle(title, fontsize=12, fontweight="bold", y=0.985)
    fig.text(0.5, 0.925, f"{n:,} incident{'' if n == 1 else 's'} · generated {generated_stamp(generated_at)}",
             ha="center", fontsize=9, color="#333")
    attribution = "; ".join(a for a in attributions(selection) if a != selection.tiles
                            and not (selection.tiles and a == selection.tiles_attribution))
    fig.text(0.01, 0.015, "\n".join(textwrap.wrap(attribution + ". No basemap.", 170)), fontsize=6.5, color="#444",
             va="bottom")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()
