"""What an analyst sees: the dashboard in headless Chromium, with every non-local request blocked.

Starts ``streamlit run dashboard/app.py`` on a free localhost port with the real boundaries from
../shared and an empty data folder, opens a shared link (filters in the URL) and checks the map
in the streamlit-folium iframe: Leaflet drawn, the expected number of incident markers, the four
layers in the layer control, no console error, and no blocked script or stylesheet (only map
tiles may be refused). Saves ``artifacts/dashboard.png``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from geodata.model.filters import FilterSpec, apply_filters
from tests.bundle import load_bundle
from geodata.settings import get_settings

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = REPO / "artifacts"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}


def offline_router(blocked: list[tuple[str, str]]):
    """A Playwright route handler that lets only this machine's http(s) requests through.

    Every other network request is aborted and recorded as ``(resource type, url)`` in ``blocked``;
    data:, blob: and about: URLs never leave the browser and pass.
    """
    def route(r):
        url = r.request.url
        if not url.startswith(("http:", "https:")) or (urllib.parse.urlsplit(url).hostname or "") in LOCAL_HOSTS:
            return r.continue_()
        blocked.append((r.request.resource_type, url))
        return r.abort()
    return route
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
                 "--no-first-run", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_health(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early:\n{proc.stdout.read() if proc.stdout else ''}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError("streamlit did not become healthy")


def start_server(env: dict[str, str]) -> tuple[int, subprocess.Popen]:
    """``streamlit run dashboard/app.py`` on a free loopback port with ``env``; waits until healthy."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        _wait_for_health(port, proc)
    except BaseException:
        stop_server(proc)
        raise
    return port, proc


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def server(tmp_path_factory, adm2_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (Debian package 'chromium'; scripts/setup.sh --system)")
    env = {**os.environ, "CONFLICTMAP_BOUNDARIES": str(adm2_path),
           "CONFLICTMAP_DATA_DIR": str(tmp_path_factory.mktemp("var"))}
    env.pop("CONFLICTMAP_DB", None)
    env.pop("CONFLICTMAP_TILES", None)
    port, proc = start_server(env)
    try:
        yield port, env
    finally:
        stop_server(proc)


MAP_IFRAME = 'iframe[title*="streamlit_folium"]'


def test_dashboard_in_chromium_offline(server):
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from playwright.sync_api import sync_playwright

    port, env = server
    spec = FilterSpec(event_types=("Protests", "Strategic developments"), min_fatalities=0)
    bundle = load_bundle(get_settings(env))
    expected = len(apply_filters(bundle.incidents, spec, bundle.routes, bundle.sites))
    assert 0 < expected < len(bundle.incidents)
    query = urllib.parse.urlencode(spec.to_query_params(), doseq=True)
    url = f"http://127.0.0.1:{port}/?{query}"

    blocked: list[tuple[str, str]] = []
    console_errors: list[str] = []
    asset_failures: list[str] = []

    route = offline_router(blocked)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 1400})
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console_errors.append(f"pageerror: {e}"))
            page.on("response", lambda resp: asset_failures.append(f"{resp.status} {resp.url}")
                    if resp.status >= 400 and "/app/static/" in resp.url else None)
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_text(f"{expected} of {len(bundle.incidents)} incidents").wait_for(timeout=60_000)
            frame = page.frame_locator(MAP_IFRAME)
            frame.locator(".leaflet-control-layers").wait_for(timeout=45_000)
            frame.locator("path.cm-incident").first.wait_for(timeout=20_000)
            assert frame.locator(".leaflet-container").is_visible()
            # single markers plus the counts in co-location rings (see tests.test_map_browser)
            rings = [int(t.replace(",", "")) for t in frame.locator(".cm-cluster").all_inner_texts() if t.strip()]
            markers = frame.locator("path.cm-incident").count() + sum(rings)
            control_text = frame.locator(".leaflet-control-layers").inner_text()
            assert frame.locator(".cm-legend").is_visible()
            assert frame.locator(".cm-site").count() == len(bundle.sites)
            frame.locator(".leaflet-container[data-basemap='offline']").wait_for(state="attached", timeout=20_000)
            fallback = frame.locator(".cm-basemap-note").is_visible()
            page.wait_for_timeout(1500)  # let late console errors and asset requests arrive
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        finally:
            browser.close()

    assert markers == expected
    for layer in ("Municipalities", "Patrol routes", "Religious sites", "Incidents"):
        assert layer in control_text, f"layer control lacks {layer!r}: {control_text!r}"
    not_tiles = [(kind, u) for kind, u in blocked if kind not in ("image",)]
    assert not [b for b in blocked if b[0] in ("script", "stylesheet", "font")], blocked
    assert not not_tiles, f"non-tile requests left the machine: {not_tiles}"
    assert not asset_failures, asset_failures
    # The default basemap is OpenStreetMap: its tile requests are blocked here (the browser logs one
    # "Failed to load resource" per tile) and the map falls back to the offline geography.
    tiles = [u for kind, u in blocked if kind == "image"]
    assert all(urllib.parse.urlsplit(u).hostname == "tile.openstreetmap.org" for u in tiles), tiles
    assert fallback, "the map did not fall back to the offline geography when tiles failed"
    failed_loads = [e for e in console_errors if e.startswith("Failed to load resource")]
    assert len(failed_loads) <= len(tiles), (failed_loads, tiles)
    assert not [e for e in console_errors if e not in failed_loads], console_errors


def test_openstreetmap_basemap_only_asks_for_tiles(server):
    """With the default basemap (OpenStreetMap, no ``map`` in the URL), the only requests leaving the
    machine are tile images; blocked, they make the map fall back to the offline geography."""
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from playwright.sync_api import sync_playwright

    port, _env = server
    blocked: list[tuple[str, str]] = []

    route = offline_router(blocked)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.route("**/*", route)
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            frame = page.frame_locator(MAP_IFRAME)
            frame.locator("path.cm-incident").first.wait_for(timeout=60_000)
            # Tiles are tried, fail (refused here) and the map falls back to the offline geography.
            frame.locator(".leaflet-container[data-basemap='offline']").wait_for(state="attached", timeout=20_000)
            assert frame.locator(".cm-basemap-note").is_visible()
            page.wait_for_timeout(1000)
        finally:
            browser.close()
    assert blocked, "the OSM basemap should have asked for tiles"
    assert all(kind == "image" and urllib.parse.urlsplit(u).hostname == "tile.openstreetmap.org" for kind, u in blocked), blocked
