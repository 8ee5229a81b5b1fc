"""The dashboard's one door to the data: every page reads and writes incidents through here.

Caching:

* :func:`snapshot` runs on every rerun and reads the store's *data version*, a cheap token that
  changes whenever any process (this tab, another tab, the command line, a colleague on PostGIS)
  adds or undoes an upload. Every cache below is keyed on it, so the next rerun after a change
  shows the new rows everywhere, with no "Reload" button.
* The four layers are loaded and enriched once per configuration and data version
  (``st.cache_resource``: shared, never mutated); a filter change recomputes only the selection
  (``st.cache_data`` keyed on version and :class:`~geodata.filters.FilterSpec`), its summaries and
  its table, and only when a page asks for them.
* Large stores (more than ``CONFLICTMAP_PUSHDOWN_ROWS`` incidents) stay in the database: the filter
  choices come from ``SELECT DISTINCT``/``MIN``/``MAX`` and each spec is answered by the store
  (:func:`geodata.pushdown.select_incidents`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import state as S
from geodata import analysis
from geodata.boundaries import HOW_TO_GET_BOUNDARIES, BoundaryError
from geodata.enrich import buffer_features
from geodata.facets import StoreFacets, store_facets
from geodata.filters import ACTOR_COLUMNS, FilterSpec, filter_mask
from geodata.ingest import ColumnMapping, FileInfo, IngestReport, inspect_file, prepare, store_prepared
from geodata.ingest.pipeline import Prepared, load_boundaries_if_installed
from geodata.layers_data import LayerBundle, load_bundle
from geodata.pushdown import AGGREGATE_COLUMNS, LEAN_COLUMNS, select_incidents
from geodata.selection import Selection
from geodata.settings import Settings, get_settings
from geodata.store import open_store
from layers.incidents import CLUSTER_LIMIT, MARKER_LIMIT

#: Columns of a large store's lean selections (clustered view): the map's popups plus what the
#: charts (actors), the table (notes) and playback (dates) show.
PUSHDOWN_LEAN_COLUMNS = LEAN_COLUMNS + tuple(c for c in (*ACTOR_COLUMNS, "notes") if c not in LEAN_COLUMNS)
#: Columns of its aggregated selections (more than CLUSTER_LIMIT): hexagons and choropleth, plus
#: dates and actors for the timeline, key figures, breakdowns and playback.
PUSHDOWN_AGGREGATE_COLUMNS = AGGREGATE_COLUMNS + tuple(
    c for c in ("event_date", *ACTOR_COLUMNS) if c not in AGGREGATE_COLUMNS)

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Loaded:
    """The enriched layers plus any problem met while loading the boundaries."""

    bundle: LayerBundle
    choices: S.FilterChoices
    boundary_error: str | None
    #: The store's facets when it is too large to hold in memory (selections then come from SQL);
    #: ``None``: every incident is in ``bundle.incidents``.
    pushdown: StoreFacets | None = None


def settings_key(settings: Settings) -> tuple[str, ...]:
    """The settings that decide what is loaded (part of every cache key)."""
    return (str(settings.data_dir), str(settings.boundaries_file), str(settings.routes_file), settings.db_url)


def data_version(settings: Settings) -> tuple:
    """A token that changes whenever any process adds or undoes an upload (read on every rerun).

    Args:
        settings: gives the store URL.
    Returns:
        A hashable token; ``("empty",)`` while no store exists.
    Raises:
        geodata.store.StoreError: if the store cannot be opened.
    """
    store = open_store(settings.db_url, create=False)
    if store is None:
        return ("empty",)
    try:
        if hasattr(store, "data_version"):
            return ("v", store.data_version())
        # Until the store keeps a change counter: uploads only ever get new ids and undo marks
        # them, so (number, newest id, number undone) changes with every upload and undo.
        ups = store.list_uploads()
        return ("uploads", len(ups), int(ups["id"].max()) if len(ups) else 0, int((ups["status"] != "complete").sum()))
    finally:
        store.close()


@st.cache_data(show_spinner=False)
def _large_store_facets(key: tuple[str, ...], version: tuple, _settings: Settings) -> StoreFacets | None:
    """The store's facets when it holds more than ``settings.pushdown_rows`` incidents, else ``None``."""
    store = open_store(_settings.db_url, create=False)
    if store is None:
        return None
    try:
        if store.count_incidents() <= _settings.pushdown_rows:
            return None
        return store_facets(store)
    finally:
        store.close()


