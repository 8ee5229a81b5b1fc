"""The dashboard's one door to the data: every page reads and writes incidents through here, and
here everything goes through :class:`geodata.service.incidents.IncidentService`.

Caching:

* :func:`snapshot` runs on every rerun and reads the store's *data version*
  (:meth:`~geodata.service.incidents.IncidentService.data_version`, one tiny query), a token that changes
  whenever any process (this tab, another tab, the command line, a colleague on PostGIS) adds or
  undoes an upload. Every cache below is keyed on it, so the next rerun after a change shows the
  new rows everywhere, with no "Reload" button.
* The context layers (boundaries, routes, sites) are loaded once per file version
  (``st.cache_resource``, keyed on :func:`geodata.geo.context.context_key`).
* The filter choices (the service's facets) are cached per data version; each selection per data
  version and :class:`~geodata.model.filters.FilterSpec` (``st.cache_resource``: shared and never
  mutated, so a large selection is not copied on every rerun); summaries and the table per
  selection. A page asks only for what it shows.

A service is opened per operation (a store connection costs about 2 ms; SQLite connections must
not cross Streamlit's script threads), with the cached context layers.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import Any, Callable

import geopandas as gpd
import pandas as pd
import streamlit as st

from dashboard import state as S
from geodata.service import KeyFigures
from geodata.service.curation import CurationService, curated
from geodata.service import buffer_features
from geodata.model.filters import ACTOR_COLUMNS, FilterSpec
from geodata.service import ColumnMapping, FileInfo, inspect_file
from geodata.service import Prepared
from geodata.service import context_key, load_context
from geodata.model.precision import UNCERTAINTY_RADIUS_M, proximity_classes, proximity_text
from geodata.model.selection import Selection
from geodata.service.incidents import Context, Facets, IncidentService, Summaries, UndoOutcome, UploadOutcome
from geodata.settings import Settings, get_settings
from layers.incidents import CLUSTER_LIMIT, MARKER_LIMIT

#: Columns read besides what the map needs, for clustered and aggregated selections: dates and
#: actors for the timeline, key figures, breakdowns and playback (marker-sized selections read all).
EXTRA_COLUMNS = ("event_date", *ACTOR_COLUMNS)

Progress = Callable[[float, str], None]


def settings_key(settings: Settings) -> tuple[str, ...]:
    """The settings that decide what is read (part of every cache key)."""
    return (str(settings.data_dir), str(settings.boundaries_file), str(settings.routes_file), settings.db_url,
            str(settings.pushdown_rows))


@st.cache_resource(show_spinner="Loading boundaries, routes and sites…", max_entries=4)
def _context(key: tuple[str, ...], files: tuple[str, ...], _settings: Settings) -> Context:
    """The context layers for these settings and file versions (shared; do not mutate)."""
    return load_context(_settings)


class _Service(IncidentService):
    """The service with the dashboard's cached context layers (loading them costs half a second)."""

    def __init__(self, settings: Settings, context: Context) -> None:
        super().__init__(settings)
        self._shared_context = context

    def context(self) -> Context:
        """The cached context layers."""
        return self._shared_context


def service(settings: Settings) -> IncidentService:
    """A service for ``settings`` (use as a context manager: it closes its store connection)."""
    return _Service(settings, _context(settings_key(settings), context_key(settings), settings))


