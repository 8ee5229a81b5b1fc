"""The H3 aggregate view as a person sees it: hexagons drawn in headless Chromium, no network, no errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from layers.assets import inline_assets
from layers.map import MapInputs, build_map
from tests.scale_data import incidents

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

#: Counts the coloured pixels of every canvas in the map (the aggregate view draws on canvas).
COLOURED_PIXELS = """() => Array.from(document.querySelectorAll('canvas.leaflet-zoom-animated')).reduce((n, c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
    return n; }, 0)"""


def test_hexagons_are_drawn_offline(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    pts = incidents(3_000, seed=21)
    html = inline_assets(build_map(MapInputs(pts), representation="aggregate").get_root().render())
    page_file = tmp_path / "aggregate.html"
    page_file.write_text(html, encoding="utf-8")
    errors, blocked = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})

        def route(r):
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_selector(".leaflet-container")
        page.wait_for_timeout(500)
        coloured = page.evaluate(COLOURED_PIXELS)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "aggregate_hexagons.png"))
        legend = page.inner_text(".cm-legend")
        browser.close()
    assert errors == []
    assert coloured > 20_000  # thousands of hexagon pixels, not an empty canvas
    assert "colour = number of incidents" in legend  # a count scale, not the majority type
    assert all(not u.startswith("http") or "tile" in u for u in blocked)  # no scripts/styles from the network


def _layer_script(html: str) -> tuple[str, str]:
    """The incident layer's script in ``html`` and the name of its variable."""
    import re

    found = re.search(r"var (incident_layer_\w+) = \(function \(\) \{.*?\n        \}\)\(\);", html, re.S)
    assert found, "no incident layer script in the page"
    return found.group(0), found.group(1)


def test_the_same_hexagons_sent_again_stay_on_the_map(tmp_path):
    """The dashboard's map gets every layer's script again when any layer changes (streamlit-folium):
    the same cells sent again keep the drawn ones (no layer added, the canvas unchanged), and other
    cells replace them. Measured at a million incidents: a re-evaluation went from 452 to 92 ms."""
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    from layers.incidents import build_payload

    pts, later = incidents(3_000, seed=21), incidents(2_000, seed=5)
    html = inline_assets(build_map(MapInputs(pts), representation="aggregate").get_root().render())
    script, name = _layer_script(html)
    other = _layer_script(inline_assets(build_map(MapInputs(later), representation="aggregate").get_root().render()))
    cells, later_cells = (len(build_payload(x, "aggregate").data["n"]) for x in (pts, later))
    page_file = tmp_path / "aggregate.html"
    page_file.write_text(html, encoding="utf-8")
    resend = """([script, name, first]) => {
        const map = Object.values(window).find(v => v instanceof L.Map);
        let added = 0;
        const count = e => { if (e.layer instanceof L.Polygon) added++; };
        map.on('layeradd', count);
        map.removeLayer(window.cmShown || window[first]);  // as streamlit-folium removes what it added
        (0, eval)(script);                                  // and evaluates the scripts again
        window.cmShown = window[name];
        map.addLayer(window.cmShown);
        return new Promise(done => setTimeout(() => { map.off('layeradd', count); done(added); }, 50));
    }"""
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 800})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_selector(".leaflet-container")
        page.wait_for_timeout(300)
        before = page.evaluate(COLOURED_PIXELS)
        polygons = "() => { let n = 0; Object.values(window).find(v => v instanceof L.Map).eachLayer(" \
                   "l => { if (l instanceof L.Polygon) n++; }); return n; }"
        first_polygons = page.evaluate(polygons)
        same = page.evaluate(resend, [script, name, name])
        page.wait_for_timeout(200)
        kept = page.evaluate(COLOURED_PIXELS)
        different = page.evaluate(resend, [*other, name])
        page.wait_for_timeout(200)
        later_polygons = page.evaluate(polygons)
        browser.close()
    assert errors == []
    assert same == 0 and kept == before > 20_000  # nothing rebuilt, the same cells drawn
    assert different >= later_cells > 100  # another selection: its cells are drawn
    assert later_polygons - later_cells == first_polygons - cells  # and the old cells left the map