@st.cache_resource(show_spinner="Loading and enriching layers…", max_entries=4)
def _load_layers(key: tuple[str, ...], version: tuple, _settings: Settings) -> Loaded:
    """Load and enrich the four layers (shared by every session; callers must not mutate)."""
    facets = _large_store_facets(key, version, _settings)
    error = None
    try:
        bundle = load_bundle(_settings, include_store=facets is None)
    except BoundaryError as exc:  # a misconfigured boundaries file must not take the dashboard down
        error = str(exc)
        bundle = load_bundle(replace(_settings, boundaries_file=None), include_store=facets is None)
    choices = S.filter_choices(bundle.incidents, bundle.routes, bundle.sites)
    if facets is not None:
        names = bundle.municipalities["municipality"] if bundle.municipalities is not None else ()
        choices = S.with_store_facets(choices, facets, names)
    return Loaded(bundle, choices, error, facets)


@st.cache_data(show_spinner="Selecting incidents in the store…", max_entries=4)
def _store_selection(key: tuple[str, ...], version: tuple, spec: FilterSpec, _settings: Settings) -> gpd.GeoDataFrame:
    """The incidents matching ``spec`` from a large store (SQL first) plus the bundled ones."""
    b = _load_layers(key, version, _settings).bundle
    store = open_store(_settings.db_url, create=False)
    try:
        return select_incidents(
            store, spec, municipalities=b.municipalities, routes=b.routes, sites=b.sites, extra=b.incidents,
            lean_above=MARKER_LIMIT, aggregate_above=CLUSTER_LIMIT,
            lean_columns=PUSHDOWN_LEAN_COLUMNS, aggregate_columns=PUSHDOWN_AGGREGATE_COLUMNS)
    finally:
        if store is not None:
            store.close()


@st.cache_data(show_spinner=False, max_entries=128)
def _positions(key: tuple[str, ...], version: tuple, spec: FilterSpec, _settings: Settings) -> np.ndarray:
    """Row positions of the incidents matching ``spec`` in the in-memory layer."""
    b = _load_layers(key, version, _settings).bundle
    return np.flatnonzero(filter_mask(b.incidents, spec, b.routes, b.sites))


@st.cache_data(show_spinner=False, max_entries=64)
def _summaries(key: tuple[str, ...], version: tuple, spec: FilterSpec, step: str, _sel: gpd.GeoDataFrame) -> dict:
    """Key figures, timeline and breakdowns (``_sel`` follows from the hashed arguments)."""
    return {
        "figures": analysis.key_figures(_sel),
        "timeline": analysis.timeline(_sel, step),
        "event_type": analysis.breakdown(_sel, "event_type"),
        "actor": analysis.breakdown(_sel, "actor", top=12),
        "municipality": analysis.breakdown(_sel, "municipality"),
    }


@st.cache_data(show_spinner=False, max_entries=16)
def _table(key: tuple[str, ...], version: tuple, spec: FilterSpec, limit: int | None,
           _sel: gpd.GeoDataFrame) -> pd.DataFrame:
    """The selection as the display table (at most ``limit`` newest rows)."""
    return analysis.table_view(_sel, limit=limit)


@st.cache_resource(show_spinner=False, max_entries=32)
def _buffers(key: tuple[str, ...], version: tuple, routes: tuple[str, ...], sites: tuple[str, ...], km: float,
             _settings: Settings) -> gpd.GeoDataFrame | None:
    """Buffers around the chosen routes and sites, for drawing (None when none chosen)."""
    b = _load_layers(key, version, _settings).bundle
    parts = [buffer_features(layer[layer[col].isin(names)][[col, "geometry"]].rename(columns={col: "name"}), km)
             for layer, names, col in ((b.routes, routes, "name"), (b.sites, sites, "name_en")) if names]
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)