class _Latest:
    """The newest answer per question (facets, a selection), with the data version it was read at.

    When the data version moves on and the only changes since are uploads
    (:meth:`IncidentService.added_uploads`), the next answer is that one extended with the uploads'
    rows, read through the store's upload index, instead of everything read again: after a 1,000-row
    upload into a million-incident store the map needs a 1,000-row read, not a million-row one.
    """

    def __init__(self, size: int = 9) -> None:
        self._answers: OrderedDict[tuple, tuple[str, Any]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(self, question: tuple) -> tuple[str, Any] | None:
        with self._lock:
            return self._answers.get(question)

    def put(self, question: tuple, version: str, answer: Any) -> None:
        with self._lock:
            self._answers[question] = (version, answer)
            self._answers.move_to_end(question)
            while len(self._answers) > self._size:
                self._answers.popitem(last=False)


#: As many answers as the selection cache keeps (8) plus the facets: the default view survives a few
#: filter changes and is still extended, not read again, after the next upload.
_latest = _Latest()


def _answer(question: tuple, svc: IncidentService, fresh: Callable[[], Any],
            extend: Callable[[Any, tuple[int, ...]], Any]) -> Any:
    """``fresh()``, or the latest answer to ``question`` extended by the uploads since (``extend``
    returns ``None`` when it cannot). Remembered only when no other change landed while it was read
    (the version before and after agree), so an upload is never added twice or missed."""
    before = svc.data_version()
    known = _latest.get(question)
    answer = None
    if known is not None:
        uploads = () if known[0] == before else svc.added_uploads(known[0])
        if uploads == ():
            answer = known[1]
        elif uploads is not None:
            answer = extend(known[1], uploads)
    if answer is None:
        answer = fresh()
    if svc.data_version() == before:
        _latest.put(question, before, answer)
    return answer


@st.cache_data(show_spinner=False, max_entries=8)
def _facets(key: tuple[str, ...], version: str, _settings: Settings) -> Facets:
    """Filter choices and the stored count at this data version."""
    with service(_settings) as svc:
        return _answer(("facets", key), svc, svc.facets, svc.extend_facets)


@st.cache_resource(show_spinner="Selecting incidents…", max_entries=8)
def _selection(key: tuple[str, ...], version: str, spec: FilterSpec, _settings: Settings) -> gpd.GeoDataFrame:
    """The incidents matching ``spec`` at this data version, with the columns the map's
    representation needs (:meth:`IncidentService.select_for_map`), shared and never mutated."""
    with service(_settings) as svc:
        return _answer(
            ("selection", key, spec), svc,
            lambda: svc.select_for_map(spec, EXTRA_COLUMNS, marker_rows=MARKER_LIMIT, cluster_rows=CLUSTER_LIMIT).incidents,
            lambda old, uploads: svc.extend_for_map(old, spec, uploads, marker_rows=MARKER_LIMIT,
                                                    cluster_rows=CLUSTER_LIMIT))


@st.cache_data(show_spinner=False, max_entries=64)
def _summaries(key: tuple[str, ...], version: str, spec: FilterSpec, step: str, _sel: gpd.GeoDataFrame,
               _settings: Settings) -> Summaries:
    """Key figures, timeline and breakdowns (``_sel`` follows from the hashed arguments)."""
    return service(_settings).summaries(Selection(incidents=_sel), step, top=12)  # no store access


@st.cache_data(show_spinner=False, max_entries=64)
def _figures(key: tuple[str, ...], version: str, spec: FilterSpec, _sel: gpd.GeoDataFrame) -> KeyFigures:
    """Incidents, fatalities, distinct actors and date span (``_sel`` follows from the hashed arguments)."""
    return IncidentService.key_figures(Selection(incidents=_sel))


@st.cache_data(show_spinner=False, max_entries=16)
def _table(key: tuple[str, ...], version: str, spec: FilterSpec, limit: int | None,
           _sel: gpd.GeoDataFrame) -> pd.DataFrame:
    """The selection as the display table (at most ``limit`` newest rows)."""
    return IncidentService.table(Selection(incidents=_sel), limit=limit)


@st.cache_resource(show_spinner=False, max_entries=32)
def _buffers(key: tuple[str, ...], files: tuple[str, ...], routes: tuple[str, ...], sites: tuple[str, ...],
             km: float, _context: Context) -> gpd.GeoDataFrame | None:
    """Buffers around the chosen routes and sites, for drawing (None when none chosen)."""
    parts = [buffer_features(layer[layer[col].isin(names)][[col, "geometry"]].rename(columns={col: "name"}), km)
             for layer, names, col in ((_context.routes, routes, "name"), (_context.sites, sites, "name_en"))
             if names and layer is not None]
    if not parts:
        return None
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=parts[0].crs)


def choices_from_facets(facets: Facets) -> S.FilterChoices:
    """What the filter widgets offer, from the service's facets (an empty store: today..today)."""
    today = dt.date.today()
    return S.FilterChoices(
        first=facets.first or today, last=facets.last or today, actors=facets.actors,
        event_types=facets.event_types, municipalities=facets.municipalities, routes=facets.routes,
        sites=facets.sites, total=facets.count,
    )


