"""The dashboard's state as plain data: filter choices, widget values and view options.

Nothing here imports Streamlit, so the mapping between widgets, the URL and
:class:`geodata.filters.FilterSpec` is unit-tested without a browser. What the export panel
receives is :class:`geodata.selection.Selection`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable, Mapping

import geopandas as gpd
import pandas as pd

from geodata.filters import FilterSpec, actor_options
from geodata.schema import EVENT_TYPES

#: Basemap choices: key -> label. "custom" is offered only when settings.tiles is set.
BASEMAPS: dict[str, str] = {
    "none": "No tiles (works offline)",
    "osm": "OpenStreetMap (needs internet)",
    "custom": "Configured tile server (CONFLICTMAP_TILES)",
}
METRICS: dict[str, str] = {"incidents": "Incident count", "fatalities": "Fatalities"}
STEPS = ("day", "week", "month")
#: URL keys of the view options (distinct from :data:`geodata.filters.QUERY_KEYS`).
VIEW_KEYS = {"basemap": "map", "metric": "metric", "step": "step"}

#: A large store's table lists at most this many incidents (the newest): a million-row table costs
#: gigabytes to serialise and no one reads it; the map, charts and figures cover the whole selection.
PUSHDOWN_TABLE_ROWS = 10_000

#: Session-state keys of the filter widgets.
W_DATES, W_ACTORS, W_TYPES, W_SUBTYPES, W_MUNIS = "f_dates", "f_actors", "f_types", "f_subtypes", "f_munis"
W_MINFAT, W_TEXT, W_ROUTES, W_SITES, W_KM = "f_minfat", "f_text", "f_routes", "f_sites", "f_km"
W_BASEMAP, W_METRIC, W_STEP = "v_basemap", "v_metric", "v_step"
FILTER_WIDGETS = (W_DATES, W_ACTORS, W_TYPES, W_SUBTYPES, W_MUNIS, W_MINFAT, W_TEXT, W_ROUTES, W_SITES, W_KM)


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
        facets: :class:`geodata.facets.StoreFacets` of the store (distinct values, date range, count).
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
    return FilterSpec(
        start=start if start and start > choices.first else None,
        end=end if end and end < choices.last else None,
        actors=tuple(values.get(W_ACTORS) or ()),
        event_types=tuple(values.get(W_TYPES) or ()),
        sub_event_types=tuple(values.get(W_SUBTYPES) or ()),
        municipalities=tuple(values.get(W_MUNIS) or ()),
        min_fatalities=int(values.get(W_MINFAT) or 0),
        text=str(values.get(W_TEXT) or "").strip(),
        near_routes=tuple(values.get(W_ROUTES) or ()),
        near_sites=tuple(values.get(W_SITES) or ()),
        near_km=float(values.get(W_KM) if values.get(W_KM) is not None else FilterSpec().near_km),
    )


@dataclass(frozen=True)
class ViewOptions:
    """How the selection is shown: basemap, choropleth metric and playback/timeline step."""

    basemap: str = "none"
    metric: str = "incidents"
    step: str = "month"

    def to_query_params(self) -> dict[str, str]:
        """Non-default options as URL parameters."""
        default = ViewOptions()
        return {VIEW_KEYS[k]: getattr(self, k) for k in VIEW_KEYS if getattr(self, k) != getattr(default, k)}

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
            basemap=basemap if basemap in allowed else "none",
            metric=metric if metric in METRICS else "incidents",
            step=step if step in STEPS else "month",
        )

    def tiles(self, configured: str | None) -> str | None:
        """Tile argument for :func:`layers.map.build_map` (None: no tiles; "osm"; or the configured URL)."""
        if self.basemap == "osm":
            return "osm"
        if self.basemap == "custom" and configured:
            return configured
        return None


def query_params(spec: FilterSpec, view: ViewOptions) -> dict[str, str | list[str]]:
    """Everything a shared link needs: the filters and the view options."""
    return {**spec.to_query_params(), **view.to_query_params()}
