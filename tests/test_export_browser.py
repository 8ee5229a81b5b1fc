"""What a colleague sees: the exported file opened from file:// in headless Chromium, network off."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from geodata.model.filters import FilterSpec
from geodata.geo.routes import load_routes
from geodata.model.selection import Selection
from geodata.settings import BUNDLED_DIR
from geodata.geo.sites import load_sites
from layers.export_html import build_export
from tests.hostile import HOSTILE, hostile_selection
from tests.synthetic import synthetic_incidents
from tests.test_export_html import bundled_selection


def drawn_incidents(page) -> int:
    from tests.test_map_browser import drawn_incidents as count

    return count(page)


def open_every_incident(page) -> list[str]:
    from tests.test_map_browser import open_every_incident as open_all

    return open_all(page)

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic", "--no-first-run",
        "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
WHEN = dt.datetime(2026, 11, 2, 10, 15, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)")
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


class Opened:
    """A page showing an exported file, with every non-file request blocked and recorded."""

    def __init__(self, browser, html: str, tmp_path: Path):
        made = tmp_path / "made" / "map.html"
        made.parent.mkdir()
        made.write_text(html, encoding="utf-8")
        elsewhere = tmp_path / "usb-stick" / "shared map.html"  # as a colleague gets it: moved, renamed
        elsewhere.parent.mkdir()
        shutil.copy(made, elsewhere)
        self.blocked: list[tuple[str, str]] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": 1280, "height": 850})
        self.page.route("**/*", self._route)
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(elsewhere.as_uri())
        self.page.wait_for_selector(".leaflet-container")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:")):
            route.continue_()
        else:
            self.blocked.append((route.request.resource_type, url))
            route.abort()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self):
        assert self.dialogs == [], f"a script from data ran: {self.dialogs}"
        assert self.errors == [], self.errors
        assert [b for b in self.blocked if b[0] in ("script", "stylesheet", "font")] == []


def test_bundled_export_works_offline(browser, tmp_path):
    sel = bundled_selection()
    opened = Opened(browser, build_export(sel, WHEN).html, tmp_path)
    page = opened.page
    assert drawn_incidents(page) == len(sel.incidents)
    assert page.locator(".cm-site").count() == len(sel.sites)
    assert page.locator("path.cm-route").count() >= len(sel.routes)
    legend = page.locator(".cm-legend").inner_text()
    assert "Battles" in legend and "Patrol route" in legend
    assert "All incidents" in page.locator(".cm-title").inner_text()
    page.locator("path.cm-incident").first.dispatch_event("click")
    popup = page.locator(".leaflet-popup-content .cm-popup")
    popup.wait_for()
    text = popup.inner_text()
    assert "Source:" in text and re.search(r"CM-XKX-\d{4}", text)
    assert popup.locator("a[href^='http']").count() == 1  # the report link, http(s) only
    page.locator(".cm-about summary").click()
    assert "Incident sources" in page.locator(".cm-about").inner_text()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export_bundled_offline.png"))
    opened.assert_clean()
    page.close()


def test_export_with_boundaries_and_tiles_offline(browser, tmp_path, municipalities):
    sel = bundled_selection(municipalities=municipalities)
    sel = Selection(sel.incidents, sel.spec, municipalities, sel.routes, sel.sites,
                    tiles="https://tile.example.org/{z}/{x}/{y}.png", tiles_attribution="Example tiles")
    opened = Opened(browser, build_export(sel, WHEN).html, tmp_path)
    page = opened.page
    assert drawn_incidents(page) == len(sel.incidents)
    assert "Basemap" in page.locator(".leaflet-control-layers").inner_text()
    legend = page.locator(".cm-legend")
    if not legend.evaluate("e => e.open"):  # a large legend starts closed: the reader opens it
        legend.locator("summary").click()
    assert "Municipalities" in legend.inner_text()
    page.wait_for_timeout(300)
    assert opened.blocked and all(kind == "image" for kind, _ in opened.blocked)  # only tiles were attempted
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export_boundaries_tiles_offline.png"))
    # Tiles cannot load offline: the map switches to "No basemap" by itself; the incidents stay.
    page.wait_for_selector(".leaflet-container[data-basemap='offline']")
    assert page.get_by_label("No basemap").is_checked()
    assert page.locator(".leaflet-tile").count() == 0
    assert drawn_incidents(page) == len(sel.incidents)
    opened.assert_clean()
    page.close()


def test_hostile_strings_show_as_text_and_never_run(browser, tmp_path):
    sel = hostile_selection()
    opened = Opened(browser, build_export(sel, WHEN).html, tmp_path)
    page = opened.page
    assert drawn_incidents(page) == len(sel.incidents)
    seen = open_every_incident(page)
    assert len(seen) == len(sel.incidents)
    assert page.locator(".leaflet-popup-content a[href^='javascript']").count() == 0
    text = "\n".join(seen)
    for s in HOSTILE:
        assert s in text, f"{s!r} not shown literally"
    assert "<script>alert(1)</script>" in page.locator(".cm-title").inner_text()
    page.locator(".cm-site").first.click(force=True)  # site popups carry ${...} and backtick tricks
    site_text = page.locator(".leaflet-popup-content").last.inner_text()
    assert "${alert(1)}" in site_text and "\\`);alert(1);//" in site_text
    assert page.evaluate("document.querySelectorAll('.leaflet-pane img[src=\"x\"], .leaflet-pane svg[onload]').length") == 0
    opened.assert_clean()
    page.close()


def test_100k_synthetic_export_shows_clusters_offline(browser, tmp_path):
    sel = Selection(synthetic_incidents(100_000), FilterSpec(), None,
                    load_routes(BUNDLED_DIR / "patrol_routes.geojson"), load_sites())
    result = build_export(sel, WHEN)
    assert result.representation == "cluster" and result.size_bytes <= 5_000_000
    opened = Opened(browser, result.html, tmp_path)
    page = opened.page
    page.wait_for_selector(".marker-cluster", timeout=60_000)
    page.wait_for_function("() => document.querySelectorAll('.marker-cluster').length > 0 && "
                           "!document.querySelector('.leaflet-marker-pane .marker-cluster-anim')", timeout=60_000)
    counts = [int(t.replace(",", "")) for t in page.locator(".marker-cluster span").all_inner_texts()]
    assert counts and sum(counts) <= 100_000 and sum(counts) > 90_000  # the whole set is on screen, clustered
    assert page.locator("path.cm-incident").count() == 0
    assert "100,000 incidents shown as browser-side clusters" in page.locator(".cm-title").inner_text()
    assert page.locator(".cm-legend").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export_100k_clusters_offline.png"))
    opened.assert_clean()
    page.close()
