"""Standalone HTML export of the current map: one file that opens offline by double-click.

The map is :func:`layers.map.build_map` — the dashboard's map — with a title stating the
filters in plain language, how the incidents are shown and when the file was made, plus an
"About this map" box (data sources, attributions, notes). Every script and style is inlined
(:func:`layers.assets.inline_assets`), so nothing is fetched; optional tiles are the only
network use and the map stays readable without them.

The incident representation is chosen by size: the size-chosen one first
(:func:`layers.incidents.choose_representation`) and, if the file would still exceed
:data:`MAX_EXPORT_BYTES`, the next coarser one (markers → cluster → aggregate).
"""

from __future__ import annotations

from geodata._errors import OutputError

import datetime as dt
from collections import Counter
from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
from branca.element import MacroElement
from folium.template import Template

from geodata.export.licence import INTERNAL_USE_NOTICE, needs_notice, shareable
from geodata.export.licence import attributions as licence_attributions
from geodata.model.schema import split_multi
from geodata.model.selection import Selection
from geodata.settings import BOUNDARIES_ATTRIBUTION
from layers.assets import external_references, inline_assets
from layers.html import esc
from layers.incidents import choose_representation
from layers.map import (
    INCIDENT_ATTRIBUTION, OSM_ATTRIBUTION, ROUTES_ATTRIBUTION, SITES_ATTRIBUTION, MapInputs, build_map,
)

#: Largest exported HTML file, in bytes: small enough for common e-mail attachment limits.
MAX_EXPORT_BYTES = 5_000_000
#: Coarser representations to fall back to, in order.
REPRESENTATIONS = ("markers", "cluster", "aggregate")
REPRESENTATION_LABELS = {
    "markers": "individual markers",
    "cluster": "browser-side clusters",
    "aggregate": "aggregated ~1 km grid cells",
}
#: How many distinct incident sources the "About" box lists by name.
MAX_SOURCES_LISTED = 15


class ExportTooLargeError(OutputError):
    """Even the coarsest representation exceeds the size limit."""


@dataclass(frozen=True)
class HtmlExport:
    """A rendered standalone map: the page, the representation used and its size in bytes."""

    html: str
    representation: str
    size_bytes: int


def generated_stamp(generated_at: dt.datetime | None = None) -> str:
    """``"YYYY-MM-DD HH:MM UTC"`` for ``generated_at`` (now when ``None``; naive times are taken as UTC)."""
    when = generated_at or dt.datetime.now(dt.timezone.utc)
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M UTC")


def export_title(selection: Selection) -> str:
    """The map title: the filters in plain language (:meth:`FilterSpec.describe`)."""
    return f"conflictmap — {selection.spec.describe()}"


def export_subtitle(selection: Selection, representation: str, generated_at: dt.datetime | None = None) -> str:
    """E.g. ``"100,000 incidents shown as browser-side clusters · generated 2026-11-02 10:15 UTC"``."""
    n = len(selection.incidents)
    what = f"{n:,} incident{'' if n == 1 else 's'}"
    if n:
        what += f" shown as {REPRESENTATION_LABELS.get(representation, representation)}"
    return f"{what} · generated {generated_stamp(generated_at)}"


def source_counts(incidents: pd.DataFrame) -> list[tuple[str, int]]:
    """Distinct incident sources (``;``-separated cells split) with counts, most frequent first."""
    if incidents.empty or "source" not in incidents:
        return []
    counts: Counter[str] = Counter()
    for cell, k in incidents["source"].fillna("").astype(str).value_counts().items():
        for name in split_multi(cell):
            counts[name] += int(k)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0].casefold()))


def attributions(selection: Selection, full_rows: bool = False) -> list[str]:
    """Every attribution the exported map carries (layers present, data sources' licences, tiles)."""
    items = [INCIDENT_ATTRIBUTION] + licence_attributions(selection.incidents, full_rows)
    if selection.municipalities is not None and not selection.municipalities.empty:
        items.append(BOUNDARIES_ATTRIBUTION)
    if selection.routes is not None and not selection.routes.empty:
        items.append(ROUTES_ATTRIBUTION)
    if selection.sites is not None and not selection.sites.empty:
        items.append(SITES_ATTRIBUTION)
    if selection.tiles:
        items.append(OSM_ATTRIBUTION if selection.tiles == "osm" else (selection.tiles_attribution or selection.tiles))
    return items


class AboutBox(MacroElement):
    """A collapsible "About this map" box: generation time, filters, sources, attributions (all escaped)."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <details class="cm-about" style="position:absolute;z-index:1000;bottom:64px;right:10px;max-width:340px;
                 max-height:60%;overflow:auto;background:rgba(255,255,255,.94);padding:5px 9px;border:1px solid #999;
                 border-radius:4px;font:12px/1.4 sans-serif">
          <summary style="cursor:pointer;font-weight:bold">About this map</summary>
          {{ this.body }}
        </details>
        {% endmacro %}
    """)

    def __init__(self, body_html: str):
        super().__init__()
        self._name = "AboutBox"
        self.body = body_html


