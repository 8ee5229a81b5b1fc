"""Static PNG map of a selection for reports and slides: no tiles, no browser.

Drawn with GeoPandas plotting on a matplotlib ``Figure`` (object API, no ``pyplot`` global
state, so it is safe inside Streamlit's threads): neighbouring countries and the Kosovo boundary,
municipalities shaded by the selection's metric, patrol routes, religious sites, incidents coloured
by event type (dashed rings where the location is approximate) — or, for large selections, density
hexagons instead of overplotted dots — place labels that do not collide, a scale bar, a legend, the
title (:meth:`FilterSpec.describe`) and the attributions.
"""

from __future__ import annotations

from collections.abc import Sequence

import datetime as dt
import io
import textwrap

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from geodata.model.selection import Selection
from layers.export_html import attributions, generated_stamp
from layers.municipalities import (
    choropleth_values,
    class_breaks,
    class_colors,
    color_for,
    legend_items,
)
from layers.style import (
    EVENT_COLORS,
    ROUTE_COLOR,
    SITE_COLOR,
    UNKNOWN_COLOR,
    event_color,
)

#: Northern Kosovo (lon/lat) when there is nothing to fit.
DEFAULT_EXTENT = (20.3, 42.75, 21.1, 43.3)
#: Above this many incidents the PNG shows density hexagons instead of one dot per incident.
DENSITY_LIMIT = 2_000
LABEL_FONT = {"town": 8.5, "village": 7.5, "crossing": 7.5, "landmark": 7, "lake": 7.5, "country": 9,
              "municipality": 7.5}


def _equivalent_zoom(extent: tuple[float, float, float, float], width_px: float) -> float:
    """The web-map zoom showing ``extent`` across ``width_px`` pixels (to reuse the labels' zoom ranges)."""
    span = max(1e-6, extent[2] - extent[0])
    return float(np.log2(360.0 * width_px / 256.0 / span))


def _draw_labels(ax, fig, extent, box_px: tuple[float, float], muni,
                 rings: Sequence[tuple[float, float, float, float]] = ()) -> None:
    """Place labels inside ``extent``, most important first, skipping any that would collide with a
    label already placed or lie on an incident ring (``rings``, display pixels); a place whose own
    point carries a ring gets its name beside that ring."""
    from geodata.geo.placenames import display_name
    from geodata.geo.placenames import map_labels

    labels = map_labels("en")
    if muni is not None and not muni.empty:
        pts = muni.geometry.representative_point()
        extra = pd.DataFrame({"name": [display_name(n) for n in muni["municipality"]], "lat": pts.y, "lon": pts.x,
                              "kind": "municipality", "min_zoom": 9, "priority": 25})
        labels = pd.concat([labels, extra], ignore_index=True).sort_values("priority", kind="stable")
    minx, miny, maxx, maxy = extent
    zoom = _equivalent_zoom(extent, box_px[0] * 0.75)  # printed labels are larger than screen ones
    inside = labels[(labels["lon"].between(minx, maxx)) & (labels["lat"].between(miny, maxy))
                    & (labels["min_zoom"] <= zoom + 0.5)]
    placed: list[tuple[float, float, float, float]] = []
    named: set[str] = set()
    to_px = ax.transData.transform
    for row in inside.itertuples(index=False):
        size = LABEL_FONT.get(row.kind, 7.5)
        x, y = to_px((row.lon, row.lat))
        w, h = len(str(row.name)) * size * 0.7 * fig.dpi / 72 + 8, size * 1.5 * fig.dpi / 72
        point = row.kind in ("town", "village", "crossing", "landmark")
        own = [q for q in rings if point and q[0] <= x <= q[2] and q[1] <= y <= q[3]]
        offset = 9 * fig.dpi / 72
        if own:  # the name starts beside the ring drawn on its own point
            offset = max(q[2] for q in own) - x + 3 * fig.dpi / 72
        x0 = x + offset if point else x - w / 2
        b = (x0, y - h / 2, x0 + w, y + h / 2)
        if any(_overlaps(b, q) for q in placed) or any(_overlaps(b, q) for q in rings if q not in own):
            continue
        if str(row.name) in named:  # a municipality named after its town already labelled: once is enough
            continue
        named.add(str(row.name))
        placed.append(b)
        style = {"municipality": {"style": "italic", "color": "#5b4a2f"}, "country": {"color": "#777"},
                 "lake": {"style": "italic", "color": "#1f5f9e"}, "crossing": {"color": "#7a0000"}}.get(row.kind, {})
        if point and not own:
            ax.plot([row.lon], [row.lat], marker="o", markersize=2.5, color="#333", zorder=4)
        ax.annotate(str(row.name), (row.lon, row.lat), xytext=(offset * 72 / fig.dpi if point else 0, 0),
                    textcoords="offset points",
                    ha="left" if point else "center", va="center", fontsize=size, zorder=7,
                    fontweight="bold" if row.kind == "town" else "normal", fontstyle=style.get("style", "normal"),
                    color=style.get("color", "#222"), path_effects=[_halo()])


