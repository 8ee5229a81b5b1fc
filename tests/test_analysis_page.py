"""The Analysis page explains itself (issue 21 item 5), through AppTest: the timeline has a legend in the map's
colour-blind-safe palette, one day or one week is a readable bar, actor names are whole on hover, and the table puts
where and the source first (the rest scrolls inside its box)."""

from __future__ import annotations

import json

import pytest

from layers.style import EVENT_COLORS
from tests.test_dashboard_app import goto, run_app


@pytest.fixture
def env(clean_env):
    return clean_env


def _specs(at) -> list[dict]:
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    return [json.loads(c.proto.spec) for c in charts]


def test_timeline_has_a_legend_in_the_maps_palette(env):
    at = goto(run_app(), "analysis")
    timeline = _specs(at)[0]
    color = timeline["encoding"]["color"]
    assert color.get("legend") is not None and color["legend"]["labelLimit"] == 0  # whole names in the legend
    assert color["scale"]["domain"] == list(EVENT_COLORS) and color["scale"]["range"] == list(EVENT_COLORS.values())
    protests, strategic = EVENT_COLORS["Protests"], EVENT_COLORS["Strategic developments"]
    assert protests != strategic


@pytest.mark.parametrize("step,label", [("day", "2023-09-24"), ("week", "2023-09-18")])
def test_a_one_day_or_one_week_selection_is_a_band_not_a_hairline(env, step, label):
    at = goto(run_app({"step": step, "start": "2023-09-24", "end": "2023-09-24"}), "analysis")
    timeline = _specs(at)[0]
    x = timeline["encoding"]["x"]
    assert x["type"] == "ordinal" and x["sort"] == [label]  # one band across the chart, labelled in words


def test_actor_names_are_whole_on_hover_and_have_room(env):
    at = goto(run_app(), "analysis")
    actor = next(s for s in _specs(at) if s["encoding"]["y"]["field"] == "actor")
    assert {"field": "actor", "type": "nominal", "title": "actor"} in actor["encoding"]["tooltip"]
    assert actor["encoding"]["y"]["axis"]["labelLimit"] >= 200  # and a full-width chart (not one of three columns)


def test_table_puts_where_and_the_source_first(env):
    at = goto(run_app(), "analysis")
    order = list(at.dataframe[-1].proto.column_order)
    assert order[:8] == ["date as known", "event_date", "event_type", "location", "location precision",
                         "municipality", "fatalities", "source_url"]
    assert order.index("notes") > order.index("source_url")
