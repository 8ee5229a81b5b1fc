"""Export panel of the dashboard: download buttons for the current selection.

Wiring only; the exports themselves are pure functions in :mod:`layers.export_html`,
:mod:`layers.static_png` and :mod:`geodata.export.data`. Files are generated when a button is
clicked (Streamlit's deferred ``data=callable``), so an idle panel costs nothing and clicking
does not rerun the app.
"""

from __future__ import annotations

from dataclasses import replace

import datetime as dt

import streamlit as st

from dashboard.text import md_escape
from geodata.service import FORMATS, LAYER_NAMES, export_bytes, export_filename
from geodata.model.selection import Selection


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d-%H%M")


def for_offline_readers(context: Selection, keep_tiles: bool) -> Selection:
    """The selection the HTML map is built from: without basemap tiles unless the exporter asked for them.

    A shared file is often opened offline, where a tile basemap shows only a warning banner until it
    falls back; so the file starts on the offline map (outlines and place names) unless ``keep_tiles``.

    Args:
        context: the current selection (its ``tiles`` are the dashboard's basemap).
        keep_tiles: the exporter ticked "basemap tiles in the HTML map".
    Returns:
        ``context`` itself, or a copy without tiles.
    """
    if keep_tiles or not context.tiles:
        return context
    return replace(context, tiles=None, tiles_attribution=None)


def render(context: Selection) -> None:
    """Draw the export panel (standalone HTML map, PNG, CSV, GeoJSON, GeoPackage).

    Args:
        context: the current :class:`geodata.model.selection.Selection` (filtered incidents, filters,
            context layers, basemap, metric).
    """
    from layers.export_html import REPRESENTATION_LABELS, build_export
    from layers.incidents import choose_representation
    from layers.static_png import render_png

    n = len(context.incidents)
    st.subheader("Share this view")
    st.caption(f"{md_escape(context.spec.describe())} — {n:,} incident{'' if n == 1 else 's'}. "
               "The HTML map opens offline by double-click, with nothing to install.")
    stamp = _stamp()
    mode = REPRESENTATION_LABELS[choose_representation(n)]
    full = st.checkbox("Full rows, internal use only", key="cm_export_full_rows",
                       help="By default ACLED events leave without notes, actors and sources, as ACLED's terms of "
                            "use require. Ticked, files keep them and say on their face they are for internal use.")
    keep_tiles = bool(context.tiles) and st.checkbox(
        "Basemap tiles in the HTML map", value=False, key="cm_export_tiles",
        help="Off: the file opens on the offline map (outlines and place names), as a reader without internet sees "
             "it. On: it starts on the dashboard's tile basemap, which needs internet when the file is opened.")
    html_context = for_offline_readers(context, keep_tiles)
    col1, col2 = st.columns(2)
    with col1:
        st.download_button(
            "Map (standalone HTML)", data=lambda: build_export(html_context, full_rows=full).html.encode("utf-8"),
            file_name=f"conflictmap-map-{stamp}.html", mime="text/html", key="cm_export_html",
            on_click="ignore", help=f"Incidents shown as {mode}; at most 5 MB.",
        )
    with col2:
        st.download_button(
            "Map image (PNG)", data=lambda: render_png(context), file_name=f"conflictmap-map-{stamp}.png",
            mime="image/png", key="cm_export_png", on_click="ignore", help="For reports and slides; no basemap.",
        )
    layer = st.selectbox("Data layer", LAYER_NAMES, key="cm_export_layer",
                         help="Incidents are the filtered selection; municipalities carry its counts.")
    available = layer != "municipalities" or context.municipalities is not None
    if not available:
        st.info("Municipal boundaries are not installed: run `python -m geodata boundaries`.")
    cols = st.columns(3)
    for col, (fmt, label) in zip(cols, (("csv", "CSV (Excel)"), ("geojson", "GeoJSON"), ("gpkg", "GeoPackage (all layers)"))):
        with col:
            st.download_button(
                label, data=(lambda f=fmt, lay=layer: export_bytes(context, lay, f, full)),
                file_name=export_filename(layer, fmt, stamp), mime=FORMATS[fmt][0], key=f"cm_export_{fmt}",
                on_click="ignore", disabled=fmt != "gpkg" and not available,
            )
