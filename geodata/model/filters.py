"""Incident filters: one hashable description of a selection, applied by pure functions.

:class:`FilterSpec` is what the dashboard's sidebar, the URL (``st.query_params``), the HTML
export and the data export all share, so a selection means the same everywhere. It is frozen
and made of tuples, so it can key ``st.cache_data``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, fields, replace
from typing import Any, Callable, Iterable, Mapping, TypeVar

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from geodata.geo.enrich import within_km
from geodata.model.schema import split_multi

ACTOR_COLUMNS = ("actor1", "actor2", "assoc_actor_1", "assoc_actor_2")
TEXT_COLUMNS = ("notes", "location")

#: URL parameter name for each field (short, stable: shared links must keep working).
QUERY_KEYS = {
    "start": "start", "end": "end", "actors": "actor", "event_types": "type", "sub_event_types": "subtype",
    "municipalities": "muni", "min_fatalities": "minfat", "text": "q", "near_routes": "route",
    "near_sites": "site", "near_km": "km", "statuses": "status",
}
_TUPLE_FIELDS = ("actors", "event_types", "sub_event_types", "municipalities", "near_routes", "near_sites", "statuses")

_T = TypeVar("_T")


#: Largest minimum-fatalities filter (the most fatalities one stored incident may have, as validated).
MAX_FATALITIES = 10_000_000
#: Proximity distances the dashboard offers (km); a link asking for more or less is clamped with a notice.
NEAR_KM_RANGE: tuple[float, float] = (0.5, 25.0)


def clamp_fatalities(text: str) -> int:
    """A minimum-fatalities value from a link, within 0 .. :data:`MAX_FATALITIES`.

    Raises:
        ValueError: if ``text`` is not a whole number.
    """
    return min(max(0, int(text)), MAX_FATALITIES)


def clamp_km(text: str) -> float:
    """A proximity distance from a link, within :data:`NEAR_KM_RANGE` (``inf`` and ``nan`` are not distances).

    Raises:
        ValueError: if ``text`` is not a finite number.
    """
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"not a distance: {text!r}")
    return min(max(value, NEAR_KM_RANGE[0]), NEAR_KM_RANGE[1])


@dataclass(frozen=True)
class FilterSpec:
    """A selection of incidents. Empty tuples / ``None`` mean "no restriction".

    Attributes:
        start, end: inclusive event-date bounds.
        actors: match actor1, actor2 or any associated actor exactly.
        event_types, sub_event_types: ACLED types.
        municipalities: canonical municipality names (as enriched from coordinates).
        min_fatalities: keep incidents with at least this many fatalities.
        text: case-insensitive substring of notes or location.
        near_routes, near_sites: route names / site ``name_en`` values; with ``near_km``, keep
            incidents within that many km of any of them.
        near_km: proximity radius in kilometres (used only with routes or sites chosen).
        statuses: verification statuses (:data:`geodata.curation.verification.STATUSES`); an incident
            without a recorded status is "reported".
    """

    start: dt.date | None = None
    end: dt.date | None = None
    actors: tuple[str, ...] = ()
    event_types: tuple[str, ...] = ()
    sub_event_types: tuple[str, ...] = ()
    municipalities: tuple[str, ...] = ()
    min_fatalities: int = 0
    text: str = ""
    near_routes: tuple[str, ...] = ()
    near_sites: tuple[str, ...] = ()
    near_km: float = 5.0
    statuses: tuple[str, ...] = ()

    @property
    def uses_proximity(self) -> bool:
        """True when a proximity restriction is active."""
        return bool(self.near_routes or self.near_sites)

    def to_query_params(self) -> dict[str, str | list[str]]:
        """Encode the non-default fields as URL query parameters."""
        default = FilterSpec()
        out: dict[str, str | list[str]] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name) and not (f.name == "near_km" and self.uses_proximity):
                continue
            key = QUERY_KEYS[f.name]
            if f.name in _TUPLE_FIELDS:
                out[key] = list(value)
            elif isinstance(value, dt.date):
                out[key] = value.isoformat()
            elif isinstance(value, float):
                out[key] = f"{value:g}"
            else:
                out[key] = str(value)
        return out

    @classmethod
    def from_query_params(cls, get_all: Callable[[str], list[str]]) -> "FilterSpec":
        """Decode URL query parameters; malformed values are ignored, never fatal.

        Args:
            get_all: returns every value of a key (``st.query_params.get_all``), [] if absent.
        Returns:
            The spec; an absent or unparsable parameter leaves its field at the default.
        """
        default = cls()

        def values(name: str) -> list[str]:
            return [v for v in get_all(QUERY_KEYS[name]) if v is not None and str(v) != ""]

        def first(name: str, parse: Callable[[str], _T], fallback: _T) -> _T:
            found = values(name)
            if not found:
                return fallback
            try:
                return parse(found[0])
            except ValueError:
                return fallback

        def many(name: str) -> tuple[str, ...]:
            return tuple(values(name))

        return cls(
            start=first("start", dt.date.fromisoformat, default.start),
            end=first("end", dt.date.fromisoformat, default.end),
            actors=many("actors"), event_types=many("event_types"), sub_event_types=many("sub_event_types"),
            municipalities=many("municipalities"),
            min_fatalities=first("min_fatalities", clamp_fatalities, default.min_fatalities),
            text=first("text", str, default.text),
            near_routes=many("near_routes"), near_sites=many("near_sites"),
            near_km=first("near_km", clamp_km, default.near_km),
            statuses=many("statuses"),
        )

    @classmethod
    def from_mapping(cls, params: Mapping[str, str | list[str]]) -> "FilterSpec":
        """Decode a plain dict of query parameters (values may be lists), as :meth:`from_query_params`."""
        def get_all(key: str) -> list[str]:
            v = params.get(key)
            return [] if v is None else list(v) if isinstance(v, (list, tuple)) else [v]
        return cls.from_query_params(get_all)

    def with_(self, **changes: Any) -> "FilterSpec":
        """A copy with some fields changed (tuples are coerced from lists).

        Args:
            changes: field name -> new value, as for :func:`dataclasses.replace` (which rejects
                unknown names); lists given for tuple fields become tuples.
        Returns:
            The new spec.
        """
        fixed: dict[str, Any] = {k: tuple(v) if k in _TUPLE_FIELDS and v is not None else v for k, v in changes.items()}
        return replace(self, **fixed)

    def describe(self, lang: str = "en") -> str:
        """A plain-language summary of the selection, e.g. for a map title.

        Args:
            lang: language of the place names (:func:`geodata.geo.placenames.display_name`), so the
                summary spells a municipality as the map does ("Zvečan" in English, never "Zveçan").
        Returns:
            "All incidents" or "Incidents from … ; municipality: Zvečan; …".
        """
        from geodata.geo.placenames import display_name

        parts: list[str] = []
        if self.start or self.end:
            parts.append(f"from {self.start.isoformat() if self.start else 'the first record'} "
                         f"to {self.end.isoformat() if self.end else 'the latest record'}")
        for label, values in (("event type", self.event_types), ("sub-event type", self.sub_event_types),
                              ("actor", self.actors),
                              ("municipality", tuple(display_name(m, lang) for m in self.municipalities)),
                              ("verification status", self.statuses)):
            if values:
                parts.append(f"{label}{'s' if len(values) > 1 else ''}: {', '.join(values)}")
        if self.min_fatalities:
            parts.append(f"at least {self.min_fatalities} fatalit{'y' if self.min_fatalities == 1 else 'ies'}")
        if self.text:
            parts.append(f"text contains “{self.text}”")
        if self.uses_proximity:
            near = ", ".join((*self.near_routes, *self.near_sites))
            parts.append(f"within {self.near_km:g} km of {near}")
        return "All incidents" if not parts else "Incidents " + "; ".join(parts)


def actor_options(incidents: pd.DataFrame) -> list[str]:
    """Every distinct actor name (primary and associated), sorted, for the actor filter.

    Args:
        incidents: rows with any of :data:`ACTOR_COLUMNS` (associated actors as ";"-lists).
    Returns:
        The names, sorted case-insensitively, each once.
    """
    names: set[str] = set()
    for col in ACTOR_COLUMNS:
        if col in incidents:
            for cell in incidents[col].dropna().unique():
                names.update(split_multi(cell))
    return sorted(names, key=str.casefold)


def _actor_mask(incidents: pd.DataFrame, actors: Iterable[str]) -> npt.NDArray[np.bool_]:
    """Rows naming any of ``actors`` as actor1/actor2 or among the associated actors.

    Vectorised: each column is factorised (free for categorical columns) and the match is decided
    once per distinct cell, then broadcast to the rows through the codes. A Python call per row
    took over a second at a million incidents; per distinct cell it is milliseconds.
    """
    wanted = set(actors)
    mask = np.zeros(len(incidents), dtype=bool)
    for col in ACTOR_COLUMNS:
        if col not in incidents:
            continue
        codes, uniques = pd.factorize(incidents[col], use_na_sentinel=True)
        if col.startswith("assoc"):
            # Associated actors are ";"-separated lists: match any member exactly.
            hit = np.fromiter((bool(wanted.intersection(split_multi(u))) for u in uniques),
                              dtype=bool, count=len(uniques))
        else:
            hit = np.fromiter((u in wanted for u in uniques), dtype=bool, count=len(uniques))
        if hit.any():
            mask |= (codes >= 0) & hit[np.maximum(codes, 0)]
        if "" in wanted and not col.startswith("assoc"):
            mask |= codes < 0  # a missing primary actor reads as "" (as before vectorising)
    return mask


def filter_mask(
    incidents: gpd.GeoDataFrame,
    spec: FilterSpec,
    routes: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> npt.NDArray[np.bool_]:
    """Boolean mask of incidents matching ``spec`` (see :func:`apply_filters`).

    Args:
        incidents, spec, routes, sites: as for :func:`apply_filters`.
    Returns:
        One bool per row of ``incidents``, in order.
    """
    mask = np.ones(len(incidents), dtype=bool)
    if incidents.empty:
        return mask
    if spec.start or spec.end:  # only then: a lean selection may carry no dates
        dates = pd.to_datetime(incidents["event_date"])
        if spec.start:
            mask &= (dates >= pd.Timestamp(spec.start)).to_numpy()
        if spec.end:
            mask &= (dates <= pd.Timestamp(spec.end)).to_numpy()
    if spec.event_types:
        mask &= incidents["event_type"].isin(spec.event_types).to_numpy()
    if spec.sub_event_types:
        mask &= incidents["sub_event_type"].isin(spec.sub_event_types).to_numpy()
    if spec.municipalities:
        col = "municipality" if "municipality" in incidents else "admin2"
        mask &= incidents[col].isin(spec.municipalities).to_numpy()
    if spec.min_fatalities:
        mask &= (incidents["fatalities"].fillna(0).astype(int) >= spec.min_fatalities).to_numpy()
    if spec.text:
        hit = np.zeros(len(incidents), dtype=bool)
        for col in TEXT_COLUMNS:
            hit |= incidents[col].fillna("").astype(str).str.contains(spec.text, case=False, regex=False).to_numpy()
        mask &= hit
    if spec.actors:
        mask &= _actor_mask(incidents, spec.actors)
    if spec.statuses:
        status = (incidents["verification_status"].fillna("reported") if "verification_status" in incidents
                  else pd.Series("reported", index=incidents.index))
        mask &= status.isin(spec.statuses).to_numpy()
    if spec.uses_proximity and mask.any():
        near = np.zeros(len(incidents), dtype=bool)
        candidates = incidents[mask]
        for layer, names, col in ((routes, spec.near_routes, "name"), (sites, spec.near_sites, "name_en")):
            if names and layer is not None:
                chosen = layer[layer[col].isin(names)]
                hits = within_km(candidates, chosen, spec.near_km).to_numpy()
                near[np.flatnonzero(mask)[hits]] = True
        mask &= near
    return mask


def apply_filters(
    incidents: gpd.GeoDataFrame,
    spec: FilterSpec,
    routes: gpd.GeoDataFrame | None = None,
    sites: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Select the incidents matching every restriction in ``spec``.

    Args:
        incidents: enriched incident layer (``municipality`` column preferred, else ``admin2``).
        spec: the selection.
        routes, sites: layers for the proximity restriction (by route ``name`` / site ``name_en``).
    Returns:
        The matching rows (a new GeoDataFrame, original index kept).
    """
    return incidents[filter_mask(incidents, spec, routes, sites)]
