"""The map as a reader sees it: exported HTML opened from file:// in headless Chromium, network cut.

Proves issue 10's browser checks: place names as text at the default view (with and without
municipal boundaries), the Kosovo boundary, all four Banjska rows of 24 Sep 2023 reachable by
clicks, a collapsible legend clear of the fitted data at 1440×900 and 390×844, the one-line
fallback when tiles fail, and the tile basemap used when loopback tiles load. Screenshots go to
``artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import http.server
import io
import threading
from pathlib import Path

import pytest

from geodata.geo.boundaries import read_country_boundary
from geodata.model.filters import FilterSpec
from layers.export_html import build_export
from tests.test_export_browser import ARGS, ARTIFACTS, CHROMIUM, WHEN
from tests.test_export_html import bundled_selection

NORTH = ("Zvečan", "Leposavić", "Zubin Potok", "North Mitrovica", "Jarinje", "Banjska")
BANJSKA_DAY = FilterSpec(start=dt.date(2023, 9, 24), end=dt.date(2023, 9, 24))


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def no_installed_outline(clean_env):
    """No geoBoundaries ADM0 installed: the map must still draw Kosovo (Natural Earth outline)."""
    return clean_env


def open_map(browser, html: str, tmp_path: Path, size=(1440, 900), allow_loopback: bool = False):
    """Open ``html`` from file:// with every other request refused (loopback allowed if asked)."""
    path = tmp_path / f"map-{size[0]}.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.cm_errors = []
    page.cm_blocked = []
    page.on("pageerror", lambda e: page.cm_errors.append(str(e)))

    def route(r):
        url = r.request.url
        if url.startswith(("file:", "data:")) or (allow_loopback and url.startswith("http://127.0.0.1:")):
            r.continue_()
        else:
            page.cm_blocked.append(url)
            r.abort()

    page.route("**/*", route)
    page.goto(path.as_uri())
    page.wait_for_selector(".leaflet-container[data-fitted='1']", timeout=15000)
    page.wait_for_timeout(400)
    return page


def drawn_incidents(page) -> int:
    """Incidents on the map: single markers plus the counts shown in co-location rings."""
    rings = [int(t.replace(",", "")) for t in page.locator(".cm-cluster").all_inner_texts() if t.strip()]
    return page.locator("path.cm-incident").count() + sum(rings)


def open_every_incident(page) -> list[str]:
    """Open every incident's popup with clicks (spreading out co-located ones); returns the popup texts."""
    texts: list[str] = []
    paths = page.locator("path.cm-incident")

    def shown() -> list[int]:
        return [j for j in range(paths.count()) if paths.nth(j).get_attribute("d") != "M0 0" and paths.nth(j).is_visible()]

    def open_marker(j: int) -> None:
        paths.nth(j).click(force=True)
        content = page.locator(".leaflet-popup-content").last
        content.wait_for()
        texts.append(content.inner_text())
        page.evaluate("document.querySelector('.leaflet-popup-close-button').click()")
        page.locator(".leaflet-popup").wait_for(state="detached")
        # An opened popup pans the map to fit; go back to the fitted view for the next click.
        page.evaluate("document.querySelector('.leaflet-container').cmFitToData()")
        page.wait_for_timeout(150)

    alone = shown()
    for j in alone:  # incidents alone at their spot
        open_marker(j)
    rings = page.locator(".cm-cluster")
    for i in range(rings.count()):
        count = int(rings.nth(i).inner_text().strip())  # co-located incidents show their count
        for k in range(count):
            legs = [j for j in shown() if j not in alone]
            if len(legs) < count:
                rings.nth(i).click(force=True)  # spreads them out
                page.wait_for_timeout(600)
                legs = [j for j in shown() if j not in alone]
            assert len(legs) == count
            open_marker(legs[k])
    return texts


def visible_labels(page) -> list[str]:
    """Label texts shown inside the map's viewport."""
    return page.evaluate("""() => {
        const c = document.querySelector('.leaflet-container').getBoundingClientRect();
        return Array.from(document.querySelectorAll('.cm-label')).filter(e => {
            if (e.style.display === 'none') return false;
            const r = e.firstChild.getBoundingClientRect();
            return r.width > 0 && r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom;
        }).map(e => e.textContent);
    }""")


