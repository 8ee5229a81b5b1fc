"""Chromium timings with only the bundled incidents (40) in a fresh data folder: first map cold and
warm, and three filter changes (one more actor each), as ``benchmarks/browser.py`` times them.

    python benchmarks/bundled.py        # prints one JSON object (seconds and the counts shown)

Not part of ``benchmarks/run.py`` (whose sizes are synthetic files); BENCHMARKS.md quotes its output.
"""
from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.browser import measure  # noqa: E402 (after the path)

ACTORS = ["Police Forces of Kosovo (2008-)", "Protesters (Kosovo)", "Unidentified Armed Group (Kosovo)"]


def main() -> int:
    """Run the measurement and print it."""
    data = Path(tempfile.mkdtemp(prefix="conflictmap-bundled-"))
    out = measure({"CONFLICTMAP_DATA_DIR": str(data)}, data, ACTORS, upload_rows=0)
    print(json.dumps({k: v for k, v in out.items() if k != "chromium"}, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
