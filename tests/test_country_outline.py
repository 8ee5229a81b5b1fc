"""The Kosovo outline reaches the drawings from their caller (issue 17 item 2: drawing code never reads
settings): the service loads it once into its context and hands it over in every selection; the HTML and
PNG exporters draw what they are given, whatever the environment says."""

from __future__ import annotations

import datetime as dt

import pytest

from geodata.geo.boundaries import read_country_boundary
from geodata.service.incidents import IncidentService
from geodata.settings import get_settings
from layers.export_html import build_export
from layers.static_png import render_png
from tests.test_export_html import bundled_selection

WHEN = dt.datetime(2026, 12, 8, 9, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def adm0(adm2_path):
    """The official geoBoundaries ADM0 outline in ../shared."""
    return adm2_path.parent / "geoBoundaries-XKX-ADM0_simplified.geojson"


def test_the_service_hands_the_configured_outline_to_every_selection(adm0, tmp_path, clean_env):
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_COUNTRY_BOUNDARY": str(adm0)})
    with IncidentService(settings) as svc:
        sel = svc.select()
    assert sel.country is not None and len(sel.country) >= 1
    assert sel.country.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    with IncidentService(get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var2")})) as svc:
        assert svc.select().country is None  # nothing installed: the drawings use Natural Earth's


def test_an_unreadable_outline_is_a_notice_not_a_crash(tmp_path, clean_env):
    bad = tmp_path / "adm0.geojson"
    bad.write_text("{not json", encoding="utf-8")
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_COUNTRY_BOUNDARY": str(bad)})
    with IncidentService(settings) as svc:
        sel = svc.select()
    assert sel.country is None
    assert any(n.startswith("Kosovo outline:") and "Natural Earth" in n for n in sel.notes), sel.notes


def test_the_html_export_draws_the_outline_it_is_given_and_ignores_the_environment(adm0, clean_env):
    clean_env.setenv("CONFLICTMAP_COUNTRY_BOUNDARY", str(adm0))  # drawing code must not read this
    plain = build_export(bundled_selection(), WHEN).html
    assert "geoBoundaries" not in plain
    official = build_export(bundled_selection(country=read_country_boundary(adm0)), WHEN).html
    assert "geoBoundaries" in official


def test_the_png_draws_the_outline_it_is_given(adm0, clean_env):
    clean_env.setenv("CONFLICTMAP_COUNTRY_BOUNDARY", str(adm0))
    small = {"dpi": 40, "size_in": (8.0, 6.0), "generated_at": WHEN}
    without = render_png(bundled_selection(), **small)
    assert render_png(bundled_selection(), **small) == without  # deterministic, so a difference means something
    given = render_png(bundled_selection(country=read_country_boundary(adm0)), **small)
    assert given != without