@pytest.mark.parametrize("with_boundaries", [False, True], ids=["no-boundaries", "boundaries"])
def test_place_names_and_kosovo_boundary_at_default_view(browser, tmp_path, no_installed_outline, request,
                                                         with_boundaries):
    muni = request.getfixturevalue("municipalities") if with_boundaries else None
    country = None
    if with_boundaries:  # the official outline from ../shared, handed over as the service does (Context.country)
        adm0 = request.getfixturevalue("adm2_path").parent / "geoBoundaries-XKX-ADM0_simplified.geojson"
        country = read_country_boundary(adm0)
    html = build_export(bundled_selection(municipalities=muni, country=country), WHEN).html
    page = open_map(browser, html, tmp_path)
    labels = visible_labels(page)
    assert set(NORTH) <= set(labels), labels
    # Text in the page, findable as text (Ctrl+F, screen readers), not pictures.
    assert page.get_by_text("Jarinje crossing", exact=True).count() == 1
    box = page.locator("path.cm-kosovo-boundary").first.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 300  # the outline spans the fitted view
    attribution = page.locator(".leaflet-control-attribution").inner_text()
    assert "GeoNames" in attribution and "Natural Earth" in attribution
    assert ("geoBoundaries" in attribution) == with_boundaries
    if with_boundaries:
        assert page.locator(".cm-label-municipality").count() == 38
    # labels never overlap one another
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('.cm-label'))
        .filter(e => e.style.display !== 'none').map(e => { const r = e.firstChild.getBoundingClientRect();
        return [r.left, r.top, r.right, r.bottom]; })""")
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1), (a, b)
    assert page.cm_errors == []
    page.screenshot(path=str(ARTIFACTS / f"map-export-{'boundaries' if with_boundaries else 'plain'}-1440.png"))
    page.close()


def test_all_four_banjska_rows_open_by_clicks(browser, tmp_path, no_installed_outline):
    sel = bundled_selection(BANJSKA_DAY)
    expected = set(sel.incidents["event_id_cnty"])
    assert len(expected) == 4
    page = open_map(browser, build_export(sel, WHEN).html, tmp_path)
    opened = {text.strip().splitlines()[-1] for text in open_every_incident(page)}
    assert opened == expected
    assert page.cm_errors == []
    page.close()


def test_site_never_hides_an_incident(browser, tmp_path, no_installed_outline):
    page = open_map(browser, build_export(bundled_selection(BANJSKA_DAY), WHEN).html, tmp_path)
    z = page.evaluate("""() => [getComputedStyle(document.querySelector('.leaflet-cmSites-pane')).zIndex,
                                getComputedStyle(document.querySelector('.leaflet-cmIncidents-pane')).zIndex,
                                getComputedStyle(document.querySelector('.leaflet-cmLabels-pane')).zIndex]""")
    sites, incidents, labels = (int(v) for v in z)
    assert labels < sites < incidents
    # The incident at the monastery's coordinates is what a click there hits.
    page.locator(".cm-cluster, path.cm-incident").first.click()
    assert page.locator(".cm-site").count() > 0
    assert page.locator(".leaflet-cmSites-pane .cm-site").count() == page.locator(".cm-site").count()
    assert page.locator(".leaflet-cmIncidents-pane path.cm-incident").count() == page.locator("path.cm-incident").count()
    page.close()


@pytest.mark.parametrize("size", [(1440, 900), (390, 844)], ids=["desktop", "phone"])
def test_legend_collapsible_and_clear_of_fitted_data(browser, tmp_path, no_installed_outline, size):
    page = open_map(browser, build_export(bundled_selection(), WHEN).html, tmp_path, size)
    legend = page.locator(".cm-legend")
    is_open = legend.evaluate("e => e.open")
    assert is_open == (size[0] >= 600)  # starts collapsed on small screens
    lb = legend.bounding_box()
    data = page.evaluate("""() => Array.from(document.querySelectorAll('.cm-cluster, path.cm-incident'))
        .map(e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; })""")
    assert data
    for x0, y0, x1, y1 in data:
        assert x1 <= lb["x"] or x0 >= lb["x"] + lb["width"] or y1 <= lb["y"] or y0 >= lb["y"] + lb["height"], \
            (lb, (x0, y0, x1, y1))
        assert 0 <= x0 and x1 <= size[0] and 0 <= y0 and y1 <= size[1]  # all fitted data on screen
    page.screenshot(path=str(ARTIFACTS / f"map-export-{size[0]}x{size[1]}.png"))
    page.locator(".cm-legend summary").click()
    assert legend.evaluate("e => e.open") != is_open  # the reader can open / close it
    page.close()


def test_fallback_line_when_tiles_fail(browser, tmp_path, no_installed_outline):
    sel = bundled_selection()
    sel = type(sel)(sel.incidents, sel.spec, sel.municipalities, sel.routes, sel.sites, tiles="osm")
    page = open_map(browser, build_export(sel, WHEN).html, tmp_path)
    page.wait_for_selector(".leaflet-container[data-basemap='offline']", timeout=12000)
    note = page.locator(".cm-basemap-note")
    assert note.is_visible()
    assert note.inner_text().strip() == "Basemap tiles could not load: showing the offline map."
    assert any("tile.openstreetmap.org" in u for u in page.cm_blocked)  # tiles were tried first
    assert page.locator(".leaflet-tile-pane img").count() == 0
    assert set(NORTH) <= set(visible_labels(page))  # the offline geography is what remains
    page.screenshot(path=str(ARTIFACTS / "map-export-tiles-blocked-1440.png"))
    page.close()


def _png_tile() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 230, 200)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def tile_server():
    """A loopback tile server that counts the tiles it serves."""
    tile, served = _png_tile(), []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(tile)))
            self.end_headers()
            self.wfile.write(tile)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/tiles/{{z}}/{{x}}/{{y}}.png", served
    server.shutdown()


def test_tile_basemap_is_used_when_tiles_load(browser, tmp_path, no_installed_outline, tile_server):
    url, served = tile_server
    sel = bundled_selection()
    sel = type(sel)(sel.incidents, sel.spec, sel.municipalities, sel.routes, sel.sites, tiles=url,
                    tiles_attribution="Loopback tiles")
    page = open_map(browser, build_export(sel, WHEN).html, tmp_path, allow_loopback=True)
    page.wait_for_selector(".leaflet-container[data-basemap='tiles']", timeout=12000)
    page.wait_for_timeout(1000)  # a late error must not switch a working basemap off
    assert page.locator(".leaflet-container").get_attribute("data-basemap") == "tiles"
    assert not page.locator(".cm-basemap-note").is_visible()
    loaded = page.evaluate("""() => Array.from(document.querySelectorAll('.leaflet-tile-pane img'))
        .filter(i => i.complete && i.naturalWidth === 256).length""")
    assert loaded > 0 and served
    assert "Loopback tiles" in page.locator(".leaflet-control-attribution").inner_text()
    page.screenshot(path=str(ARTIFACTS / "map-export-loopback-tiles-1440.png"))
    page.close()


def test_fallback_decides_within_two_seconds_when_tiles_hang(browser, tmp_path, no_installed_outline):
    """A network that drops requests (tiles neither load nor fail): the map still falls back in about 2 s
    (issue 21 item 4; it took about 8 s)."""
    sel = bundled_selection()
    sel = type(sel)(sel.incidents, sel.spec, sel.municipalities, sel.routes, sel.sites, tiles="osm")
    path = tmp_path / "hang.html"
    path.write_text(build_export(sel, WHEN).html, encoding="utf-8")
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else None)  # hang
    page.goto(path.as_uri(), wait_until="domcontentloaded")
    page.wait_for_selector(".leaflet-container[data-basemap='loading']", timeout=15000)
    started = page.evaluate("performance.now()")
    page.wait_for_selector(".leaflet-container[data-basemap='offline']", timeout=6000)
    assert page.evaluate("performance.now()") - started < 4000
    assert page.locator(".cm-basemap-note").is_visible()
    page.close()
