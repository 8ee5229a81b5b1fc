"""The dashboard's export panel (AppTest): every download is offered for the current selection."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.text import md_escape

REPO = str(Path(__file__).resolve().parents[1])


def _app(repo: str) -> None:
    import sys

    sys.path.insert(0, repo)
    from dashboard import export_panel
    from geodata.model.filters import FilterSpec
    from tests.test_export_html import bundled_selection

    export_panel.render(bundled_selection(FilterSpec(event_types=("Battles",))))


def _download_labels(at: AppTest) -> list[str]:
    labels = []
    for node in at.get("download_button"):
        proto = node.proto
        labels.append(proto.label)
    return labels


def test_panel_offers_every_export():
    at = AppTest.from_function(_app, args=(REPO,), default_timeout=60).run()
    assert not at.exception, at.exception
    labels = _download_labels(at)
    assert labels == ["Map (standalone HTML)", "Map image (PNG)", "CSV (Excel)", "GeoJSON", "GeoPackage (all layers)"]
    assert md_escape("event type: Battles") in at.caption[0].value  # user text: shown, never as Markdown
    at.selectbox(key="cm_export_layer").set_value("municipalities").run()
    assert not at.exception
    assert any("python -m geodata boundaries" in i.value for i in at.info)  # no boundaries in this selection


def test_data_downloads_disabled_for_a_missing_layer():
    at = AppTest.from_function(_app, args=(REPO,), default_timeout=60).run()
    at.selectbox(key="cm_export_layer").set_value("municipalities").run()
    state = {n.proto.label: n.proto.disabled for n in at.get("download_button")}
    assert state["CSV (Excel)"] and state["GeoJSON"] and not state["GeoPackage (all layers)"]
    assert not state["Map (standalone HTML)"]


def test_html_map_starts_on_the_offline_map_unless_tiles_are_asked_for():
    """Issue 21 item 4: a shared file opens on the offline map unless the exporter chose tiles."""
    from dataclasses import replace

    from dashboard.export_panel import for_offline_readers
    from layers.export_html import build_export
    from tests.test_export_html import bundled_selection

    tiled = replace(bundled_selection(), tiles="osm")
    offline = build_export(for_offline_readers(tiled, keep_tiles=False)).html
    assert "tile.openstreetmap.org" not in offline and "Basemap: OpenStreetMap" not in offline
    kept = build_export(for_offline_readers(tiled, keep_tiles=True)).html
    assert "tile.openstreetmap.org" in kept


def _tiled_app(repo: str) -> None:
    import sys
    from dataclasses import replace

    sys.path.insert(0, repo)
    from dashboard import export_panel
    from tests.test_export_html import bundled_selection

    export_panel.render(replace(bundled_selection(), tiles="osm"))


def test_panel_offers_tiles_off_by_default():
    at = AppTest.from_function(_tiled_app, args=(REPO,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.checkbox(key="cm_export_tiles").value is False


def test_the_dashboards_export_selection_follows_the_basemap_through_the_service(clean_env):
    """The dashboard's export selection is built by the service's one rule (``as_selection``): OSM tiles,
    the configured tile server with its attribution, or none, as the sidebar's basemap says."""
    from dashboard import data
    from dashboard import state as S
    from geodata.model.filters import FilterSpec

    clean_env.setenv("CONFLICTMAP_TILES", "https://tiles.example/{z}/{x}/{y}.png")
    clean_env.setenv("CONFLICTMAP_TILES_ATTRIBUTION", "Example tiles")
    snap = data.snapshot()
    got = {b: snap.context(FilterSpec(), S.ViewOptions(basemap=b)) for b in ("osm", "custom", "none")}
    assert (got["osm"].tiles, got["osm"].tiles_attribution) == ("osm", None)
    assert (got["custom"].tiles, got["custom"].tiles_attribution) == ("https://tiles.example/{z}/{x}/{y}.png",
                                                                      "Example tiles")
    assert (got["none"].tiles, got["none"].tiles_attribution) == (None, None)
    assert all(len(s.incidents) == len(got["osm"].incidents) > 0 for s in got.values())
