"""Municipalities layer: official ADM2 polygons as a choropleth of the current selection."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.geo.placenames import display_name
from layers.html import esc
from layers.style import box

#: Sequential palette (ColorBrewer OrRd, 5 classes); the first colour is for zero.
PALETTE = ("#f7f7f7", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")


def choropleth_values(incidents: pd.DataFrame, municipalities: gpd.GeoDataFrame, metric: str = "incidents") -> pd.Series:
    """Per-municipality incident count or fatality sum for the current selection.

    Args:
        incidents: enriched incidents (``municipality`` column).
        municipalities: boundary layer.
        metric: ``"incidents"`` or ``"fatalities"``.
    Returns:
        Series indexed by canonical municipality name (0 where none).
    Raises:
        ValueError: for an unknown metric.
    """
    if metric not in ("incidents", "fatalities"):
        raise ValueError("metric must be 'incidents' or 'fatalities'")
    if incidents.empty:
        grouped = pd.Series(dtype=float)
    elif metric == "incidents":
        grouped = incidents.groupby("municipality").size()
    else:
        grouped = incidents.groupby("municipality")["fatalities"].sum()
    return grouped.reindex(municipalities["municipality"]).fillna(0).astype(int)


def class_breaks(values: pd.Series) -> list[int]:
    """Upper bounds (integers) of up to 4 non-zero classes.

    With 4 or fewer distinct positive values each value is its own class (small counts read
    exactly: "1", "2", "5"); otherwise classes hold about equal numbers of the distinct values.
    No empty class is ever made.
    """
    positive = np.unique(np.asarray(values, dtype=float)[np.asarray(values, dtype=float) > 0]).astype(int)
    positive = np.unique(positive)
    if positive.size == 0:
        return [1]
    if positive.size <= len(PALETTE) - 1:
        return [int(v) for v in positive]
    qs = np.quantile(positive, [0.25, 0.5, 0.75, 1.0], method="higher")
    breaks: list[int] = []
    for q in qs:
        b = int(q)
        if not breaks or b > breaks[-1]:
            breaks.append(b)
    return breaks


#: Which palette colours k classes use: spread over the ramp so that few classes still differ clearly.
_CLASS_COLOURS = {1: (3,), 2: (2, 4), 3: (2, 3, 4), 4: (1, 2, 3, 4)}


def class_colors(breaks: list[int]) -> list[str]:
    """Colours for zero and each class of ``breaks`` (zero first)."""
    return [PALETTE[0]] + [PALETTE[i] for i in _CLASS_COLOURS[max(1, min(4, len(breaks)))]]


def color_for(value: int, breaks: list[int]) -> str:
    """Palette colour for a value given :func:`class_breaks`."""
    colours = class_colors(breaks)
    if value <= 0:
        return colours[0]
    for i, b in enumerate(breaks):
        if value <= b:
            return colours[i + 1]
    return colours[-1]


def legend_items(breaks: list[int], metric: str) -> list[tuple[str, str]]:
    """Legend rows for the choropleth classes."""
    colours = class_colors(breaks)
    items = [(box(colours[0]), f"0 {metric}")]
    lo = 1
    for i, b in enumerate(breaks):
        items.append((box(colours[i + 1]), f"{lo}–{b}" if b > lo else f"{b}"))
        lo = b + 1
    return items



def generic_legend_items(metric: str) -> list[tuple[str, str]]:
    """Legend rows for a choropleth whose classes change with the selection (the dashboard's map):
    the colour ramp from none to most, without numbers (each polygon's tooltip gives its own)."""
    colours = class_colors(class_breaks(pd.Series([1, 2, 3, 4, 5, 6], dtype=int)))
    return [(box(colours[0]), f"no {metric} in the selection"),
            (box(colours[len(colours) // 2]), "some"),
            (box(colours[-1]), f"most {metric} (hover a municipality for its count)")]


def municipality_layer(
    municipalities: gpd.GeoDataFrame, values: pd.Series, metric: str = "incidents", name: str = "Municipalities",
    lang: str = "en", pane: str | None = None,
) -> tuple[folium.GeoJson, list[tuple[str, str]]]:
    """Choropleth polygons with an escaped tooltip (name in ``lang``); returns the layer and its legend rows.

    ``pane``: a map pane to draw in (the dashboard's map uses one below routes and sites, since its
    choropleth is added after them).
    """
    breaks = class_breaks(values)
    gdf = municipalities[["municipality", "geometry"]].copy()
    gdf["value"] = values.reindex(gdf["municipality"]).fillna(0).astype(int).to_numpy()
    gdf["fill"] = [color_for(v, breaks) for v in gdf["value"]]
    # GeoJsonTooltip writes properties through innerHTML: escape the name here.
    unit = {"incidents": ("incident", "incidents"), "fatalities": ("fatality", "fatalities")}[metric]
    gdf["label"] = [f"{esc(display_name(n, lang))}: {v} {unit[0] if v == 1 else unit[1]}"
                    for n, v in zip(gdf["municipality"], gdf["value"])]
    layer = folium.GeoJson(
        gdf[["label", "fill", "value", "geometry"]].to_json(),
        name=f"{name} ({metric})",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555", "weight": 1, "fillOpacity": 0.55},
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        overlay=True,
        control=True,
        **({"pane": pane} if pane else {}),
    )
    return layer, legend_items(breaks, metric)
