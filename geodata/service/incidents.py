"""The one incident service: what the dashboard, both command lines, the exports and the benchmarks call.

No Streamlit here. Every reader of incidents goes through :meth:`IncidentService.select`, which
returns one :class:`geodata.model.selection.Selection`; summaries, table rows, context layers, uploads
and undo are methods of the same object, so a page or a command only wires its inputs to it.

Usage::

    with IncidentService(get_settings()) as svc:
        sel = svc.select(FilterSpec(event_types=("Riots",)))
        figures = svc.key_figures(sel)

The service opens the store lazily and keeps one connection; it is cheap to create per command
and per Streamlit session. :meth:`data_version` is a token that changes whenever any process
changes the stored data — cache keys for everything derived from the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import hashlib
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Concatenate, Iterator, ParamSpec, Sequence, TypedDict, TypeVar, Unpack

import geopandas as gpd
import pandas as pd

from geodata.query import analysis
from geodata._errors import InputError
from geodata.model.filters import FilterSpec
from geodata.ingest.formats import ColumnMapping
from geodata.ingest.pipeline import IngestReport, Prepared, Progress
from geodata.geo.context import Context
from geodata.model.schema import EVENT_TYPES
from geodata.model.selection import Selection
from geodata.settings import Settings, get_settings

if TYPE_CHECKING:  # imported where used: the store and ingest packages load their back-ends
    from geodata.ingest.pipeline import FileInfo
    from geodata.store.protocol import IncidentStore
    from geodata.store.columnar import Reads
    from geodata.service.watch import Digest, WatchArea
    from geodata.service.curation import CurationService

#: Largest upload id the stores accept (SQLite INTEGER / PostgreSQL BIGINT).
MAX_UPLOAD_ID = 2**63 - 1


@dataclass(frozen=True)
class Facets:
    """What the filter widgets offer, from cheap store queries (hashable: safe as a cache value).

    Attributes:
        count: stored incidents (bundled ones included).
        first, last: event-date range, ``None`` when the store is empty.
        actors: distinct actor names (primary and associated, ";"-lists split), sorted.
        event_types: ACLED event types (the fixed list, so a filter can be set before data exist).
        municipalities: municipalities the incidents lie in, plus those of the boundary layer.
        routes, sites: route ``name`` and site ``name_en`` values for the proximity filter.
        data_version: the :meth:`IncidentService.data_version` these facets were computed at.
    """

    count: int
    first: dt.date | None
    last: dt.date | None
    actors: tuple[str, ...]
    event_types: tuple[str, ...]
    municipalities: tuple[str, ...]
    routes: tuple[str, ...]
    sites: tuple[str, ...]
    data_version: str = ""

    def sub_event_types(self, event_types: Sequence[str] = ()) -> tuple[str, ...]:
        """ACLED sub-event types of the chosen event types (of all types when none is chosen)."""
        chosen = tuple(event_types) or self.event_types
        return tuple(s for t in chosen for s in EVENT_TYPES.get(t, ()))


@dataclass(frozen=True)
class Summaries:
    """Key figures, timeline and breakdowns of one selection (see :mod:`geodata.query.analysis`)."""

    figures: analysis.KeyFigures
    timeline: pd.DataFrame
    by_event_type: pd.DataFrame
    by_actor: pd.DataFrame
    by_municipality: pd.DataFrame


@dataclass(frozen=True)
class UploadOutcome:
    """What storing an upload did, and what the store holds afterwards.

    Attributes:
        report: the :class:`geodata.ingest.pipeline.IngestReport` (upload id, accepted, duplicates…).
        total: stored incidents after the upload (bundled included).
        data_version: the store's token after the upload (differs from before when rows landed).
    """

    report: IngestReport
    total: int
    data_version: str


@dataclass(frozen=True)
class UndoOutcome:
    """What undoing an upload did.

    Attributes:
        upload_id: the upload undone.
        removed: incidents deleted (held by no other live upload).
        kept: incidents of this upload that stay because another live upload also holds them.
        total: stored incidents afterwards.
    """

    upload_id: int
    removed: int
    kept: int
    total: int

    def message(self) -> str:
        """One plain line for the command line and the dashboard."""
        text = f"undone upload {self.upload_id}: removed {self.removed} incidents"
        if self.kept:
            text += f"; {self.kept} stay because another upload also holds them"
        return text


def parse_upload_id(value: object) -> int:
    """An upload id from user text (command line, URL, widget).

    Raises:
        InputError: if ``value`` is not a whole number between 1 and :data:`MAX_UPLOAD_ID`.
    """
    try:
        n = int(str(value).strip())
    except ValueError:
        raise InputError(f"not an upload id: {str(value)[:40]!r} (expected a whole number)") from None
    if not 1 <= n <= MAX_UPLOAD_ID:
        raise InputError(f"no upload {str(value)[:40]}: upload ids are whole numbers from 1 to {MAX_UPLOAD_ID}")
    return n


_P = ParamSpec("_P")
_R = TypeVar("_R")
_Service = TypeVar("_Service", bound="IncidentService")


def _serialised(method: Callable[Concatenate[_Service, _P], _R]) -> Callable[Concatenate[_Service, _P], _R]:
    """Run ``method`` under the service's lock: one service may be shared by several Streamlit
    sessions (threads), and a database connection serves one statement at a time."""
    @functools.wraps(method)
    def wrapper(self: _Service, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper


class ViewOptions(TypedDict, total=False):
    """Options of :meth:`IncidentService.select` that :meth:`IncidentService.select_for_map` passes on."""

    metric: str
    tiles: str | None
    use_boundaries: bool


class IncidentService:
    """Incidents, their summaries and uploads, for one configuration (:class:`Settings`).

    Args:
        settings: where the store, boundaries and routes are; ``None`` reads the environment.
        db_url: store URL overriding ``settings.db_url`` (the command lines' ``--db``).

    Thread-safe: every method that touches the store holds one lock, so one service can be shared
    (e.g. ``st.cache_resource``) by every session of a dashboard process.
    """

    def __init__(self, settings: Settings | None = None, db_url: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.db_url = db_url or self.settings.db_url
        self._store: IncidentStore | None = None
        self._context: Context | None = None
        self._context_key: tuple[str, ...] | None = None
        #: Incidents (re)located when the store was opened (after boundaries were installed or changed).
        self.enriched_rows = 0
        self._lock = threading.RLock()

    # -- lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> "IncidentService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @_serialised
    def close(self) -> None:
        """Close the store connection (the service can be used again: it reopens on demand)."""
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    @_serialised
    def store(self) -> IncidentStore:
        """The open store (:class:`geodata.store.protocol.IncidentStore`), opened and seeded on first use.

        Raises:
            StoreError: if the store cannot be opened, migrated or seeded.
        """
        if self._store is None:
            from geodata.service.curation import seed_bundled_curation
            from geodata.ingest.bundled import seed_bundled
            from geodata.store import open_store

            from geodata.model.actor import maintenance

            store = open_store(self.db_url, create=True)
            try:
                ctx = self.context()
                with maintenance():  # the program's own upkeep, whoever opened the store
                    self.enriched_rows = sync_enrichment(store, ctx)
                    seed_bundled(store, ctx.municipalities)
                    # The bundled verification, sources and sequences belong with the bundled rows:
                    # a digest or an export read before anyone opened the curation would call a
                    # disputed incident "reported".
                    seed_bundled_curation(store)
            except BaseException:
                store.close()
                raise
            self._store = store
        return self._store

    def curation(self) -> "CurationService":
        """The curation part of the door (verification, sources, sequences, duplicate decisions) for the
        same store; use it as a context manager (it closes its own connection).

        Returns:
            A :class:`geodata.service.curation.CurationService`.
        """
        from geodata.service.curation import CurationService

        return CurationService(self.settings, db_url=self.db_url)

    def store_exists(self) -> bool:
        """Whether the store this service names exists, without creating or opening it (a command that
        only lists or undoes has nothing to say about a store that was never made)."""
        from geodata.store import store_exists

        return store_exists(self.db_url)

    def locate_stored(self) -> int:
        """Open the store if needed and say how many stored incidents were (re)located in the current
        boundaries on opening (after ``python -m geodata boundaries`` installed or changed them).

        Raises:
            StoreError: if the store cannot be opened, migrated or seeded.
        """
        with self._lock:
            _ = self.store
            return self.enriched_rows

    # -- reading ---------------------------------------------------------------------------------
    def _reads(self) -> Reads:
        """The store's read verbs, through the process's columnar copy once the store is large
        (``settings.analytic_rows``; :mod:`geodata.store.columnar`)."""
        from geodata.store.columnar import reads_for

        return reads_for(self.store, self.db_url, self.settings.analytic_rows, self.settings.data_dir / "columnar")

    @_serialised
    def data_version(self) -> str:
        """A token that changes whenever any process changes the stored incidents (one tiny query).

        Raises:
            StoreError: if the store cannot be read.
        """
        # The URL is hashed: a PostgreSQL URL may carry a password, and the token ends up in cache keys.
        return f"{hashlib.sha256(self.db_url.encode()).hexdigest()[:12]}:{self.store.data_version()}"

    @_serialised
    def facets(self) -> Facets:
        """Filter choices from the store (distinct values, date range, count) and the context layers."""
        ctx = self.context()
        f = self._reads().facets()
        names = () if ctx.municipalities is None else tuple(ctx.municipalities["municipality"].astype(str))
        munis = sorted({m for m in (*f.municipalities, *names) if m}, key=str.casefold)
        return Facets(
            count=f.count, first=f.first, last=f.last, actors=f.actors, event_types=tuple(EVENT_TYPES),
            municipalities=tuple(munis),
            routes=tuple(ctx.routes["name"].astype(str)) if ctx.routes is not None else (),
            sites=tuple(ctx.sites["name_en"].astype(str)) if ctx.sites is not None else (),
            data_version=self.data_version(),
        )

    @_serialised
    def count(self, spec: FilterSpec | None = None) -> int:
        """How many stored incidents match ``spec`` (exact; every incident when ``None``)."""
        from geodata.query.pushdown import residual_spec

        if spec is None or residual_spec(spec) == FilterSpec():  # the SQL decides it exactly
            return self._reads().count(spec)
        return len(self.select(spec, columns=("event_date",)).incidents)

    @_serialised
    def select(self, spec: FilterSpec | None = None, columns: Sequence[str] | None = None, *,
               distances: bool | None = None, metric: str = "incidents", tiles: str | None = None,
               use_boundaries: bool = True, curation: bool = False) -> Selection:
        """The incidents matching ``spec``, with the context layers, as one :class:`Selection`.

        The store answers dates, types, fatalities, municipality (a stored, indexed column), actors
        (a superset) and a proximity box; pandas then decides what SQL cannot say exactly
        (associated-actor list membership, text, exact distance).

        Args:
            spec: the filters; ``None`` for everything.
            columns: incident columns to read (coordinates, ``municipality`` and whatever the filters
                need are always added); ``None`` for every column. Fewer columns = faster reads.
            distances: add ``nearest_route``/``dist_route_m``/``nearest_site``/``dist_site_m``
                (computed for the selected rows, cached per routes-file version). ``None``: only
                when every column is read and the selection is small enough for markers.
            metric, tiles, use_boundaries: passed into the :class:`Selection` for exporters
                (``tiles`` ``None`` = the configured tiles, ``""`` = none).
            curation: attach the curation in force (and join it to the rows when few enough for full
                popups; see :func:`geodata.service.curation.curated`): what exporters draw.
        Returns:
            A :class:`Selection` (``incidents`` is a GeoDataFrame in EPSG:4326 with ``origin``).
        Raises:
            StoreError: if the store cannot be read.
        """
        from geodata.query.pushdown import select_rows

        from geodata.service.curation import curated

        spec = spec or FilterSpec()
        incidents = select_rows(self._reads(), spec, columns, self.context(), distances=distances)
        selection = self.as_selection(spec, incidents, metric=metric, tiles=tiles, use_boundaries=use_boundaries)
        # What exporters draw: statuses, sources and sequences joined here, never by the drawing code.
        return curated(selection, self.settings) if curation else selection

    def as_selection(self, spec: FilterSpec, incidents: gpd.GeoDataFrame, *, metric: str = "incidents",
                     tiles: str | None = None, use_boundaries: bool = True) -> Selection:
        """``incidents`` with the context layers and view options, as one :class:`Selection` (reads no store).

        Args:
            spec: the filters that selected ``incidents``.
            incidents: the selected incidents.
            metric: choropleth metric.
            tiles: ``None`` for the configured tiles (with their attribution), ``""`` for none, else
                ``"osm"`` or a tile URL.
            use_boundaries: attach the municipalities (and say how to get them when missing).
        """
        from geodata.geo.boundaries import HOW_TO_GET_BOUNDARIES

        ctx = self.context()
        notes = list(ctx.notices)
        if use_boundaries and ctx.municipalities is None and HOW_TO_GET_BOUNDARIES not in notes:
            notes.append(HOW_TO_GET_BOUNDARIES)
        return Selection(
            incidents=incidents, spec=spec, municipalities=ctx.municipalities if use_boundaries else None,
            routes=ctx.routes, sites=ctx.sites,
            tiles=self.settings.tiles if tiles is None else (tiles or None), metric=metric,
            tiles_attribution=self.settings.tiles_attribution if tiles is None else None, notes=tuple(notes),
            country=ctx.country,
        )

    @_serialised
    def role_of(self, who: str) -> str:
        """The role ``who`` acts with: as the store's ``users`` table lists them, ``admin`` while it is
        empty, else ``viewer`` (:mod:`geodata.model.roles`)."""
        from geodata.store.users_sql import role_of_user

        with self._unseeded() as store:  # asking who someone is changes nothing
            return role_of_user(store, who)

    # -- team and audit (through the same door as every change) --------------------------------
    @_serialised
    def users_add(self, email: str, role: str) -> bool:
        """Add ``email`` with ``role``, or change its role (the actor needs the admin role, except
        for the first user, who must be an admin; :mod:`geodata.store.users_sql`).

        Returns:
            ``True`` when added, ``False`` when an existing user's role was set.
        Raises:
            InputError: for a bad e-mail or role, or a change that would leave no admin.
            PermissionDenied: if the actor may not manage users.
        """
        from geodata.store.users_sql import add_user

        with self._unseeded() as store:
            return add_user(store, email, role)

    @_serialised
    def users_remove(self, email: str) -> bool:
        """Remove ``email``; ``False`` when no such user (raises as :meth:`users_add`)."""
        from geodata.store.users_sql import remove_user

        with self._unseeded() as store:
            return remove_user(store, email)

    @_serialised
    def users_list(self) -> list[dict[str, str]]:
        """Every user: ``email``, ``role``, ``added_at``, ``added_by``."""
        from geodata.store.users_sql import list_users

        with self._unseeded() as store:
            return list_users(store)

    @_serialised
    def audit_entries(self, since: str | None = None) -> list[dict[str, Any]]:
        """The audit log (oldest first), from ISO time ``since`` (UTC) when given."""
        from geodata.store import audit_sql

        with self._unseeded() as store:
            return audit_sql.read(store, since)

    @_serialised
    def audit_verify(self) -> Any:
        """Check the audit log's hash chain (:func:`geodata.store.audit_sql.verify`: ``ok``,
        ``first_bad``, ``reason``, ``entries``, ``head_id``, ``head_hash``)."""
        from geodata.store import audit_sql

        with self._unseeded() as store:
            return audit_sql.verify(store)

    @contextlib.contextmanager
    def _unseeded(self) -> Iterator[IncidentStore]:
        """The open store, or a connection opened for one call without seeding the bundled data."""
        from geodata.store import open_store

        if self._store is not None:
            yield self._store
            return
        store = open_store(self.db_url, create=True)
        try:
            yield store
        finally:
            store.close()

    @_serialised
    def sync_state(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Each live source's last sync (``sync_state``) and the stored incidents per dataset and licence.

        Raises:
            StoreError: if the store cannot be read.
        """
        from geodata.store.sync_sql import dataset_counts, read_sync_state

        with self._unseeded() as store:
            return read_sync_state(store), dataset_counts(store)

    @_serialised
    def sync_collisions(self) -> pd.DataFrame:
        """Pulled rows a sync refused because their id is held by a row it does not own (bundled, an
        upload, another source): possible duplicates for an analyst to compare.

        Returns:
            One row per stored id and source, the newest pull: ``event_id_cnty``, ``source``,
            ``changed_at`` (ISO, UTC) and the pulled ``event_date``, ``event_type``, ``location``,
            ``fatalities`` (text, as pulled); empty when there is none.
        Raises:
            StoreError: if the store cannot be read.
        """
        import json

        from geodata.store.sync_sql import read_changes

        columns = ["event_id_cnty", "source", "changed_at", "event_date", "event_type", "location", "fatalities"]
        with self._unseeded() as store:
            changes = read_changes(store)
        changes = changes[changes["change"] == "collision"].drop_duplicates(["source", "dedup_key"], keep="last")
        rows = []
        for r in changes.itertuples():
            pulled = json.loads(r.previous or "{}")
            key = str(r.dedup_key)
            rows.append([key[3:] if key.startswith("id:") else key, r.source, r.changed_at,
                         *(str(pulled.get(c, "")) for c in columns[3:])])
        return pd.DataFrame(rows, columns=columns)

    @_serialised
    def sync(self, source: str, *, country: str, since: dt.date | None = None, version: str = "26.1",
             progress: Callable[[str], None] | None = None) -> Any:
        """Pull ``source`` ("acled" or "ucdp") into the store (:mod:`geodata.sync.engine`): one upload,
        one transaction; the actor needs the admin role (checked when it is written).

        Returns:
            The sync's counts (``.line()`` says them in one line).
        Raises:
            SourceError: if the source cannot be reached or answers unexpectedly (nothing stored).
            PermissionDenied: if the actor's role may not run a sync.
            StoreError: if the store cannot be written.
        """
        from geodata.sync.engine import sync_acled, sync_ucdp

        with self._unseeded() as store:
            if source == "acled":
                return sync_acled(self.settings, store, country=country, since=since, progress=progress)
            return sync_ucdp(self.settings, store, version=version, country=country, progress=progress)

    @_serialised
    def select_in_view(self, spec: FilterSpec | None, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
        """Every column of the incidents of ``spec`` inside ``box``, joined with their curation
        (status, every source, sequence): what the map needs to draw them one by one with popups.

        The store reads only the box (its coordinate index; a selection by distance reads its own
        area and the box is applied after), so this is cheap however many incidents are stored.

        Args:
            spec: the filters (``None`` for everything).
            box: ``(west, south, east, north)`` in EPSG:4326 degrees.
        Returns:
            GeoDataFrame (EPSG:4326) as :meth:`select` returns it, plus the curation columns.
        Raises:
            StoreError: if the store cannot be read.
        """
        from shapely.geometry import box as shapely_box

        from geodata.service.curation import with_curation
        from geodata.query.pushdown import finish_rows, read_rows
        from geodata.settings import METRIC_CRS
        from geodata.store.records import Proximity

        spec = spec or FilterSpec()
        west, south, east, north = box
        if spec.uses_proximity:
            rows = read_rows(self.store, spec, None, self.context())
        else:
            area = gpd.GeoSeries([shapely_box(west, south, east, north)], crs="EPSG:4326").to_crs(METRIC_CRS)
            rows = self.store.read(spec, None, Proximity(bbox=(west, south, east, north),
                                                         metric_wkt=area.iloc[0].wkt, radius_m=0.0))
        lon, lat = pd.to_numeric(rows["longitude"]), pd.to_numeric(rows["latitude"])
        rows = rows[((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)).to_numpy()]
        return with_curation(finish_rows(rows.reset_index(drop=True), spec, None, self.context()), self.settings)

    @_serialised
    def select_for_map(self, spec: FilterSpec | None = None, extra_columns: Sequence[str] = (), *,
                       marker_rows: int | None = None, cluster_rows: int | None = None,
                       **kwargs: Unpack[ViewOptions]) -> Selection:
        """:meth:`select` with the columns the map's representation needs, decided by the size.

        At most ``marker_rows`` matching incidents: every column and distances (popups show them);
        at most ``cluster_rows``: :data:`geodata.query.pushdown.LEAN_COLUMNS`; above: only
        :data:`geodata.query.pushdown.AGGREGATE_COLUMNS` (hexagons, choropleth). ``extra_columns`` are
        added to the lean reads (e.g. dates and actors for the charts).

        Args:
            spec: the filters.
            extra_columns: columns the caller shows besides the map.
            marker_rows, cluster_rows: default :data:`geodata.query.pushdown.DISTANCE_ROWS` (the map's
                marker limit) and ``settings.pushdown_rows`` (its cluster limit).
            kwargs: passed to :meth:`select` (metric, tiles, use_boundaries).
        """
        from geodata.query.pushdown import (
            AGGREGATE_COLUMNS, DISTANCE_ROWS, LEAN_COLUMNS, finish_rows, proximity_for, read_rows,
        )

        spec = spec or FilterSpec()
        ctx = self.context()
        markers = DISTANCE_ROWS if marker_rows is None else marker_rows
        clusters = self.settings.pushdown_rows if cluster_rows is None else cluster_rows
        lean = tuple(dict.fromkeys((*LEAN_COLUMNS, *extra_columns)))
        if spec.actors:
            # An actor filter cannot use an index (associated actors are ";"-lists matched with
            # LIKE), so every SQL pass over it scans the table: instead of counting first and
            # reading after (two scans), read the lean columns once, at most ``clusters + 1``
            # rows, and let the number read choose the representation.
            rows = read_rows(self._reads(), spec, lean, ctx, limit=clusters + 1)
            n = len(rows)
            if markers < n <= clusters:
                return self.as_selection(spec, finish_rows(rows, spec, lean, ctx, distances=False), **kwargs)
        else:
            # The count may over-select (text, proximity box): it only chooses how much to read.
            n = self._reads().count(spec, proximity_for(spec, ctx.routes, ctx.sites))
        if n <= markers:
            return self.select(spec, None, distances=True, **kwargs)
        base = lean if n <= clusters else tuple(dict.fromkeys((*AGGREGATE_COLUMNS, *extra_columns)))
        return self.select(spec, base, distances=False, **kwargs)

    @_serialised
    def added_uploads(self, since: str) -> tuple[int, ...] | None:
        """The uploads that are the only changes since :meth:`data_version` ``since`` (oldest first;
        ``None`` when anything else changed, or ``since`` is another store's: read again)."""
        prefix, _, store_token = since.partition(":")
        if prefix != self.data_version().partition(":")[0]:
            return None
        return self.store.added_uploads(store_token)

    @_serialised
    def extend_for_map(self, previous: gpd.GeoDataFrame, spec: FilterSpec, uploads: Sequence[int], *,
                       marker_rows: int | None = None, cluster_rows: int | None = None) -> gpd.GeoDataFrame | None:
        """``previous`` (a :meth:`select_for_map` answer for ``spec``) plus the incidents ``uploads`` added.

        After an upload only its rows are read (through the upload index) instead of the whole
        selection again: a 1,000-row upload into a million-incident store costs a 1,000-row read.
        Uploads only add incidents (a row whose key is stored already is not inserted again), so
        the old rows are unchanged; see :meth:`added_uploads` for when this applies.

        Args:
            previous: the earlier selection's incidents (not modified).
            spec: the filters it was selected with.
            uploads: :meth:`added_uploads` since it was selected.
            marker_rows, cluster_rows: as :meth:`select_for_map`.
        Returns:
            The extended incidents with the same columns, or ``None`` when the representation (and so
            the columns to read) would change or ``previous`` carries per-row distances: select again.
        Raises:
            StoreError: if the store cannot be read.
        """
        from geodata.query.pushdown import DISTANCE_COLUMNS, DISTANCE_ROWS, finish_rows, proximity_for

        markers = DISTANCE_ROWS if marker_rows is None else marker_rows
        clusters = self.settings.pushdown_rows if cluster_rows is None else cluster_rows
        if len(previous) <= markers or any(c in previous for c in DISTANCE_COLUMNS):
            return None  # markers read every column with distances: cheap to select again
        ctx = self.context()
        columns = tuple(c for c in previous.columns if c not in ("origin", previous.geometry.name))
        near = proximity_for(spec, ctx.routes, ctx.sites)
        if spec.uses_proximity and near is None:
            return previous
        rows = self.store.read(spec, columns, near, uploads=uploads)
        added = finish_rows(rows, spec, columns, ctx, distances=False)
        if (len(previous) <= clusters) != (len(previous) + len(added) <= clusters):
            return None  # crosses the cluster limit: another representation, other columns
        if added.empty:
            return previous
        return gpd.GeoDataFrame(pd.concat([previous, added[previous.columns]], ignore_index=True),
                                geometry=previous.geometry.name, crs=previous.crs)

    @_serialised
    def extend_facets(self, previous: "Facets", uploads: Sequence[int]) -> "Facets":
        """``previous`` facets merged with those of the incidents ``uploads`` added (see
        :meth:`extend_for_map`): four small reads through the upload index instead of scans."""
        f = self.store.facets(uploads=uploads)
        firsts = [d for d in (previous.first, f.first) if d is not None]
        lasts = [d for d in (previous.last, f.last) if d is not None]
        return replace(
            previous, count=previous.count + f.count, first=min(firsts) if firsts else None,
            last=max(lasts) if lasts else None,
            actors=tuple(sorted({*previous.actors, *f.actors}, key=str.casefold)),
            municipalities=tuple(sorted({m for m in (*previous.municipalities, *f.municipalities) if m},
                                        key=str.casefold)),
            data_version=self.data_version(),
        )

    # -- summaries -------------------------------------------------------------------------------
    @staticmethod
    def key_figures(selection: Selection) -> analysis.KeyFigures:
        """Incidents, fatalities, distinct actors and date span of ``selection``."""
        return analysis.key_figures(selection.incidents)

    @staticmethod
    def timeline(selection: Selection, freq: str = "month") -> pd.DataFrame:
        """Incidents and fatalities per period (``freq`` "day", "week" or "month") by event type."""
        return analysis.timeline(selection.incidents, freq)

    @staticmethod
    def breakdown(selection: Selection, by: str, top: int | None = None) -> pd.DataFrame:
        """Incidents and fatalities per value of ``by`` ("event_type", "actor", "municipality", …)."""
        return analysis.breakdown(selection.incidents, by, top)

    def summaries(self, selection: Selection, freq: str = "month", top: int = 10) -> Summaries:
        """Key figures, the timeline and the three breakdowns of ``selection`` at once."""
        return Summaries(
            figures=self.key_figures(selection), timeline=self.timeline(selection, freq),
            by_event_type=self.breakdown(selection, "event_type"), by_actor=self.breakdown(selection, "actor", top),
            by_municipality=self.breakdown(selection, "municipality"),
        )

    @staticmethod
    def table(selection: Selection, limit: int | None = None) -> pd.DataFrame:
        """The selection as display rows, newest first (at most ``limit``; safe links only)."""
        return analysis.table_view(selection.incidents, limit=limit)

    # -- context ---------------------------------------------------------------------------------
    @_serialised
    def context(self) -> Context:
        """Municipal boundaries, routes and sites; a layer whose file is unusable becomes a notice.

        Reloaded when a file's path, size or modification time changes.
        """
        from geodata.geo.context import context_key, load_context

        key = context_key(self.settings)
        if self._context is None or key != self._context_key:
            self._context = load_context(self.settings)
            self._context_key = key
            if self._store is not None:  # boundaries installed or changed while the store is open
                from geodata.model.actor import maintenance

                with maintenance():
                    self.enriched_rows = sync_enrichment(self._store, self._context)
        return self._context

    # -- uploads ---------------------------------------------------------------------------------
    @staticmethod
    def inspect_upload(data: bytes, encoding: str | None = None) -> FileInfo:
        """Encoding, delimiter, columns and format of a file's start, without reading it all
        (:class:`geodata.ingest.pipeline.FileInfo`; ``format`` is ``None`` when a mapping is needed).

        Raises:
            IngestError: if the file is empty, binary or undecodable.
        """
        from geodata.ingest import inspect_file

        return inspect_file(data, encoding)

    def prepare_upload(self, data: bytes, file_name: str, fmt: str = "auto", mapping: ColumnMapping | None = None,
                       encoding: str | None = None, progress: Progress | None = None) -> Prepared:
        """Read, recognise and validate a file without storing it (the dashboard's preview).

        Raises:
            IngestError: if the file cannot be read or its format is not recognised.
        """
        from geodata.ingest import prepare

        return prepare(data, file_name, fmt, mapping, encoding, self.context().municipalities, progress)

    @_serialised
    def store_upload(self, prepared: Prepared, progress: Progress | None = None) -> UploadOutcome:
        """Store a prepared file as one upload (one transaction; municipality computed for its rows only).

        An upload that adds no new incident is undone at once (``report.discarded``), so no empty
        upload is left behind.

        Returns:
            An :class:`UploadOutcome` with the report and the store's count and version afterwards.
        Raises:
            StoreError: if the store cannot be written (nothing is kept).
        """
        from geodata.ingest import store_prepared

        report = store_prepared(prepared, self.store, self.settings, progress,
                                municipalities=self.context().municipalities)
        if report.accepted == 0 and report.upload_id is not None:
            # An upload that added nothing would only clutter the list of uploads (and its Undo would
            # remove nothing): it is undone at once and the report says so.
            self.store.undo_upload(report.upload_id)
            report.discarded = True
        return UploadOutcome(report=report, total=self.store.count(), data_version=self.data_version())

    @_serialised
    def ingest_file(self, path: Path, fmt: str = "auto", mapping: ColumnMapping | None = None,
                    encoding: str | None = None, progress: Progress | None = None) -> UploadOutcome:
        """Read, validate and store one file (the command line's ``ingest``).

        Raises:
            IngestError: if the file cannot be read or recognised (nothing stored).
            StoreError: if the store cannot be written (nothing stored).
        """
        from geodata.ingest import IngestError

        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise IngestError(f"cannot read {path}: {exc.strerror or exc}") from exc
        prepared = self.prepare_upload(data, Path(path).name, fmt, mapping, encoding, progress)
        return self.store_upload(prepared, progress)

    @_serialised
    def uploads(self, include_bundled: bool = True) -> pd.DataFrame:
        """Every upload, newest first: id, file name, sha256, format, counts, status, dates."""
        table = self.store.list_uploads()
        if not include_bundled:
            table = table[table["format"] != "bundled"].reset_index(drop=True)
        return table

    @_serialised
    def undo(self, upload_id: int | str) -> UndoOutcome:
        """Undo one upload: remove the incidents no other live upload holds.

        Raises:
            InputError: if ``upload_id`` is not a valid id, there is no such upload, it was undone
                already, or it is the bundled data.
            StoreError: if the store cannot be written (nothing changes).
        """
        n = parse_upload_id(upload_id)
        result = self.store.undo_upload(n)
        return UndoOutcome(upload_id=n, removed=result.removed, kept=result.kept, total=self.store.count())

    # -- watch areas and digests (issue 20) ----------------------------------------------------------
    @_serialised
    def watch_add(self, name: str, kind: str, ref: str, km: float | None = None, *, owner: str,
                  types: Sequence[str] = (), actor: str = "", min_status: str = "",
                  data: bytes | None = None) -> "WatchArea":
        """Save a watch area (a GeoJSON file, or a route/site/municipality and a distance) for ``owner``.

        Its read cursor starts now: its first digest lists what changes after it was saved. For
        ``kind="area"``, ``data`` is the GeoJSON itself (a dashboard upload; ``ref`` its file name).

        Raises:
            WatchError: bad name, kind, distance, filter, unknown route/site/municipality, unreadable
                file, or a name ``owner`` already uses.
            StoreError: if the store cannot be written.
        """
        import json

        from geodata.service import watch
        from geodata.store import watch_sql

        label = watch.check_name(name)
        filters = watch.check_filters(types, actor, min_status, tuple(EVENT_TYPES))
        ctx = self.context()
        geom, canonical = watch.area_geometry(kind, ref, km, routes=ctx.routes, sites=ctx.sites,
                                              municipalities=ctx.municipalities, data=data)
        import shapely

        row = watch_sql.add_watch(self.store, owner, label, kind, canonical, km,
                                  json.dumps(shapely.geometry.mapping(geom)), filters.as_dict())
        if row is None:
            raise watch.WatchError(f"you already have a watch area named {label!r}")
        return watch.WatchArea.from_row(row)

    @_serialised
    def watch_list(self, owner: str | None = None) -> "list[WatchArea]":
        """Saved watch areas of ``owner`` (``None``: everyone's), by name."""
        from geodata.service import watch
        from geodata.store import watch_sql

        return [watch.WatchArea.from_row(r) for r in watch_sql.list_watches(self.store, owner)]

    @_serialised
    def watch_get(self, name: str, owner: str) -> "WatchArea":
        """One watch area. Raises WatchError if ``owner`` has none of that name."""
        from geodata.service import watch
        from geodata.store import watch_sql

        row = watch_sql.get_watch(self.store, owner, " ".join(str(name).split()))
        if row is None:
            raise watch.WatchError(f"no watch area named {name!r} (see: conflictmap watch list)")
        return watch.WatchArea.from_row(row)

    @_serialised
    def watch_remove(self, name: str, owner: str) -> None:
        """Delete a watch area. Raises WatchError if ``owner`` has none of that name."""
        from geodata.service import watch
        from geodata.store import watch_sql

        if not watch_sql.remove_watch(self.store, owner, " ".join(str(name).split())):
            raise watch.WatchError(f"no watch area named {name!r} (see: conflictmap watch list)")

    @_serialised
    def digest(self, area: "WatchArea", since: "str | dt.datetime | None" = None,
               clock: "Callable[[], dt.datetime] | None" = None, *, levels: bool = True) -> "Digest":
        """What changed in ``area`` since its cursor ("last"/None) or a time; ``clock`` gives "now";
        ``levels=False`` skips the change levels (for a count)."""
        from geodata.service import watch

        return watch.build_digest(self.store, area, since=since, clock=clock or watch.utc_now, levels=levels)

    @_serialised
    def mark_read(self, digest: "Digest") -> "WatchArea":
        """Move the area's cursor to the end of what ``digest`` listed; returns the updated area."""
        from geodata.service import watch
        from geodata.store import watch_sql

        area = digest.area
        watch_sql.set_cursor(self.store, area.owner, area.name, digest.upto,
                             watch.mark_time(self.store, digest.upto, digest.until))
        return self.watch_get(area.name, area.owner)

    @_serialised
    def unread(self, owner: str, clock: "Callable[[], dt.datetime] | None" = None, *,
               levels: bool = True) -> "dict[str, Digest]":
        """Each of ``owner``'s areas' digest since its cursor (the Watch page's inbox), by name."""
        return {a.name: self.digest(a, None, clock, levels=levels) for a in self.watch_list(owner)}

    def send_digests(self, digests: "Sequence[Digest]", to: str) -> None:
        """E-mail ``digests`` (one message) through ``CONFLICTMAP_SMTP_URL``.

        Raises:
            WatchError: no mail server configured or a bad address; OutputError: sending failed.
        """
        from geodata.service import watch
        from geodata.settings import get_smtp_settings

        smtp = get_smtp_settings()
        if not smtp.url:
            raise watch.WatchError("set CONFLICTMAP_SMTP_URL (smtp://host:port) to send digests by e-mail")
        msg = watch.mail_message(digests, watch.check_address(to), smtp.sender)
        watch.send_mail(msg, smtp.url, smtp.user, smtp.password)


def sync_enrichment(store: IncidentStore, context: Context) -> int:
    """Re-enrich every stored incident when the boundaries in use differ from those the store's
    municipalities were computed with (recorded in the store as ``municipality_source``).

    Installing boundaries (``python -m geodata boundaries``) or pointing ``CONFLICTMAP_BOUNDARIES``
    elsewhere thus re-locates every incident once, on the next start; rows never enriched (NULL) are
    always filled.

    Returns:
        Rows updated.
    Raises:
        StoreError: if the store cannot be written.
    """
    from geodata.geo.enrich import locate_rows
    from geodata.geo.context import boundaries_identity

    ident = boundaries_identity(context.boundary_source)
    recorded = store.get_meta("municipality_source")

    def locate(rows: pd.DataFrame) -> pd.DataFrame:
        return locate_rows(rows, context.municipalities)

    if recorded == ident:
        return store.fill_municipalities(locate, only_missing=True)
    if recorded is None and (ident == "none" or store.count() == 0):
        store.set_meta("municipality_source", ident)
        return store.fill_municipalities(locate, only_missing=True)
    done = store.fill_municipalities(locate, only_missing=False)
    store.set_meta("municipality_source", ident)
    return done




def user_message(exc: BaseException) -> str:
    """The one line to show for a project error: no traceback, no newlines or control characters."""
    from geodata.export.textsafe import printable

    # Newlines and tabs fold to spaces (one line); any other control character shows as an escape.
    return printable(" ".join(str(exc).split())) or type(exc).__name__
