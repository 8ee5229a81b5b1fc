"""Widget values <-> FilterSpec <-> URL, view options and the selection context (no Streamlit)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard import state as S
from geodata.model.filters import FilterSpec
from geodata.ingest.bundled import load_bundled_incidents
from geodata.geo.routes import load_routes
from geodata.settings import get_settings
from geodata.geo.sites import load_sites


@pytest.fixture(scope="module")
def choices():
    inc = load_bundled_incidents()
    inc["municipality"] = inc["admin2"]
    return S.filter_choices(inc, load_routes(get_settings({}).routes_file), load_sites())


def test_filter_choices(choices):
    assert choices.first < choices.last and choices.total > 0
    assert len(choices.event_types) == 6 and choices.routes and choices.sites
    assert set(choices.sub_event_types(("Riots",))) == {"Violent demonstration", "Mob violence"}
    assert len(choices.sub_event_types()) == 25


def test_round_trip_through_widgets_and_url(choices):
    spec = FilterSpec(start=choices.first + dt.timedelta(days=1), end=choices.last - dt.timedelta(days=1),
                      actors=(choices.actors[0],), event_types=("Riots",), sub_event_types=("Mob violence",),
                      municipalities=(choices.municipalities[0],), min_fatalities=2, text="road",
                      near_routes=(choices.routes[0],), near_sites=(choices.sites[0],), near_km=2.5)
    values = S.widget_values(spec, choices)
    assert S.spec_from_widgets(values, choices) == spec
    assert FilterSpec.from_mapping(S.query_params(spec, S.ViewOptions())) == spec


def test_full_date_range_means_no_restriction(choices):
    values = S.widget_values(FilterSpec(), choices)
    assert values[S.W_DATES] == (choices.first, choices.last)
    assert S.spec_from_widgets(values, choices) == FilterSpec()
    half = {**values, S.W_DATES: (choices.first + dt.timedelta(days=3),)}  # user still picking the end
    assert S.spec_from_widgets(half, choices) == FilterSpec(start=choices.first + dt.timedelta(days=3))


def test_stale_values_are_dropped_or_clamped(choices):
    spec = FilterSpec(start=choices.first - dt.timedelta(days=900), actors=("Nobody",), event_types=("Riots",),
                      sub_event_types=("Arrests",), near_routes=("No such route",))
    values = S.widget_values(spec, choices)
    assert values[S.W_DATES][0] == choices.first
    assert values[S.W_ACTORS] == [] and values[S.W_ROUTES] == []
    assert values[S.W_SUBTYPES] == []  # Arrests is not a Riots sub-type


def test_view_options_in_the_url():
    view = S.ViewOptions(basemap="none", metric="fatalities", step="week")
    params = view.to_query_params()
    assert S.ViewOptions.from_query_params(lambda k: [params[k]] if k in params else []) == view
    assert S.ViewOptions().to_query_params() == {} and S.ViewOptions().basemap == "osm"
    assert S.ViewOptions("osm").to_query_params(S.default_basemap(True)) == {"map": "osm"}
    assert S.ViewOptions("custom").to_query_params(S.default_basemap(True)) == {}
    assert S.ViewOptions.from_query_params(lambda k: [], custom_tiles=True).basemap == "custom"
    bad = {"map": ["custom"], "metric": ["<b>"], "step": ["year"]}
    assert S.ViewOptions.from_query_params(lambda k: bad.get(k, [])) == S.ViewOptions()
    assert S.ViewOptions.from_query_params(lambda k: bad.get(k, []), custom_tiles=True).basemap == "custom"
    assert set(S.VIEW_KEYS.values()).isdisjoint(__import__("geodata.model.filters", fromlist=["QUERY_KEYS"]).QUERY_KEYS.values())


def test_tiles_for_each_basemap():
    assert S.ViewOptions("none").tiles("http://tiles.local/{z}/{x}/{y}.png") is None
    assert S.ViewOptions("osm").tiles(None) == "osm"
    assert S.ViewOptions("custom").tiles("http://tiles.local/{z}/{x}/{y}.png") == "http://tiles.local/{z}/{x}/{y}.png"
    assert S.ViewOptions("custom").tiles(None) is None


def test_dates_follow_the_data_unless_set():
    d = dt.date
    old, new = (d(2021, 1, 1), d(2024, 12, 31)), (d(2020, 6, 1), d(2026, 6, 1))
    assert S.follow_dates((d(2021, 1, 1), d(2024, 12, 31)), old, new) == new  # untouched: follows
    assert S.follow_dates((d(2022, 3, 1), d(2024, 12, 31)), old, new) == (d(2022, 3, 1), d(2026, 6, 1))
    assert S.follow_dates((d(2021, 1, 1), d(2023, 5, 5)), old, new) == (d(2020, 6, 1), d(2023, 5, 5))
    # The data shrank (an undo): a chosen date outside the new range is clamped, never refused.
    assert S.follow_dates((d(2022, 3, 1), d(2024, 10, 1)), old, (d(2022, 6, 1), d(2023, 1, 1))) == \
        (d(2022, 6, 1), d(2023, 1, 1))
    assert S.follow_dates((d(2022, 3, 1),), old, new) == (d(2022, 3, 1),)  # still picking the end


def test_prune_values_drops_choices_no_longer_offered(choices):
    values = {S.W_ACTORS: [choices.actors[0], "Gone"], S.W_TYPES: ["Riots"], S.W_ROUTES: ["Old route"]}
    assert S.prune_values(values, choices) == {S.W_ACTORS: [choices.actors[0]], S.W_ROUTES: []}


def test_link_problems_name_every_dropped_clamped_or_unreadable_value(choices):
    params = {"actor": ["Nobody", choices.actors[0]], "type": ["Parades"], "end": ["1999-01-01"],
              "minfat": ["many"], "km": ["far"], "map": ["custom"], "c": ["95,20"], "z": ["3"]}
    get_all = lambda k: params.get(k, [])  # noqa: E731
    spec = FilterSpec.from_query_params(get_all)
    view = S.ViewOptions.from_query_params(get_all)
    problems = S.link_problems(get_all, spec, choices, view)
    text = "\n".join(problems)
    assert "the actor “Nobody” is not in the data, so it was left out" in text and choices.actors[0] not in text
    assert "the event type “Parades” is not in the data" in text
    assert (f"the end date 1999-01-01 is before the first day with data ({choices.first.isoformat()}), so it was "
            f"moved to {choices.first.isoformat()} — the view shows that one day only") in text
    # Plain words, no parameter jargon (issue 21 item 8): never `c="95,20"` or `minfat=`.
    assert "the minimum number of deaths in the link could not be read (“many”)" in text
    assert "the distance to routes or sites in the link could not be read (“far”)" in text
    assert "the basemap in the link could not be read (“custom”)" in text
    assert "the map position in the link could not be read (“95,20”), so it was ignored" in text
    assert "=" not in text and "minfat" not in text and "c“" not in text
    assert "zoom" not in text  # a valid zoom is no problem
    assert len(problems) == 7


def test_a_start_date_after_the_data_says_why_one_day_shows(choices):
    params = {"start": ["2099-01-01"]}
    get_all = lambda k: params.get(k, [])  # noqa: E731
    spec = FilterSpec.from_query_params(get_all)
    (problem,) = S.link_problems(get_all, spec, choices, S.ViewOptions.from_query_params(get_all))
    last = choices.last.isoformat()
    assert problem == (f"the start date 2099-01-01 is after the last day with data ({last}), so it was moved to "
                       f"{last} — the view shows that one day only")
    assert S.link_problems(lambda k: [], FilterSpec(), choices, S.ViewOptions()) == []


def test_centre_and_zoom_in_the_url():
    view = S.ViewOptions(center=(42.912345678, 20.8), zoom=11)
    params = view.to_query_params()
    assert params == {"c": "42.91235,20.80000", "z": "11"}
    assert S.ViewOptions.from_query_params(lambda k: [params[k]] if k in params else []) == \
        S.ViewOptions(center=(42.91235, 20.8), zoom=11)
    for bad in ("nan,20", "42", "x,y", "91,0", "0,181", "inf,1"):
        assert S.parse_center(bad) is None, bad
    assert S.parse_zoom("99") is None and S.parse_zoom("-1") is None and S.parse_zoom("1e400") is None


def test_distance_counts_only_with_a_route_or_site_chosen(choices):
    """Without a route or site the slider's value changes no selection (and no cache key)."""
    values = {**S.widget_values(FilterSpec(), choices), S.W_KM: 0.5}
    assert S.spec_from_widgets(values, choices) == FilterSpec()
    near = {**values, S.W_SITES: [choices.sites[0]]}
    assert S.spec_from_widgets(near, choices) == FilterSpec(near_sites=(choices.sites[0],), near_km=0.5)
