"""Municipalities layer: official ADM2 polygons as a choropleth of the current selection."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import pandas as pd

from geodata.boundaries import load_municipalities
from layers.html import esc
from layers.style import box

#: Sequential palette (ColorBrewer OrRd, 5 classes); the first colour is for zero.
PALETTE = ("#f7f7f7", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000")


def frame(settings) -> tuple[gpd.GeoDataFrame | None, object]:
    """The municipality layer's data and where it came from (``(None, None)`` if not installed)."""
    return load_municipalities(settings)


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
    """Upper bounds of the 4 non-zero classes (equal-count on distinct positive values)."""
    positive = np.unique(values[values > 0])
    if positive.size == 0:
        return [1, 2, 3, 4]
    qs = np.quantile(positive, [0.25, 0.5, 0.75, 1.0], method="higher")
    breaks: list[int] = []
    for q in qs:
        breaks.append(max(int(q), (breaks[-1] + 1) if breaks else 1))
    return breaks


def color_for(value: int, breaks: list[int]) -> str:
    """Palette colour for a value given :func:`class_breaks`."""
    if value <= 0:
        return PALETTE[0]
    for i, b in enumerate(breaks):
        if value <= b:
            return PALETTE[i + 1]
    return PALETTE[-1]


def legend_items(breaks: list[int], metric: str) -> list[tuple[str, str]]:
    """Legend rows for the choropleth classes."""
    items = [(box(PALETTE[0]), f"0 {metric}")]
    lo = 1
    for i, b in enumerate(breaks):
        items.append((box(PALETTE[i + 1]), f"{lo}–{b}" if b > lo else f"{b}"))
        lo = b + 1
    return items


def municipality_layer(
    municipalities: gpd.GeoDataFrame, values: pd.Series, metric: str = "incidents", name: str = "Municipalities"
) -> tuple[folium.GeoJson, list[tuple[str, str]]]:
    """Choropleth polygons with an escaped tooltip; returns the layer and its legend rows."""
    breaks = class_breaks(values)
    gdf = municipalities[["municipality", "geometry"]].copy()
    gdf["value"] = values.reindex(gdf["municipality"]).fillna(0).astype(int).to_numpy()
    gdf["fill"] = [color_for(v, breaks) for v in gdf["value"]]
    # GeoJsonTooltip writes properties through innerHTML: escape the name here.
    gdf["label"] = [f"{esc(n)}: {v} {metric}" for n, v in zip(gdf["municipality"], gdf["value"])]
    layer = folium.GeoJson(
        gdf[["label", "fill", "value", "geometry"]].to_json(),
        name=f"{name} ({metric})",
        style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#555", "weight": 1, "fillOpacity": 0.55},
        highlight_function=lambda f: {"weight": 3, "color": "#000"},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
        overlay=True,
        control=True,
    )
    return layer, legend_items(breaks, metric)
