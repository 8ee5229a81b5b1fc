"""README examples run as written (issue 21 item 8): the sequence ids, sites and routes they name exist in the
bundled data, and the boundaries hint names where the dashboard shows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from geodata.geo.routes import load_routes
from geodata.curation.sequences import load_bundled_sequences
from geodata.settings import BUNDLED_DIR
from geodata.geo.sites import load_sites

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")

pytestmark = pytest.mark.unit


def test_sequence_ids_in_the_readme_exist():
    known = {q.sequence_id for q in load_bundled_sequences()}
    named = set(re.findall(r"[?#]seq=([A-Za-z0-9_-]+)", README)) - {"ID"}
    named |= set(re.findall(r"geodata sequences ([A-Z][A-Za-z0-9_-]+)", README)) - {"SEQUENCE_ID"}
    assert named, "the README shows no concrete sequence id"
    assert named <= known, named - known


def test_sites_and_routes_named_in_readme_commands_exist():
    sites = set(load_sites()["name_en"])
    routes = set(load_routes(BUNDLED_DIR / "patrol_routes.geojson")["name"])
    for site in re.findall(r'--site "([^"]+)"', README):
        assert site in sites, site
    for route in re.findall(r'--route "([^"]+)"', README):
        assert route in routes, route


def test_the_boundaries_hint_says_where_it_is():
    # The README points to the sidebar box the dashboard really draws (dashboard/app.py), not to "the map".
    app = (Path(__file__).resolve().parent.parent / "dashboard" / "app.py").read_text(encoding="utf-8")
    label = re.search(r'st\.sidebar\.expander\("([^"]+)"\)', app)
    assert label is not None
    hint = re.search(r"Without boundaries\s+everything runs;[^.]*\.", README)
    assert hint is not None and f"“{label.group(1)}”" in hint.group(0) and "sidebar" in hint.group(0)
