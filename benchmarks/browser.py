"""What a person waits for, measured in headless Chromium: first map, filter change, upload.

Starts ``streamlit run dashboard/app.py`` (loopback, free port) on a prepared store, opens the
dashboard in Debian's Chromium through Playwright and times, wall clock, from the action until the
map inside the streamlit-folium iframe shows the new result:

* **first map**: ``page.goto`` of a fresh browser page until the map is drawn. The first visitor
  after the server starts fills the server's caches (cold); a second page is timed warm;
* **filter change**: an actor chosen in the sidebar's "Actor" multiselect (typed and Enter, as a
  person does) until the map shows the new selection; one new actor per change;
* **upload**: on the Upload page, a click on "Store the valid rows" (file already chosen and
  checked) until the page reports the new total, then the click on "Map" until the map shows it.

"The map shows the result" is a DOM condition inside the iframe, polled on every animation frame:
the layer control's incident label ("Incidents (N)", written by :func:`layers.map.incident_group`)
names a count other than the previous one, and the incident layer is drawn for that count: N
circle markers (``path.cm-incident``) in the markers view, at least one cluster icon
(``.cm-cluster``) in the cluster view, coloured pixels on the canvas in the hexagon view.

Benchmark-only: the uploaded rows are synthetic (:mod:`benchmarks.synthetic`), written to the
benchmark's git-ignored data folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
MAP_IFRAME = 'iframe[title*="streamlit_folium"]'
#: Generous: a cold first map of 1,000,000 incidents on a loaded 2-core machine.
TIMEOUT_S = 600.0
SIDEBAR_LINE = """(prev) => {
  const bar = document.querySelector('[data-testid="stSidebarUserContent"]');
  if (!bar) return null;
  for (const p of bar.querySelectorAll('p')) {
    const t = p.innerText.trim();
    if (/^[\\d,]+ of [\\d,]+ incidents$/.test(t)) return t === prev ? null : t;
  }
  return null;
}"""

#: Returns the label's count (text) once the map shows a result other than ``prev``, else null.
MAP_SHOWS = """(prev) => {
  const ctl = document.querySelector('.leaflet-control-layers-overlays');
  if (!ctl) return null;
  const m = ctl.innerText.match(/Incidents \\(([\\d,]+)\\)/);
  if (!m || m[1] === prev) return null;
  const n = parseInt(m[1].replace(/,/g, ''), 10);
  if (n === 0) return m[1];
  if (document.querySelectorAll('path.cm-incident').length === n) return m[1];
  if (document.querySelectorAll('.cm-cluster').length > 0) return m[1];
  for (const c of document.querySelectorAll('canvas')) {
    if (!c.width || !c.height) continue;
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < d.length; i += 16) { if (d[i] > 0) return m[1]; }
  }
  return null;
}"""


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict[str, str], timeout: float = 120.0) -> tuple[int, subprocess.Popen]:
    """``streamlit run dashboard/app.py`` on 127.0.0.1 with ``env``; returns (port, process) once healthy.

    Raises:
        RuntimeError: the server exited or did not answer its health check within ``timeout``.
    """
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early: {(proc.stderr.read() if proc.stderr else '')[-2000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return port, proc
        except OSError:
            time.sleep(0.2)
    stop_server(proc)
    raise RuntimeError("streamlit did not become healthy")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the server started by :func:`start_server`."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def map_frame(page, timeout: float = TIMEOUT_S):
    """The streamlit-folium iframe's Frame (waits for it to exist)."""
    deadline = time.monotonic() + timeout
    while True:
        left = max(deadline - time.monotonic(), 0.001)
        handle = page.wait_for_selector(MAP_IFRAME, timeout=left * 1000)
        frame = handle.content_frame()
        if frame is not None:
            return frame
        # The iframe element exists before its document is attached (or Streamlit just replaced it).
        if time.monotonic() >= deadline:
            raise TimeoutError("the map iframe never loaded a document")
        time.sleep(0.05)


def wait_for_map(page, prev: str | None, timeout: float = TIMEOUT_S) -> str:
    """Block until the map shows a result whose incident count differs from ``prev``; returns the count text.

    Re-finds the iframe if Streamlit replaced it while waiting.
    """
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the map did not show a new result (previous count {prev!r})")
        try:
            handle = map_frame(page, left).wait_for_function(MAP_SHOWS, arg=prev, polling="raf", timeout=left * 1000)
            return str(handle.json_value())
        except Exception as exc:  # a detached frame (Streamlit replaced the iframe) is retried
            if "detached" not in str(exc).lower() and "destroyed" not in str(exc).lower():
                raise


