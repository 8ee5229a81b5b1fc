"""Smoke test of the benchmark script (not timed): the smallest run completes and reports sanely."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_quick_benchmark_run_writes_a_well_formed_report(tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    out.write_text("# Benchmarks\n\nProse kept.\n\n<!-- BEGIN GENERATED: benchmarks/run.py -->\nold\n<!-- END GENERATED -->\n\nTail prose.\n")
    proc = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "run.py"), "--quick", "--sizes", "1000", "--naive-rows", "200",
         "--no-apptest", "--out", str(out), "--data-dir", str(tmp_path / "data")],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nProse kept.") and text.rstrip().endswith("Tail prose.")
    assert "\nold\n" not in text and "| 1,000 |" in text and "Machine:" in text and "Naive folium baseline" in text
    results = json.loads((tmp_path / "data" / "results.json").read_text())
    size = results["sizes"]["1000"]
    assert size["ingest"]["accepted"] == 1000 and size["ingest"]["rejected"] == 0
    assert size["dashboard"]["rows"] >= 1000 and size["dashboard"]["filter_to_map_s"][0] > 0
    assert size["dashboard"]["all_html"]["export_mb"] > size["dashboard"]["all_html"]["sent_mb"] > 0
    assert size["pushdown"]["selected"] == size["dashboard"]["selected"][: len(size["pushdown"]["selected"])]
    assert "WHERE" in size["pushdown"]["sql"]  # the filter change was answered by the store's SQL
    assert results["naive"]["rows"] == 200 and results["naive"]["naive_mb"] > 0
    # the synthetic data set is generated at run time into the data folder, clearly marked
    csv = next((tmp_path / "data").glob("synthetic_acled_1000_*.csv"))
    assert "SYNTHETIC benchmark row" in csv.read_text(encoding="utf-8-sig").splitlines()[1]
