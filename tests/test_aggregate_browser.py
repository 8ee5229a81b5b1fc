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