def wait_for_sidebar(page, prev: str | None, timeout: float = TIMEOUT_S) -> str:
    """Block until the sidebar's "N of M incidents" line shows and differs from ``prev``; returns it.

    The line is written by the server's rerun before the map: its time splits a wait into the
    server's part (up to the sidebar) and the map's (sending and drawing it).
    """
    handle = page.wait_for_function(SIDEBAR_LINE, arg=prev, polling="raf", timeout=timeout * 1000)
    return str(handle.json_value())


def upload_csv(folder: Path, rows: int) -> Path:
    """A synthetic ACLED CSV of ``rows`` rows whose ids do not clash with the stored synthetic rows."""
    from benchmarks.synthetic import generate, write_acled_csv

    df = generate(rows, seed=4242)
    df["event_id_cnty"] = df["event_id_cnty"].str.replace("SYN", "SYNUP", regex=False)
    df["source_url"] = df["source_url"].str.replace("synthetic-incident/", "synthetic-upload/", regex=False)
    return write_acled_csv(df, folder / f"synthetic_upload_{rows}.csv")


def _type_actor(page, name: str):
    """Type ``name`` into the sidebar's actor multiselect until its option shows; returns the field
    (pressing Enter there chooses it: one rerun)."""
    field = page.get_by_role("combobox", name="Actor (primary or associated)", exact=True)
    field.click()
    field.fill(name)
    page.get_by_role("option", name=name, exact=True).wait_for(timeout=TIMEOUT_S * 1000)
    return field


#: Where the street-zoom timing looks: the Banjska monastery (bundled CM-XKX-0025/0026), zoom 17.
STREET_VIEW = (42.9714, 20.7825, 17)


def _street_zoom(page, out: dict) -> None:
    """Above the hexagon limit: time ``setView`` to a few streets → the incidents in view drawn one by one
    (the layer control names "Incidents in view (N)" and its markers are in the page). Skipped (nothing
    recorded) when the map draws incidents individually anyway."""
    import re

    from layers.incidents import CLUSTER_LIMIT

    frame = map_frame(page)
    found = re.search(r"Incidents \(([\d,]+)\)", frame.locator(".leaflet-control-layers-overlays").inner_text())
    if not found or int(found.group(1).replace(",", "")) <= CLUSTER_LIMIT:
        return
    lat, lon, zoom = STREET_VIEW
    t0 = time.perf_counter()
    frame.evaluate("([lat, lon, z]) => { Object.values(window).find(v => v instanceof L.Map).setView([lat, lon], z); }",
                   [lat, lon, zoom])  # returns nothing: the map object cannot be serialised back
    frame = map_frame(page)
    frame.wait_for_function(r"""() => { const o = document.querySelector('.leaflet-control-layers-overlays');
        return o && /Incidents in view \(/.test(o.innerText) && document.querySelector('path.cm-incident'); }""",
                            polling="raf", timeout=TIMEOUT_S * 1000)
    out["in_view_s"] = time.perf_counter() - t0
    text = frame.locator(".leaflet-control-layers-overlays").inner_text()
    out["in_view_label"] = next((t.strip() for t in text.splitlines() if "in view" in t), "")


#: The pans and zooms whose frames are timed: four animated pans of a quarter screen, one zoom in and out.
PAN_ZOOM_SCRIPT = r"""async () => {
    const map = Object.values(window).find(v => v instanceof L.Map);
    const stamps = [];
    let running = true;
    const tick = t => { stamps.push(t); if (running) requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    const wait = ms => new Promise(r => setTimeout(r, ms));
    for (const [x, y] of [[360, 0], [0, 225], [-360, 0], [0, -225]]) {
        map.panBy([x, y], {animate: true, duration: 0.5});
        await wait(700);
    }
    map.zoomIn(1); await wait(900);
    map.zoomOut(1); await wait(900);
    running = false;
    const gaps = [];
    for (let i = 1; i < stamps.length; i++) gaps.push(stamps[i] - stamps[i - 1]);
    return gaps;
}"""