@dataclass(frozen=True)
class Snapshot:
    """The data as of this rerun: settings plus the data version every cached answer is keyed on."""

    settings: Settings
    key: tuple[str, ...]
    version: str

    @property
    def layers(self) -> Context:
        """Boundaries (``None`` when not installed), routes, sites and a notice per unusable file."""
        return _context(self.key, context_key(self.settings), self.settings)

    @property
    def facets(self) -> Facets:
        """Filter choices and the stored count (cached per data version)."""
        return _facets(self.key, self.version, self.settings)

    @property
    def choices(self) -> S.FilterChoices:
        """What the filter widgets offer."""
        return choices_from_facets(self.facets)

    @property
    def large(self) -> bool:
        """True when the store holds more than ``CONFLICTMAP_PUSHDOWN_ROWS`` incidents (lean reads,
        a table of the newest rows)."""
        return self.facets.count > self.settings.pushdown_rows

    def selection(self, spec: FilterSpec) -> gpd.GeoDataFrame:
        """The incidents matching ``spec`` (a shared frame: do not mutate)."""
        return _selection(self.key, self.version, spec, self.settings)

    def summaries(self, spec: FilterSpec, step: str) -> Summaries:
        """Key figures, timeline per ``step`` and breakdowns (event type, top 12 actors, municipality)."""
        return _summaries(self.key, self.version, spec, step, self.selection(spec), self.settings)

    def figures(self, spec: FilterSpec) -> KeyFigures:
        """Key figures of the selection only (what the Map page shows)."""
        return _figures(self.key, self.version, spec, self.selection(spec))

    def table(self, spec: FilterSpec) -> pd.DataFrame:
        """The selection as display rows (a large store's: the newest ``S.PUSHDOWN_TABLE_ROWS``)."""
        limit = S.PUSHDOWN_TABLE_ROWS if self.large else None
        return _table(self.key, self.version, spec, limit, self.selection(spec))

    def proximity(self, spec: FilterSpec) -> str | None:
        """"N incidents within X km, M more possibly within X km" for a proximity filter (None without one).

        "Possibly": the incident's area of plausible location (its ``geo_precision``) reaches the
        distance though its point does not; such incidents are outside the selection, so a wider
        selection (the distance plus the largest uncertainty radius) is classified.
        """
        if not spec.uses_proximity:
            return None
        ctx = self.layers
        parts = [layer[layer[col].isin(names)] for layer, names, col in
                 ((ctx.routes, spec.near_routes, "name"), (ctx.sites, spec.near_sites, "name_en"))
                 if layer is not None and names]
        if not parts:
            return None
        features = gpd.GeoDataFrame(pd.concat([p[["geometry"]] for p in parts], ignore_index=True),
                                    geometry="geometry", crs=parts[0].crs)
        widest = max(UNCERTAINTY_RADIUS_M.values()) / 1000.0
        wide = self.selection(replace(spec, near_km=spec.near_km + widest))
        return proximity_text(proximity_classes(wide, features, spec.near_km), spec.near_km)

    def buffers(self, spec: FilterSpec) -> gpd.GeoDataFrame | None:
        """The proximity buffers ``spec`` asks for, or ``None``."""
        if not spec.uses_proximity:
            return None
        return _buffers(self.key, context_key(self.settings), spec.near_routes, spec.near_sites, spec.near_km,
                        self.layers)

    def context(self, spec: FilterSpec, view: S.ViewOptions) -> Selection:
        """What the exporters get: the whole selection, the context layers and the view options
        (:meth:`IncidentService.as_selection`, with this session's cached context layers)."""
        # The service's tiles argument: None = the configured tiles, "" = none.
        tiles = {"osm": "osm", "custom": None}.get(view.basemap, "")
        return service(self.settings).as_selection(spec, self.selection(spec), metric=view.metric, tiles=tiles)

    def export_selection(self, spec: FilterSpec, view: S.ViewOptions) -> Selection:
        """:meth:`context` with the curation in force (statuses, sources, sequences) attached, and
        joined to the rows when few enough for full popups: what the exporters draw."""
        return curated(self.context(spec, view), self.settings)

    def drawable(self, incidents: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """``incidents`` joined with their curation when few enough for full popups
        (:func:`geodata.service.curation.curated`); as they are otherwise."""
        return curated(Selection(incidents=incidents), self.settings).incidents


def snapshot() -> Snapshot:
    """The settings and the store's current data version (call once per rerun).

    Raises:
        geodata.store.StoreError: if the store cannot be opened or read.
    """
    settings = get_settings()
    with service(settings) as svc:
        version = svc.data_version()
    return Snapshot(settings, settings_key(settings), version)


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
    with service(settings) as svc:
        return svc.prepare_upload(data, name, "mapping" if mapping else "auto", mapping, progress=progress)


def store_upload(prepared: Prepared, settings: Settings, progress: Progress) -> UploadOutcome:
    """Store the valid rows of ``prepared`` as one upload (one transaction).

    Raises:
        geodata.store.StoreError: if the store rejects the write (nothing is kept).
    """
    with service(settings) as svc:
        return svc.store_upload(prepared, progress)


def undo_upload(settings: Settings, upload_id: int) -> UndoOutcome:
    """Undo one upload: remove the incidents no other upload holds.

    Raises:
        geodata._errors.InputError: if there is no such upload or it was undone already.
        geodata.store.StoreError: if the store cannot be written.
    """
    with service(settings) as svc:
        return svc.undo(upload_id)


def in_view(settings: Settings, spec: FilterSpec, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    """Every column of the incidents of ``spec`` inside ``box`` with their curation
    (:meth:`geodata.service.incidents.IncidentService.select_in_view`)."""
    with service(settings) as svc:
        return svc.select_in_view(spec, box)


def role_of(settings: Settings, who: str) -> str:
    """The role ``who`` acts with in the store (:func:`geodata.store.users_sql.role_of_user`)."""
    with service(settings) as svc:
        return svc.role_of(who)


# ---------------------------------------------------------------- curation (sources, status, sequences)
def curation_service(settings: Settings) -> CurationService:
    """A curation service for ``settings`` (use as a context manager: it closes its store connection)."""
    return service(settings).curation()
