"""In headless Chromium (network cut): new incidents show at once, and no user text becomes a link or image.

* Upload in the Upload page -> the sidebar count and the Upload page's notice include the new rows
  without another click; the Map page then draws them.
* Another process (the command line) ingests -> an open session shows the new rows on its next rerun
  (here: switching page), with no Reload button.
Both on SQLite and on PostGIS (``store_url``). Expected counts come from the data through
:func:`tests.bundle.load_bundle`, never hard-coded.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from tests.bundle import load_bundle
from geodata.settings import get_settings
from tests.test_browser_dashboard import (ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, MAP_IFRAME, offline_router,
                                          start_server, stop_server)
from tests.test_dashboard_live import late_csv

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def live(store_url, tmp_path, adm2_path):
    """A dashboard serving ``store_url`` (empty store), and its environment."""
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (Debian package 'chromium'; scripts/setup.sh --system)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env.update({"CONFLICTMAP_BOUNDARIES": str(adm2_path), "CONFLICTMAP_DATA_DIR": str(tmp_path / "var"),
                "CONFLICTMAP_DB": store_url})
    port, proc = start_server(env)
    try:
        yield port, env
    finally:
        stop_server(proc)


def _browser(p):
    browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    blocked: list[tuple[str, str]] = []
    context.route("**/*", offline_router(blocked))
    return browser, context, blocked


def _count_text(n: int, total: int) -> str:
    return f"{n:,} of {total:,} incidents"


def _sidebar_count(page, n: int, total: int):
    """The sidebar's "N of M incidents"."""
    return page.get_by_test_id("stSidebarUserContent").get_by_text(_count_text(n, total), exact=True)


def _markers(page) -> int:
    """Incidents on the map: single markers plus the counts in co-location rings (see tests.test_map_browser)."""
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator(".cm-cluster, path.cm-incident").first.wait_for(timeout=45_000)
    rings = [int(t.replace(",", "")) for t in frame.locator(".cm-cluster").all_inner_texts() if t.strip()]
    return frame.locator("path.cm-incident").count() + sum(rings)


def _nav(page, title: str) -> None:
    """Click a page in the top navigation (an in-app switch: same session, one rerun).

    Waits until the address names the page; a click that lands while the app is still rerunning can be
    dropped by the browser (seen once in CI), so it is clicked again, at most three times.
    """
    path = "/" if title == "Map" else "/" + title.lower()
    link = page.locator('[data-testid="stTopNavLink"]', has_text=title).first
    for attempt in range(3):
        link.click(timeout=60_000)
        try:
            page.wait_for_function("p => window.location.pathname.replace(/\\/$/, '') === p.replace(/\\/$/, '')",
                                   arg=path, timeout=15_000)
            return
        except Exception:
            if attempt == 2:
                raise


def test_upload_in_the_page_shows_the_new_rows_without_another_click(live, tmp_path):
    from playwright.sync_api import sync_playwright

    port, env = live
    total = len(load_bundle(get_settings(env)).incidents)
    csv = late_csv(tmp_path / "late.csv", 5, "2026-06-01")
    with sync_playwright() as p:
        browser, context, blocked = _browser(p)
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            _sidebar_count(page, total, total).wait_for(timeout=60_000)
            assert _markers(page) == total
            _nav(page, "Upload")
            page.locator('input[type="file"]').set_input_files(str(csv), timeout=60_000)
            page.get_by_role("button", name="Store the valid rows").click(timeout=60_000)
            # No further click: the sidebar and the page count the new rows, Undo is offered.
            _sidebar_count(page, total + 5, total + 5).wait_for(timeout=30_000)
            page.get_by_text(f"The map now shows {total + 5:,} of {total + 5:,} incidents").wait_for(timeout=10_000)
            # The button comes after the notice in the same run; the browser may show the notice first.
            page.get_by_role("button", name="Undo this upload…").wait_for(state="visible", timeout=30_000)
            _nav(page, "Map")
            page.get_by_text(f"Showing all {total + 5:,} incidents").wait_for(timeout=30_000)
            assert _markers(page) == total + 5
        finally:
            browser.close()
    assert not [b for b in blocked if b[0] in ("script", "stylesheet", "font")], blocked


def test_another_process_ingests_and_an_open_session_shows_it(live, tmp_path):
    from playwright.sync_api import sync_playwright

    port, env = live
    total = len(load_bundle(get_settings(env)).incidents)
    csv = late_csv(tmp_path / "late.csv", 4, "2026-06-01")
    with sync_playwright() as p:
        browser, context, _blocked = _browser(p)
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            _sidebar_count(page, total, total).wait_for(timeout=60_000)
            assert _markers(page) == total
            done = subprocess.run([sys.executable, "-m", "geodata", "ingest", str(csv)], cwd=REPO, env=env,
                                  capture_output=True, text=True, timeout=120)
            assert done.returncode == 0, done.stderr
            assert not page.get_by_role("button", name="Reload data").count()
            _nav(page, "Analysis")  # the session's next rerun
            _sidebar_count(page, total + 4, total + 4).wait_for(timeout=30_000)
            _nav(page, "Map")
            page.get_by_text(f"Showing all {total + 4:,} incidents").wait_for(timeout=30_000)
            assert _markers(page) == total + 4
            assert "end=" not in page.url and "start=" not in page.url  # the dates followed the data
        finally:
            browser.close()


def test_markdown_from_the_url_stays_text_in_chromium(server_sqlite):
    """`?q=`, `?actor=`, `?muni=` with a Markdown link and image: no link, no image, no request."""
    from playwright.sync_api import sync_playwright

    port = server_sqlite
    link, image = "[Click here](http://x.example/login)", "![p](http://x.example/p.png)"
    query = urllib.parse.urlencode({"q": link, "actor": [link, image], "muni": [image, link]}, doseq=True)
    with sync_playwright() as p:
        browser, context, blocked = _browser(p)
        try:
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/?{query}", wait_until="domcontentloaded")
            page.get_by_text("This link asked for something").wait_for(timeout=60_000)
            page.get_by_text("Click here", exact=False).first.wait_for(timeout=10_000)
            text = page.locator("body").inner_text().replace("\u2060", "")  # the invisible joiner
            for title in ("Analysis", "Export", "Map"):
                assert page.locator('a[href*="x.example"]').count() == 0, title
                assert page.locator('img[src*="x.example"]').count() == 0, title
                _nav(page, title)
                page.wait_for_timeout(1500)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard-markdown-link.png"))
        finally:
            browser.close()
    assert "[Click here](http://x.example/login)" in text  # shown literally
    assert not [u for _kind, u in blocked if "x.example" in u], blocked


@pytest.fixture(scope="module")
def server_sqlite(tmp_path_factory, adm2_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (Debian package 'chromium'; scripts/setup.sh --system)")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env.update({"CONFLICTMAP_BOUNDARIES": str(adm2_path), "CONFLICTMAP_DATA_DIR": str(tmp_path_factory.mktemp("v"))})
    port, proc = start_server(env)
    try:
        yield port
    finally:
        stop_server(proc)
