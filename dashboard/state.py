"""The dashboard's state as plain data: filter choices, widget values and view options.

Nothing here imports Streamlit, so the mapping between widgets, the URL and
:class:`geodata.model.filters.FilterSpec` is unit-tested without a browser. What the export panel
receives is :class:`geodata.model.selection.Selection`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Mapping

import geopandas as gpd
import pandas as pd

from geodata.model.filters import NEAR_KM_RANGE, QUERY_KEYS, FilterSpec, actor_options, clamp_km
from geodata.model.schema import EVENT_TYPES
from geodata.service import STATUSES

#: Basemap choices: key -> label. "custom" is offered only when settings.tiles is set.
#: The default is a tile basemap (:func:`default_basemap`): when the browser cannot load tiles the map
#: falls back by itself to the offline geography and says so (layers/map.py).
BASEMAPS: dict[str, str] = {
    "none": "No basemap (offline geography)",
    "osm": "OpenStreetMap (the offline map when tiles cannot load)",
    "custom": "Configured tile server",
}
METRICS: dict[str, str] = {"incidents": "Incident count", "fatalities": "Fatalities"}
STEPS = ("day", "week", "month")
#: URL keys of the view options (distinct from :data:`geodata.model.filters.QUERY_KEYS`).
VIEW_KEYS = {"basemap": "map", "metric": "metric", "step": "step", "center": "c", "zoom": "z", "lang": "lang"}
#: Display languages of place names (:mod:`geodata.geo.placenames`): key -> label in that language.
LANGUAGES: dict[str, str] = {"en": "English", "sq": "Shqip", "sr": "Srpski"}
#: Highest zoom level a shared link may ask for (Leaflet tile servers stop near 19).
MAX_ZOOM_LEVEL = 22

#: A large store's table lists at most this many incidents (the newest): a million-row table costs
#: gigabytes to serialise and no one reads it; the map, charts and figures cover the whole selection.
PUSHDOWN_TABLE_ROWS = 10_000

#: Session-state keys of the filter widgets.
W_DATES, W_ACTORS, W_TYPES, W_SUBTYPES, W_MUNIS = "f_dates", "f_actors", "f_types", "f_subtypes", "f_munis"
W_MINFAT, W_TEXT, W_ROUTES, W_SITES, W_KM = "f_minfat", "f_text", "f_routes", "f_sites", "f_km"
W_BASEMAP, W_METRIC, W_STEP = "v_basemap", "v_metric", "v_step"
W_STATUS = "f_status"
W_LANG = "v_lang"
FILTER_WIDGETS = (W_DATES, W_ACTORS, W_TYPES, W_SUBTYPES, W_MUNIS, W_MINFAT, W_TEXT, W_ROUTES, W_SITES, W_KM,
                  W_STATUS)


@dataclass(frozen=True)
class FilterChoices:
    """What the filter widgets offer, derived from the loaded layers."""

    first: dt.date
    last: dt.date
    actors: tuple[str, ...]
    event_types: tuple[str, ...]
    municipalities: tuple[str, ...]
    routes: tuple[str, ...]
    sites: tuple[str, ...]
    total: int

    def sub_event_types(self, event_types: tuple[str, ...] | list[str] = ()) -> tuple[str, ...]:
        """ACLED sub-event types of the chosen event types (of all types when none is chosen)."""
        chosen = event_types or self.event_types
        return tuple(s for t in chosen for s in EVENT_TYPES.get(t, ()))


def filter_choices(incidents: pd.DataFrame, routes: gpd.GeoDataFrame | None, sites: gpd.GeoDataFrame | None) -> FilterChoices:
    """Options for every filter widget.

    Args:
        incidents: the enriched incident layer (all incidents, before filtering).
        routes, sites: proximity layers (route ``name``, site ``name_en``).
    Returns:
        A :class:`FilterChoices`; with no incidents the date range is today..today.
    """
    dates = pd.to_datetime(incidents["event_date"]) if len(incidents) else pd.Series(dtype="datetime64[ns]")
    today = dt.date.today()
    munis = incidents["municipality"] if "municipality" in incidents else pd.Series(dtype=object)
    return FilterChoices(
        first=dates.min().date() if len(dates) else today,
        last=dates.max().date() if len(dates) else today,
        actors=tuple(actor_options(incidents)),
        event_types=tuple(EVENT_TYPES),
        municipalities=tuple(sorted({m for m in munis.dropna().astype(str) if m}, key=str.casefold)),
        routes=tuple(routes["name"].astype(str)) if routes is not None else (),
        sites=tuple(sites["name_en"].astype(str)) if sites is not None else (),
        total=int(len(incidents)),
    )


def with_store_facets(choices: FilterChoices, facets, municipality_names=()) -> FilterChoices:
    """Filter choices of the in-memory incidents widened by what a large store holds.

    Args:
        choices: :func:`filter_choices` of the incidents held in memory (the bundled ones).
        facets: :class:`geodata.store.records.StoreFacets` of the store (distinct values, date range, count).
        municipality_names: municipalities the coordinates can fall in (the boundary layer's
            names); stored incidents are located from coordinates, so any of them may be chosen.
    Returns:
        A :class:`FilterChoices` covering both, ``total`` = in-memory + stored incidents.
    """
    def union(*groups) -> tuple[str, ...]:
        return tuple(sorted({str(v) for g in groups for v in g if v}, key=str.casefold))

    dates = [d for d in (facets.first, facets.last) if d is not None]
    return FilterChoices(
        first=min([choices.first, *dates]) if choices.total else min(dates, default=choices.first),
        last=max([choices.last, *dates]) if choices.total else max(dates, default=choices.last),
        actors=union(choices.actors, facets.actors),
        event_types=choices.event_types,
        municipalities=union(choices.municipalities, facets.municipalities, municipality_names),
        routes=choices.routes,
        sites=choices.sites,
        total=choices.total + int(facets.count),
    )


def widget_values(spec: FilterSpec, choices: FilterChoices) -> dict[str, object]:
    """Session-state values that show ``spec`` in the sidebar widgets.

    Values the widgets cannot show (an actor absent from the data, a date outside the data's
    range) are dropped or clamped, so a stale shared link still opens.
    """
    def keep(values: tuple[str, ...], options: tuple[str, ...]) -> list[str]:
        return [v for v in values if v in options]

    def clamp(d: dt.date | None, default: dt.date) -> dt.date:
        return default if d is None else min(max(d, choices.first), choices.last)

    types = keep(spec.event_types, choices.event_types)
    return {
        W_DATES: (clamp(spec.start, choices.first), clamp(spec.end, choices.last)),
        W_ACTORS: keep(spec.actors, choices.actors),
        W_TYPES: types,
        W_SUBTYPES: keep(spec.sub_event_types, choices.sub_event_types(types)),
        W_MUNIS: keep(spec.municipalities, choices.municipalities),
        W_MINFAT: int(spec.min_fatalities),
        W_TEXT: spec.text,
        W_ROUTES: keep(spec.near_routes, choices.routes),
        W_SITES: keep(spec.near_sites, choices.sites),
        W_KM: float(spec.near_km),
        W_STATUS: keep(spec.statuses, STATUSES),
    }


def spec_from_widgets(values: Mapping[str, object], choices: FilterChoices) -> FilterSpec:
    """The :class:`FilterSpec` the sidebar widgets describe.

    A date range equal to the data's full range means "no date restriction" (so shared links stay
    short and keep working when newer incidents arrive); a half-chosen range (one date) restricts
    the start only.
    """
    dates = values.get(W_DATES) or ()
    dates = tuple(dates) if isinstance(dates, (tuple, list)) else (dates,)
    start = dates[0] if len(dates) >= 1 else None
    end = dates[1] if len(dates) >= 2 else None
    routes, sites = tuple(values.get(W_ROUTES) or ()), tuple(values.get(W_SITES) or ())
    # The distance only matters with a route or site chosen: without one it stays at the default,
    # so moving the slider (or the browser reporting it) does not make another selection to read.
    km = values.get(W_KM) if (routes or sites) and values.get(W_KM) is not None else FilterSpec().near_km
    return FilterSpec(
        start=start if start and start > choices.first else None,
        end=end if end and end < choices.last else None,
        actors=tuple(values.get(W_ACTORS) or ()),
        event_types=tuple(values.get(W_TYPES) or ()),
        sub_event_types=tuple(values.get(W_SUBTYPES) or ()),
        municipalities=tuple(values.get(W_MUNIS) or ()),
        min_fatalities=int(values.get(W_MINFAT) or 0),
        text=str(values.get(W_TEXT) or "").strip(),
        near_routes=routes,
        near_sites=sites,
        near_km=float(km),
        statuses=tuple(values.get(W_STATUS) or ()),
    )


@dataclass(frozen=True)
class ViewOptions:
    """How the selection is shown: basemap, choropleth metric, playback/timeline step and the map's
    centre (lat, lon) and zoom (``None``: fitted to the data)."""

    basemap: str = "osm"
    metric: str = "incidents"
    step: str = "month"
    center: tuple[float, float] | None = None
    zoom: int | None = None
    lang: str = "en"

    def to_query_params(self, default_basemap: str = "osm") -> dict[str, str]:
        """Non-default options as URL parameters (``default_basemap``: see :func:`default_basemap`)."""
        default = ViewOptions(basemap=default_basemap)
        out = {VIEW_KEYS[k]: getattr(self, k) for k in ("basemap", "metric", "step", "lang")
               if getattr(self, k) != getattr(default, k)}
        if self.center is not None:
            out[VIEW_KEYS["center"]] = f"{self.center[0]:.5f},{self.center[1]:.5f}"
        if self.zoom is not None:
            out[VIEW_KEYS["zoom"]] = str(int(self.zoom))
        return out

    @classmethod
    def from_query_params(cls, get_all: Callable[[str], list[str]], custom_tiles: bool = False) -> "ViewOptions":
        """Decode URL parameters; unknown values fall back to the defaults.

        Args:
            get_all: returns every value of a key (``st.query_params.get_all``).
            custom_tiles: whether a configured tile URL exists (else "custom" is refused).
        """
        def first(key: str) -> str | None:
            values = get_all(VIEW_KEYS[key])
            return str(values[0]) if values else None

        basemap = first("basemap")
        allowed = set(BASEMAPS) - (set() if custom_tiles else {"custom"})
        metric, step = first("metric"), first("step")
        return cls(
            basemap=basemap if basemap in allowed else default_basemap(custom_tiles),
            metric=metric if metric in METRICS else "incidents",
            step=step if step in STEPS else "month",
            center=parse_center(first("center")),
            zoom=parse_zoom(first("zoom")),
            lang=lang if (lang := first("lang")) in LANGUAGES else "en",
        )

    def tiles(self, configured: str | None) -> str | None:
        """Tile argument for :func:`layers.map.build_map` (None: no tiles; "osm"; or the configured URL)."""
        if self.basemap == "osm":
            return "osm"
        if self.basemap == "custom" and configured:
            return configured
        return None


def parse_center(value: str | None) -> tuple[float, float] | None:
    """``"lat,lon"`` -> (lat, lon) when both are finite and in range, else ``None``."""
    try:
        lat, lon = (float(v) for v in str(value).split(","))
    except (TypeError, ValueError):
        return None
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):  # also false for NaN
        return None
    return (round(lat, 5), round(lon, 5))


def parse_zoom(value: str | None) -> int | None:
    """A zoom level 0..MAX_ZOOM_LEVEL from text, else ``None``."""
    try:
        zoom = int(float(str(value)))
    except (TypeError, ValueError, OverflowError):
        return None
    return zoom if 0 <= zoom <= MAX_ZOOM_LEVEL else None


def default_basemap(custom_tiles: bool) -> str:
    """The basemap a view starts with: the configured tile server when there is one, else OpenStreetMap."""
    return "custom" if custom_tiles else "osm"


def query_params(spec: FilterSpec, view: ViewOptions, custom_tiles: bool = False) -> dict[str, str | list[str]]:
    """Everything a shared link needs: the filters and the view options (``custom_tiles``: whether a
    tile server is configured, which makes it the default basemap)."""
    return {**spec.to_query_params(), **view.to_query_params(default_basemap(custom_tiles))}


#: What a link's parameter means, in words for the notices ("the map position", never ``c=``).
_PLAIN_NAMES = {"start": "the start date", "end": "the end date", "min_fatalities": "the minimum number of deaths",
                "near_km": "the distance to routes or sites", "basemap": "the basemap", "metric":
                "the municipality shading", "step": "the timeline step", "center": "the map position",
                "zoom": "the map zoom", "lang": "the language of place names"}


def link_problems(get_all: Callable[[str], list[str]], spec: FilterSpec, choices: FilterChoices,
                  view: ViewOptions) -> list[str]:
    """What a shared link asked for that the dashboard could not show as asked.

    Args:
        get_all: the link's parameters (``st.query_params.get_all``).
        spec, view: what :meth:`FilterSpec.from_query_params` / :meth:`ViewOptions.from_query_params`
            made of them.
        choices: what the data offers.
    Returns:
        One plain-words line per value dropped, moved or not understood, saying what was done
        (names of things the data lacks are quoted as given: escape before showing them anywhere
        that renders Markdown; unreadable raw values are not repeated).
    """
    problems: list[str] = []
    listed = (("actor", spec.actors, choices.actors), ("event type", spec.event_types, choices.event_types),
              ("sub-event type", spec.sub_event_types,
               choices.sub_event_types(tuple(t for t in spec.event_types if t in choices.event_types))),
              ("municipality", spec.municipalities, choices.municipalities),
              ("patrol route", spec.near_routes, choices.routes), ("religious site", spec.near_sites, choices.sites),
              ("verification status", spec.statuses, STATUSES))
    for label, values, options in listed:
        problems += [f"the {label} “{v}” is not in the data, so it was left out" for v in values if v not in options]
    for label, day in (("start date", spec.start), ("end date", spec.end)):
        if day is not None and not choices.first <= day <= choices.last:
            to = min(max(day, choices.first), choices.last)
            edge = "after the last day with data" if day > choices.last else "before the first day with data"
            only = (" — the view shows that one day only" if label == "start date" and to == choices.last
                    else " — the view shows that one day only" if label == "end date" and to == choices.first
                    else "")
            problems.append(f"the {label} {day.isoformat()} is {edge} ({to.isoformat()}), so it was moved "
                            f"to {to.isoformat()}{only}")
    parsers: dict[str, Callable[[str], object]] = {
        "start": dt.date.fromisoformat, "end": dt.date.fromisoformat, "min_fatalities": int, "near_km": clamp_km}
    for name, parse in parsers.items():
        raw = [str(v) for v in get_all(QUERY_KEYS[name]) if v not in (None, "")]
        try:
            if raw:
                parse(raw[0])
                if name == "near_km" and float(raw[0]) != spec.near_km:
                    problems.append(f"the distance {raw[0]} km is outside {NEAR_KM_RANGE[0]:g}–{NEAR_KM_RANGE[1]:g} km "
                                    f"(set to {spec.near_km:g} km)")
                if name == "min_fatalities" and int(raw[0]) != spec.min_fatalities:
                    problems.append(f"the minimum fatalities {raw[0][:24]} is out of range (set to {spec.min_fatalities:,})")
        except (ValueError, OverflowError):
            problems.append(f"{_PLAIN_NAMES[name]} in the link could not be read (“{raw[0][:24]}”), so it was ignored")
    shown = view.to_query_params()
    for name, key in VIEW_KEYS.items():
        raw = [str(v) for v in get_all(key) if v not in (None, "")]
        if raw and key not in shown and raw[0] != getattr(ViewOptions(), name):
            problems.append(f"{_PLAIN_NAMES[name]} in the link could not be read (“{raw[0][:24]}”), so it was ignored")
    return problems


def follow_dates(value: object, old: tuple[dt.date, dt.date] | None, new: tuple[dt.date, dt.date]) -> tuple:
    """The date-range widget's value after the data's range changed from ``old`` to ``new``.

    An end still at the old bounds was not set by the user: it follows the data (so new incidents
    show and no ``start=``/``end=`` appears in the URL). A date the user chose is kept, clamped to
    the new range (the widget refuses values outside it).
    """
    dates = tuple(value) if isinstance(value, (tuple, list)) else (value,) if value else ()
    first, last = new

    def clamp(d: dt.date) -> dt.date:
        return min(max(d, first), last)

    start = first if not dates or (old and dates[0] == old[0]) else clamp(dates[0])
    if len(dates) < 2:
        return (start,) if dates else (first, last)
    end = last if old and dates[1] == old[1] else clamp(dates[1])
    return (start, max(start, end))


def prune_values(values: Mapping[str, object], choices: FilterChoices) -> dict[str, list[str]]:
    """Multiselect values no longer offered (e.g. an actor whose only upload was undone), removed.

    Returns:
        ``{widget key: kept values}`` for the widgets whose value changes.
    """
    options = {W_ACTORS: choices.actors, W_TYPES: choices.event_types, W_MUNIS: choices.municipalities,
               W_ROUTES: choices.routes, W_SITES: choices.sites}
    out: dict[str, list[str]] = {}
    for key, allowed in options.items():
        current = list(values.get(key) or [])
        kept = [v for v in current if v in allowed]
        if kept != current:
            out[key] = kept
    return out
