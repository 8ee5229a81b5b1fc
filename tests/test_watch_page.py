"""The dashboard's Watch page (AppTest): inbox per area, mark read, save an area, the navigation count."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from geodata.service.incidents import IncidentService
from geodata.settings import get_settings
from geodata.service.watch import default_owner
from tests.test_watch import INSIDE, SQUARE, acled_csv, rows_at

REPO = str(Path(__file__).resolve().parents[1])


def _page(repo: str) -> None:
    import sys

    sys.path.insert(0, repo)
    from dashboard.views.watch import render

    render()


def test_watch_page_inbox_mark_read_and_save(curation_env, tmp_path):
    curation_env.setenv("CONFLICTMAP_DB", f"sqlite:///{tmp_path / 'p.sqlite'}")
    square = tmp_path / "square.geojson"
    square.write_text(json.dumps(SQUARE), encoding="utf-8")
    with IncidentService(get_settings()) as svc:
        svc.watch_add("Square", "area", str(square), owner=default_owner())
        svc.watch_add("Not mine", "area", str(square), owner="someone-else@example.org")
        svc.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("PG", [INSIDE, INSIDE])))

    from dashboard.views.watch import unread_count

    assert unread_count() == 2  # the navigation shows "Watch (2)"
    at = AppTest.from_function(_page, args=(REPO,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == ["Square · 2 unread", "Save a watch area"]
    assert len(at.get("vega_lite_chart")) == 1  # the area's weekly chart
    table = at.dataframe[0].value
    assert sorted(table["event_id_cnty"]) == ["PG0", "PG1"] and set(table["change"]) == {"+ new"}
    at.button(key="read-Square").click().run()
    assert [h.value for h in at.subheader][0] == "Square · 0 unread"
    assert unread_count() == 0

    at.text_input(key="watch-name").input("Banjska 2 km")
    at.selectbox(key="watch-ref-Site").select("Banjska Monastery")
    at.button(key="watch-save").click().run()
    assert not at.exception, at.exception
    assert "Banjska 2 km · 0 unread" in [h.value for h in at.subheader]
    assert any("2 km around Banjska Monastery" in t.value for t in at.text)


def test_watch_page_shows_a_refused_area_as_one_message(curation_env, tmp_path):
    curation_env.setenv("CONFLICTMAP_DB", f"sqlite:///{tmp_path / 'p.sqlite'}")
    at = AppTest.from_function(_page, args=(REPO,), default_timeout=60).run()
    at.text_input(key="watch-name").input("No place")
    at.button(key="watch-save").click().run()  # no site picked
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == ["The area was not saved."]


def test_an_area_name_is_not_rendered_as_markdown(curation_env, tmp_path):
    curation_env.setenv("CONFLICTMAP_DB", f"sqlite:///{tmp_path / 'p.sqlite'}")
    square = tmp_path / "square.geojson"
    square.write_text(json.dumps(SQUARE), encoding="utf-8")
    with IncidentService(get_settings()) as svc:
        svc.watch_add("**bold** [x](javascript:alert(1))", "area", str(square), owner=default_owner())
    at = AppTest.from_function(_page, args=(REPO,), default_timeout=60).run()
    assert not at.exception, at.exception
    from dashboard.text import md_escape

    assert at.subheader[0].value == f"{md_escape('**bold** [x](javascript:alert(1))')} · 0 unread"


def test_an_area_drawn_on_the_map_is_saved(curation_env, tmp_path):
    """Issue 20, item 1: draw a polygon on the map (Leaflet.draw, offline), name it, save it."""
    from tests.test_watch import SQUARE

    curation_env.setenv("CONFLICTMAP_DB", f"sqlite:///{tmp_path / 'd.sqlite'}")
    at = AppTest.from_function(_page, args=(REPO,), default_timeout=60).run()
    at.radio(key="watch-kind").set_value("Drawn on the map").run()
    assert not at.exception, at.exception
    (comp,) = at.get("component_instance")
    args = json.loads(comp.proto.json_args)
    assert "Control.Draw" in args["script"] and not any("cdnjs" in u for u in args["js_links"] + args["css_links"]
                                                         if "draw" in u)
    at.text_input(key="watch-name").set_value("Drawn square")
    at.button(key="watch-save").click().run()
    assert any("draw the area on the map first" in t.value for t in at.text)  # nothing drawn yet: not saved
    at.session_state[args["key"]] = {"last_active_drawing": SQUARE["features"][0]}
    at.run()
    at.button(key="watch-save").click().run()
    assert not at.exception, at.exception
    with IncidentService(get_settings()) as svc:
        (area,) = svc.watch_list(default_owner())
    assert area.name == "Drawn square" and area.kind == "area"


def test_drawn_area_accepts_polygons_only():
    from dashboard.views.watch import drawn_area

    line = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[20.7, 42.9], [20.8, 42.9]]}}
    assert drawn_area({"last_active_drawing": line}) is None and drawn_area(None) is None
    square = {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[20.7, 42.85], [20.9, 42.85],
                                                                                  [20.9, 42.95], [20.7, 42.85]]]}}
    assert json.loads(drawn_area({"last_active_drawing": square}))["features"][0] == square