@dataclass(frozen=True)
class Snapshot:
    """The data as of this rerun: settings plus the data version every cached answer is keyed on."""

    settings: Settings
    key: tuple[str, ...]
    version: tuple

    @property
    def loaded(self) -> Loaded:
        """The enriched layers and filter choices (cached; do not mutate)."""
        return _load_layers(self.key, self.version, self.settings)

    def selection(self, spec: FilterSpec) -> gpd.GeoDataFrame:
        """The incidents matching ``spec`` (a cached frame: do not mutate)."""
        if self.loaded.pushdown is not None:
            return _store_selection(self.key, self.version, spec, self.settings)
        return self.loaded.bundle.incidents.iloc[_positions(self.key, self.version, spec, self.settings)]

    def summaries(self, spec: FilterSpec, step: str) -> dict:
        """Key figures (``figures``), ``timeline`` per ``step`` and breakdowns by ``event_type``,
        ``actor`` (top 12) and ``municipality`` of the selection."""
        return _summaries(self.key, self.version, spec, step, self.selection(spec))

    def table(self, spec: FilterSpec) -> pd.DataFrame:
        """The selection as display rows (a large store's: the newest ``S.PUSHDOWN_TABLE_ROWS``)."""
        limit = S.PUSHDOWN_TABLE_ROWS if self.loaded.pushdown is not None else None
        return _table(self.key, self.version, spec, limit, self.selection(spec))

    def buffers(self, spec: FilterSpec) -> gpd.GeoDataFrame | None:
        """The proximity buffers ``spec`` asks for, or ``None``."""
        if not spec.uses_proximity:
            return None
        return _buffers(self.key, self.version, spec.near_routes, spec.near_sites, spec.near_km, self.settings)

    def context(self, spec: FilterSpec, view: S.ViewOptions) -> Selection:
        """What the exporters get: the whole selection, the context layers and the view options."""
        b = self.loaded.bundle
        return Selection(
            incidents=self.selection(spec), spec=spec, municipalities=b.municipalities, routes=b.routes,
            sites=b.sites, tiles=view.tiles(self.settings.tiles), metric=view.metric,
            tiles_attribution=self.settings.tiles_attribution if view.basemap == "custom" else None,
            notes=() if b.municipalities is not None else (HOW_TO_GET_BOUNDARIES,),
        )


def snapshot() -> Snapshot:
    """The settings and the store's current data version (call once per rerun)."""
    settings = get_settings()
    return Snapshot(settings, settings_key(settings), data_version(settings))


# ---------------------------------------------------------------- uploads
def inspect_upload(data: bytes) -> FileInfo:
    """Encoding, delimiter, columns and format of an uploaded file.

    Raises:
        geodata.ingest.IngestError: if the file cannot be read.
    """
    return inspect_file(data)


def prepare_upload(data: bytes, name: str, mapping: ColumnMapping | None, settings: Settings,
                   progress: Progress) -> Prepared:
    """Read and validate an uploaded file (nothing is stored).

    Raises:
        geodata.ingest.IngestError: if the file cannot be used.
    """
    return prepare(data, name, "mapping" if mapping else "auto", mapping,
                   municipalities=load_boundaries_if_installed(settings), progress=progress)


def store_upload(prepared: Prepared, settings: Settings, progress: Progress) -> IngestReport:
    """Store the valid rows of ``prepared`` as one upload (one transaction).

    Raises:
        geodata.store.StoreError: if the store rejects the write (nothing is kept).
    """
    store = open_store(settings.db_url, create=True)
    try:
        return store_prepared(prepared, store, settings, progress=progress)
    finally:
        store.close()


def undo_upload(settings: Settings, upload_id: int) -> int:
    """Remove one upload's incidents; returns how many were removed.

    Raises:
        KeyError: if there is no such upload or it was already undone.
        geodata.store.StoreError: if the store cannot be opened.
    """
    store = open_store(settings.db_url, create=False)
    if store is None:
        raise KeyError(f"no upload {upload_id} to undo")
    try:
        return store.undo_upload(int(upload_id))
    finally:
        store.close()