def _overlaps(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether boxes ``(x0, y0, x1, y1)`` ``a`` and ``b`` overlap."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _wedge_marker(a0: float, a1: float) -> list[tuple[float, float]]:
    """Vertices of a pie-slice marker from angle ``a0`` to ``a1`` (fractions of a turn, clockwise from 12)."""
    angles = np.linspace(a0, a1, max(3, int(60 * (a1 - a0))))
    return [(0.0, 0.0)] + [(float(np.sin(2 * np.pi * a)), float(np.cos(2 * np.pi * a))) for a in angles] + [(0.0, 0.0)]


def _draw_spots(ax, inc) -> list[tuple[float, float, float, float]]:
    """One marker per spot: a ring of event-type shares around the number of incidents there.

    Co-located incidents (the bundled data has 37 at 9 spots) would otherwise hide one another, and
    spots whose rings would overlap at the printed scale are drawn as one ring (at the busier spot)
    with their summed count, so no two numbers print on top of each other. Call after the axes'
    limits are set: the merging is done in printed pixels.

    Returns:
        Each ring's box in display pixels (x0, y0, x1, y1), for the labels to keep clear of.
    """
    spots = pd.DataFrame({"x": inc.geometry.x.round(5), "y": inc.geometry.y.round(5),
                          "t": inc["event_type"].to_numpy()})
    to_px, per_point = ax.transData.transform, ax.figure.dpi / 72.0

    def radius(n: int) -> float:  # marker size is an area in points²; its radius in pixels
        return float(np.sqrt(90 + 40 * np.sqrt(n))) / 2 * per_point

    groups = sorted(((x, y, list(g["t"])) for (x, y), g in spots.groupby(["x", "y"], sort=False)),
                    key=lambda item: -len(item[2]))
    rings: list[dict] = []
    for x, y, types in groups:
        px, py = to_px((x, y))
        for ring in rings:
            if np.hypot(px - ring["px"], py - ring["py"]) < radius(len(types)) + radius(len(ring["types"])):
                ring["types"] += types
                break
        else:
            rings.append({"x": x, "y": y, "px": px, "py": py, "types": types})
    boxes = []
    for ring in rings:
        x, y, n = ring["x"], ring["y"], len(ring["types"])
        size = 90 + 40 * np.sqrt(n)  # points²: area grows with the count
        shares = pd.Series(ring["types"]).value_counts()
        a0 = 0.0
        for t, k in shares.items():
            a1 = a0 + k / n
            ax.scatter([x], [y], marker=_wedge_marker(a0, a1), s=size, color=event_color(t), linewidths=0, zorder=5)
            a0 = a1
        ax.scatter([x], [y], s=size, facecolor="none", edgecolor="#222", linewidth=0.6, zorder=5.1)
        if n > 1:
            ax.scatter([x], [y], s=size * 0.42, color="white", zorder=5.2)
            ax.annotate(str(n), (x, y), ha="center", va="center", fontsize=6.5, fontweight="bold", zorder=5.3)
        r = radius(n)
        boxes.append((ring["px"] - r, ring["py"] - r, ring["px"] + r, ring["py"] + r))
    return boxes


def _halo():
    from matplotlib import patheffects

    return patheffects.withStroke(linewidth=2.2, foreground="white")


def _nice_length(km: float) -> float:
    """A round scale-bar length (1, 2, 5 × 10^n km) not above ``km``."""
    exp = 10 ** np.floor(np.log10(km))
    return float(max(m * exp for m in (1, 2, 5) if m * exp <= km))


def _scale_bar(ax, extent) -> None:
    """A scale bar in the lower left of the map, about a fifth of its width (km at the map's latitude)."""
    minx, miny, maxx, maxy = extent
    lat = (miny + maxy) / 2
    km_per_deg = 111.32 * np.cos(np.radians(lat))
    length_km = _nice_length((maxx - minx) * km_per_deg / 5)
    x0, y0 = minx + 0.04 * (maxx - minx), miny + 0.05 * (maxy - miny)
    x1 = x0 + length_km / km_per_deg
    ax.plot([x0, x1], [y0, y0], color="#111", linewidth=3, solid_capstyle="butt", zorder=8)
    for x in (x0, x1):
        ax.plot([x, x], [y0 - 0.006 * (maxy - miny), y0 + 0.006 * (maxy - miny)], color="#111", linewidth=1, zorder=8)
    ax.annotate(f"{length_km:g} km", ((x0 + x1) / 2, y0), xytext=(0, 5), textcoords="offset points", ha="center",
                fontsize=8, zorder=8, path_effects=[_halo()])


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
    fig = map_figure(selection, dpi=dpi, size_in=size_in, generated_at=generated_at)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()


def map_figure(selection: Selection, *, dpi: int = 150, size_in: tuple[float, float] = (12.0, 8.0),
               generated_at: dt.datetime | None = None) -> Figure:
    """The figure :func:`render_png` prints (arguments as there): its map axes come first."""
    fig = Figure(figsize=size_in, dpi=dpi)
    FigureCanvasAgg(fig)
    box = (0.01, 0.08, 0.74, 0.82)  # map on the left, legend on the right
    ax = fig.add_axes(box)
    minx, miny, maxx, maxy = _fit_box(_extent(selection), box[2] * size_in[0], box[3] * size_in[1])
    handles: list = []
    ax.set_facecolor("#f4f4f2")

    from geodata.geo.places import load_neighbours

    neighbours = load_neighbours()
    # The official outline when the caller loaded one (Selection.country), else Natural Earth's.
    kosovo = selection.country if selection.country is not None else neighbours[neighbours["name"] == "Kosovo"]
    neighbours[neighbours["name"] != "Kosovo"].plot(ax=ax, color="#e9e6df", edgecolor="#8c8c8c", linewidth=0.7,
                                                     zorder=0.5)
    kosovo.plot(ax=ax, color="white", edgecolor="#333", linewidth=1.6, zorder=0.6)
    kosovo.boundary.plot(ax=ax, color="#333", linewidth=1.6, zorder=2.5)

    muni = selection.municipalities
    if muni is not None and not muni.empty:
        values = choropleth_values(selection.incidents, muni, selection.metric)
        breaks = class_breaks(values)
        colors = [color_for(int(values.get(m, 0)), breaks) for m in muni["municipality"]]
        # Their names are placed with the other labels (_draw_labels), thinned: never printed twice.
        muni.plot(ax=ax, color=colors, edgecolor="#555", linewidth=0.6, alpha=0.75, zorder=1)
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
    spots_later = False
    if len(inc) > DENSITY_LIMIT:
        # Large selections: density hexagons (count per cell, log colour scale) instead of dots that
        # would overplot into a solid block.
        hb = ax.hexbin(inc.geometry.x, inc.geometry.y, gridsize=60, extent=(minx, maxx, miny, maxy), mincnt=1,
                       bins="log", cmap="YlOrRd", linewidths=0.2, edgecolors="#999", alpha=0.9, zorder=5)
        counts = hb.get_array()
        handles.append(Patch(color="none", label=f"Incident density\n(per hexagon, {len(inc):,} incidents)"))
        if len(counts):
            cmap = hb.get_cmap()
            top = int(counts.max())
            for frac, label in ((0.0, "1"), (0.5, None), (1.0, f"{top:,}")):
                value = max(1, round(top ** frac))
                handles.append(Patch(facecolor=cmap(hb.norm(value)), edgecolor="#999",
                                     label=label or f"{value:,}"))
    elif not inc.empty:
        fat = inc["fatalities"].fillna(0).astype(float).to_numpy()
        sizes = 14 + 22 * np.sqrt(np.clip(fat, 0, None))
        from geodata.model.precision import uncertainty_areas

        areas = uncertainty_areas(inc)
        if not areas.empty:
            areas = areas[~areas.geometry.to_wkb().duplicated()]
            # Faint: a precise incident stays the eye's first stop (the 25 km circles would frame the map).
            areas.boundary.plot(ax=ax, color="#777", linewidth=0.6, alpha=0.6, linestyle=(0, (2, 4)), zorder=4.5)
            handles.append(Line2D([], [], color="#555", linestyle=":", label="Approximate location\n(town ~5 km, "
                                                                               "region ~25 km)"))
        del sizes  # one ring per spot instead of dots hidden under one another
        spots_later = True  # drawn once the axes' limits are set (rings merge in printed pixels)
    if not inc.empty and len(inc) <= DENSITY_LIMIT:
        present = set(inc["event_type"])
        for t, c in EVENT_COLORS.items():
            if t in present:
                handles.append(Line2D([], [], marker="o", color="w", markerfacecolor=c, markeredgecolor="#222",
                                      markersize=8, label=t))
        if not present.issubset(EVENT_COLORS):
            handles.append(Line2D([], [], marker="o", color="w", markerfacecolor=UNKNOWN_COLOR, markersize=8,
                                  label="Other event type"))
        handles.append(Line2D([], [], marker="o", color="w", markerfacecolor="white", markeredgecolor="#222",
                              markersize=10, label="Number: incidents at one spot;\nring: their event types"))

    ax.set_xlim(minx, maxx)
    ax.set_ylim(miny, maxy)
    ax.set_aspect(1 / np.cos(np.radians((miny + maxy) / 2)))  # lon/lat at this latitude, as GeoPandas does
    ax.set_xticks([])
    ax.set_yticks([])
    ax.apply_aspect()  # the axes' final position, so label collision is measured where they will be drawn
    rings = _draw_spots(ax, inc) if spots_later else []
    _draw_labels(ax, fig, (minx, miny, maxx, maxy), (box[2] * size_in[0] * dpi, box[3] * size_in[1] * dpi), muni,
                 rings)
    _scale_bar(ax, (minx, miny, maxx, maxy))
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
    from geodata.geo.places import (
        NEIGHBOURS_ATTRIBUTION,
        PLACES_ATTRIBUTION,
        TOWNS_ATTRIBUTION,
    )

    attribution = "; ".join([a for a in attributions(selection) if a != selection.tiles
                             and not (selection.tiles and a == selection.tiles_attribution)]
                            + [NEIGHBOURS_ATTRIBUTION, TOWNS_ATTRIBUTION, PLACES_ATTRIBUTION])
    fig.text(0.01, 0.015, "\n".join(textwrap.wrap(attribution + ". No basemap.", 170)), fontsize=6.5, color="#444",
             va="bottom")
    return fig