def about_html(selection: Selection, representation: str, generated_at: dt.datetime | None = None,
               full_rows: bool = False) -> str:
    """Body of the :class:`AboutBox`; every value from data is escaped."""
    parts = [f"<div style='color:#b00;font-weight:bold'>{esc(INTERNAL_USE_NOTICE)}</div>"] \
        if needs_notice(selection.incidents, full_rows) else []
    parts += [
        f"<div><b>Generated:</b> {esc(generated_stamp(generated_at))}</div>",
        f"<div><b>Selection:</b> {esc(selection.spec.describe())}</div>",
        f"<div><b>Shown:</b> {esc(export_subtitle(selection, representation, generated_at).split(' · ')[0])}</div>",
    ]
    sources = source_counts(shareable(selection.incidents, full_rows))  # ACLED's sources stay withheld too
    if sources:
        shown = "".join(f"<li>{esc(name)} ({k:,})</li>" for name, k in sources[:MAX_SOURCES_LISTED])
        more = len(sources) - MAX_SOURCES_LISTED
        extra = f"<li>… and {more:,} more</li>" if more > 0 else ""
        parts.append(f"<div><b>Incident sources</b> (reports cited):<ul style='margin:2px 0 2px 16px;padding:0'>"
                     f"{shown}{extra}</ul></div>")
    parts.append("<div><b>Data and attributions:</b><ul style='margin:2px 0 2px 16px;padding:0'>"
                 + "".join(f"<li>{esc(a)}</li>" for a in attributions(selection, full_rows)) + "</ul></div>")
    for note in selection.notes:
        parts.append(f"<div><i>{esc(note)}</i></div>")
    parts.append("<div><small>Standalone file exported from conflictmap: works offline; basemap tiles, "
                 "if any, need internet.</small></div>")
    return "".join(parts)


def proximity_buffers(selection: Selection) -> gpd.GeoDataFrame | None:
    """The proximity zones of the filter (buffered in the metric CRS), or ``None``."""
    spec = selection.spec
    if not spec.uses_proximity:
        return None
    from geodata.geo.enrich import buffer_features

    zones = []
    for layer, names, col in ((selection.routes, spec.near_routes, "name"), (selection.sites, spec.near_sites, "name_en")):
        if names and layer is not None:
            chosen = layer[layer[col].isin(names)]
            if not chosen.empty:
                zones.append(buffer_features(chosen[[col, "geometry"]], spec.near_km))
    if not zones:
        return None
    return gpd.GeoDataFrame(pd.concat(zones, ignore_index=True), crs=zones[0].crs)


def _add_sequences(m, selection: Selection) -> None:
    """The sequence step-through control for the sequences that have incidents in the selection
    (none when the selection's builder attached no curation: drawing never reads the store)."""
    from layers.sequence import add_sequence_control

    if selection.curation is not None:
        add_sequence_control(m, selection.curation.sequences, selection.incidents, selection.curation)


def render_html(selection: Selection, representation: str, generated_at: dt.datetime | None = None,
                full_rows: bool = False) -> str:
    """Render the standalone page with one given incident representation (no size check).

    ACLED rows are shown without notes, actors and sources unless ``full_rows`` (internal use; the
    title and the About box then say so) — see :mod:`geodata.export.licence`.

    Raises:
        layers.assets.OfflineAssetError: if an asset has no offline copy.
        AssertionError: never in practice — the page is checked to reference nothing external.
    """
    inputs = MapInputs(
        incidents=shareable(selection.incidents, full_rows), municipalities=selection.municipalities, routes=selection.routes,
        sites=selection.sites, buffers=proximity_buffers(selection), country_boundary=selection.country,
    )
    m = build_map(
        inputs, tiles=selection.tiles, tiles_attribution=selection.tiles_attribution, metric=selection.metric,
        representation=representation, title=_title(selection, full_rows),
        subtitle=export_subtitle(selection, representation, generated_at),
    )
    AboutBox(about_html(selection, representation, generated_at, full_rows)).add_to(m)
    _add_sequences(m, selection)
    root = m.get_root()
    root.title = esc(_title(selection, full_rows))  # branca writes <title> unescaped
    html = inline_assets(root.render())
    leftovers = external_references(html)
    if leftovers:  # a plugin without an offline copy slipped in: refuse rather than ship a blank map
        raise AssertionError(f"exported map still references {leftovers}")
    return html


def _title(selection: Selection, full_rows: bool) -> str:
    """The export title, marked for internal use when it carries full ACLED rows."""
    prefix = "INTERNAL USE ONLY (full ACLED rows) — " if needs_notice(selection.incidents, full_rows) else ""
    return prefix + export_title(selection)


def build_export(selection: Selection, generated_at: dt.datetime | None = None,
                 max_bytes: int = MAX_EXPORT_BYTES, full_rows: bool = False) -> HtmlExport:
    """Render the standalone map, choosing the incident representation by size.

    Starts from :func:`layers.incidents.choose_representation` and falls back to coarser
    representations while the file exceeds ``max_bytes``.

    Args:
        selection: what to show.
        generated_at: time stamped on the map (now when ``None``).
        max_bytes: size limit of the UTF-8 file.
        full_rows: keep ACLED rows whole (internal use; see :func:`render_html`).
    Returns:
        An :class:`HtmlExport`.
    Raises:
        ExportTooLargeError: if even the aggregated map exceeds ``max_bytes``.
    """
    generated_at = generated_at or dt.datetime.now(dt.timezone.utc)
    first = REPRESENTATIONS.index(choose_representation(len(selection.incidents)))
    size = 0
    for mode in REPRESENTATIONS[first:]:
        html = render_html(selection, mode, generated_at, full_rows)
        size = len(html.encode("utf-8"))
        if size <= max_bytes:
            return HtmlExport(html, mode, size)
    raise ExportTooLargeError(f"the map is {size / 1e6:.1f} MB even aggregated (limit {max_bytes / 1e6:.1f} MB); "
                              "narrow the filters")


def export_map_html(selection: Selection, generated_at: dt.datetime | None = None, full_rows: bool = False) -> str:
    """The standalone HTML page of ``selection`` (see :func:`build_export`)."""
    return build_export(selection, generated_at, full_rows=full_rows).html