def _frame_times(page) -> dict:
    """Pan and zoom the mounted map as a person would (animated, a quarter screen at a time) and time every
    frame the browser paints meanwhile (``requestAnimationFrame`` stamps): median, 95th percentile and
    longest frame in ms, and how many frames took longer than 50 ms (a visible stutter)."""
    gaps = sorted(map_frame(page).evaluate(PAN_ZOOM_SCRIPT))
    if not gaps:
        return {}
    return {"frames": len(gaps), "median_ms": gaps[len(gaps) // 2], "p95_ms": gaps[int(len(gaps) * 0.95)],
            "max_ms": gaps[-1], "over_50ms": sum(g > 50 for g in gaps)}


def measure(env: dict[str, str], data_dir: Path, actors: list[str], upload_rows: int = 1000) -> dict:
    """Run the server on the store named in ``env`` and time first map, filter changes and an upload.

    Args:
        env: environment for the server (``CONFLICTMAP_DB``, ``CONFLICTMAP_DATA_DIR``, ...).
        data_dir: folder for the synthetic upload file.
        actors: actor names chosen one after another, one filter change each.
        upload_rows: rows of the synthetic upload (0: no upload).
    Returns:
        Seconds per action and the counts the map showed.
    """
    from playwright.sync_api import sync_playwright

    out: dict = {"filter_s": [], "filter_counts": [], "filter_sidebar_s": []}
    csv = upload_csv(data_dir, upload_rows) if upload_rows else None
    port, proc = start_server({**os.environ, **env})
    url = f"http://127.0.0.1:{port}/"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            out["chromium"] = browser.version
            try:
                for label in ("first_map_cold_s", "first_map_warm_s"):
                    page = browser.new_page(viewport={"width": 1440, "height": 900})
                    t0 = time.perf_counter()
                    page.goto(url, wait_until="commit")
                    line = wait_for_sidebar(page, None)
                    out[label[:-2] + "_sidebar_s"] = time.perf_counter() - t0
                    shown = wait_for_map(page, None)
                    out[label] = time.perf_counter() - t0
                    out["first_count"] = shown
                    if label == "first_map_cold_s":
                        page.close()
                out["first_sidebar"] = line
                for name in actors:
                    field = _type_actor(page, name)
                    t0 = time.perf_counter()  # the action: Enter on the typed actor
                    field.press("Enter")
                    line = wait_for_sidebar(page, line)
                    out["filter_sidebar_s"].append(time.perf_counter() - t0)
                    shown = wait_for_map(page, shown)
                    out["filter_s"].append(time.perf_counter() - t0)
                    out["filter_counts"].append(shown)
                out["filter_sidebar"] = line
                # Street zoom on a page of its own, without the actor filters (which bring the
                # selection under the hexagon limit, where every incident is drawn anyway).
                zoom_page = browser.new_page(viewport={"width": 1440, "height": 900})
                zoom_page.goto(url, wait_until="commit")
                wait_for_map(zoom_page, None)
                out["pan_zoom_overview"] = _frame_times(zoom_page)
                _street_zoom(zoom_page, out)
                if "in_view_s" in out:  # the incidents in view, drawn one by one
                    out["pan_zoom_street"] = _frame_times(zoom_page)
                zoom_page.close()
                if csv is not None:
                    page.close()
                    page = browser.new_page(viewport={"width": 1440, "height": 900})
                    page.goto(url, wait_until="commit")
                    before = wait_for_map(page, None)
                    page.locator('[data-testid="stTopNavLink"]', has_text="Upload").first.click()
                    page.get_by_test_id("stFileUploader").filter(has_text="CSV file").locator(
                        'input[type="file"]').set_input_files(str(csv))
                    store = page.get_by_role("button", name="Store the valid rows")
                    store.wait_for(timeout=TIMEOUT_S * 1000)
                    page.wait_for_function("b => !b.disabled", arg=store.element_handle(), timeout=TIMEOUT_S * 1000)
                    t0 = time.perf_counter()
                    store.click()
                    page.get_by_text("The map now shows").wait_for(timeout=TIMEOUT_S * 1000)
                    out["upload_stored_s"] = time.perf_counter() - t0
                    t1 = time.perf_counter()
                    page.locator('[data-testid="stTopNavLink"]', has_text="Map").first.click()
                    out["upload_count"] = wait_for_map(page, before)
                    out["upload_map_s"] = time.perf_counter() - t1
                    out["upload_s"] = time.perf_counter() - t0
                    out["upload_before"] = before
                    out["upload_rows"] = upload_rows
            finally:
                browser.close()
    finally:
        stop_server(proc)
    return out
