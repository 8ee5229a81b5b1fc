"""Standalone HTML export: self-contained, titled, size-bounded, escaped."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from geodata.geo.enrich import enrich_incidents
from geodata.model.filters import FilterSpec, apply_filters
from geodata.ingest.bundled import load_bundled_incidents
from geodata.geo.routes import load_routes
from geodata.service.curation import curated
from geodata.model.selection import Selection
from geodata.settings import BUNDLED_DIR
from geodata.geo.sites import load_sites
from layers.assets import external_references
from layers.export_html import MAX_EXPORT_BYTES, ExportTooLargeError, build_export, export_map_html
from tests.hostile import hostile_selection
from tests.synthetic import synthetic_incidents

REPO = Path(__file__).resolve().parents[1]
WHEN = dt.datetime(2026, 11, 2, 10, 15, tzinfo=dt.timezone.utc)


def bundled_selection(spec: FilterSpec = FilterSpec(), municipalities=None, country=None) -> Selection:
    routes, sites = load_routes(BUNDLED_DIR / "patrol_routes.geojson"), load_sites()
    inc = enrich_incidents(load_bundled_incidents(), municipalities, routes, sites)
    # As the service hands exporters a selection: with the curation in force (statuses, sources, sequences).
    return curated(Selection(apply_filters(inc, spec, routes, sites), spec, municipalities, routes, sites,
                             country=country))


def test_bundled_export_is_self_contained_and_titled():
    spec = FilterSpec(start=dt.date(2023, 1, 1), event_types=("Battles",))
    sel = bundled_selection(spec)
    result = build_export(sel, WHEN)
    html = result.html
    assert external_references(html) == []
    assert result.representation == "markers"
    assert spec.describe() in html
    assert f"{len(sel.incidents)} incident" in html and "individual markers" in html
    assert "generated 2026-11-02 10:15 UTC" in html
    assert "cm-legend" in html and "cm-about" in html
    # data sources and attributions named in the page
    for source in sel.incidents["source"].str.split(";").explode().str.strip().unique():
        assert source.replace("&", "&amp;") in html or source in html
    assert "geoBoundaries" not in html  # no boundaries in this selection, so no boundary attribution
    assert "Patrol routes: illustrative" in html


def test_export_with_boundaries_attributes_them(municipalities):
    html = export_map_html(bundled_selection(municipalities=municipalities), WHEN)
    assert "geoBoundaries gbOpen 4.0.0" in html and "Municipalities (incidents)" in html


def test_tiles_are_an_option_only_when_configured():
    sel = bundled_selection()
    assert "L.tileLayer" not in export_map_html(sel, WHEN)
    tiled = Selection(sel.incidents, sel.spec, None, sel.routes, sel.sites, tiles="http://tiles.example/{z}/{x}/{y}.png",
                      tiles_attribution="Example tiles")
    html = export_map_html(tiled, WHEN)
    assert "L.tileLayer" in html and "Basemap tiles" in html and "Example tiles" in html
    assert external_references(html) == []


def test_100k_synthetic_incidents_stay_under_5_mb_as_clusters():
    big = synthetic_incidents(100_000)
    sel = Selection(big, FilterSpec(), None, load_routes(BUNDLED_DIR / "patrol_routes.geojson"), load_sites())
    result = build_export(sel, WHEN)
    assert result.representation == "cluster"
    assert result.size_bytes == len(result.html.encode("utf-8")) <= MAX_EXPORT_BYTES
    assert "100,000 incidents shown as browser-side clusters" in result.html
    assert external_references(result.html) == [] and "markerClusterGroup" in result.html


def test_falls_back_to_a_coarser_representation_when_too_large():
    big = synthetic_incidents(5_000)
    sel = Selection(big, FilterSpec())
    cluster = build_export(sel, WHEN)
    assert cluster.representation == "cluster"
    smaller = build_export(sel, WHEN, max_bytes=cluster.size_bytes - 1)
    assert smaller.representation == "aggregate" and smaller.size_bytes < cluster.size_bytes
    assert "aggregated" in smaller.html
    with pytest.raises(ExportTooLargeError):
        build_export(sel, WHEN, max_bytes=1000)


def test_hostile_text_never_reaches_the_page_as_markup():
    html = export_map_html(hostile_selection(), WHEN)
    for raw in ("<script>alert(1)</script>", "<img src=x onerror", "<svg onload", 'href="javascript:'):
        assert raw not in html
    assert "${alert(1)}" not in html and "\\`);alert" not in html  # template-literal breakouts escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the title shows the filter as text


def test_cli_export_html_with_filters(tmp_path):
    out = tmp_path / "map.html"
    env = {"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "dashboard", "export-html", "--out", str(out), "--start", "2023-09-24",
                           "--end", "2023-09-24", "--event-type", "Battles"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    html = out.read_text(encoding="utf-8")
    assert "from 2023-09-24 to 2023-09-24; event type: Battles" in html and external_references(html) == []
    assert "python -m geodata boundaries" in proc.stderr  # says how to get the missing boundaries
    bad = subprocess.run([sys.executable, "-m", "dashboard", "export-html", "--out", str(tmp_path / "x.html"),
                          "--start", "24.09.2023"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and not (tmp_path / "x.html").exists()
