"""First map after a server (re)start on an existing store, in Chromium: cold (the first visitor) and
warm (two more visitors), each with when the sidebar count showed.

    python benchmarks/restart.py DATA_DIR [--runs N]

Each run starts a new server on ``DATA_DIR`` (its ``incidents.sqlite``): the first run of a store
builds the columnar copy and writes its snapshot (``DATA_DIR/columnar``), later runs start from it.
Prints one line per visit. Not part of ``benchmarks/run.py``; BENCHMARKS.md quotes its output.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.browser import CHROMIUM, CHROMIUM_ARGS, start_server, wait_for_map, wait_for_sidebar  # noqa: E402


def main() -> int:
    """Start the server ``--runs`` times and time three visits each."""
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data_dir", type=Path)
    p.add_argument("--runs", type=int, default=2)
    args = p.parse_args()
    for run in range(1, args.runs + 1):
        port, proc = start_server({**os.environ, "CONFLICTMAP_DATA_DIR": str(args.data_dir)})
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                for visit in ("cold", "warm", "warm"):
                    page = browser.new_page(viewport={"width": 1440, "height": 900})
                    t0 = time.perf_counter()
                    page.goto(f"http://127.0.0.1:{port}/", wait_until="commit")
                    wait_for_sidebar(page, None)
                    sidebar = time.perf_counter() - t0
                    wait_for_map(page, None)
                    print(f"server start {run}: {visit} first map {time.perf_counter() - t0:.2f} s "
                          f"(sidebar count at {sidebar:.2f} s)", flush=True)
                    page.close()
                browser.close()
        finally:
            proc.terminate()
            proc.wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
