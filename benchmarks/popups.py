"""Marker popups: the payload's popups and tooltips for a marker-sized selection (2,000 incidents, the
most a map draws one by one), against building them from pandas rows (``iterrows``) as the code did
before, in the same process.

    python benchmarks/popups.py [--rows 2000] [--repeats 5]   # prints one JSON object (seconds, ratio)

Not part of ``benchmarks/run.py``; BENCHMARKS.md quotes its output.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic import generate  # noqa: E402 (after the path)
from geodata.ingest.bundled import to_geodataframe  # noqa: E402
from layers.incidents import build_payload, popup_html, tooltip_text  # noqa: E402


def _baseline(incidents, lang: str) -> tuple[list[str], list[str]]:
    """The popups and tooltips built row by row from pandas rows (before: ``iterrows``)."""
    rows = [r for _, r in incidents.iterrows()]
    return [popup_html(r, lang) for r in rows], [tooltip_text(r, lang) for r in rows]


def main(argv: list[str] | None = None) -> int:
    """Time both ways, check they give the same text, print the medians and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=5)
    opts = parser.parse_args(argv)
    frame = generate(opts.rows, seed=5)
    incidents = frame if hasattr(frame, "geometry") else to_geodataframe(frame)
    before, now = [], []
    for _ in range(opts.repeats):
        t = time.perf_counter()
        popups, tips = _baseline(incidents, "en")
        before.append(time.perf_counter() - t)
        t = time.perf_counter()
        payload = build_payload(incidents, "markers", "en")
        now.append(time.perf_counter() - t)
        assert payload.data["popup"] == popups and payload.data["tip"] == tips
    b, n = statistics.median(before), statistics.median(now)
    print(json.dumps({"rows": opts.rows, "repeats": opts.repeats, "pandas_rows_s": round(b, 4),
                      "payload_s": round(n, 4), "ratio": round(n / b, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
