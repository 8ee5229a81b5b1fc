"""Smoke test of the benchmark script (not timed): the smallest run completes and reports sanely, the
Chromium path (benchmarks/browser.py) included: first map, one filter change, one 1,000-row upload."""

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
        check=False, cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert text.startswith("# Benchmarks\n\nProse kept.") and text.rstrip().endswith("Tail prose.")
    assert "In Chromium" in text and "first map in Chromium" in text
    assert "\nold\n" not in text and "| 1,000 |" in text and "Machine:" in text and "Naive folium baseline" in text
    results = json.loads((tmp_path / "data" / "results.json").read_text())
    size = results["sizes"]["1000"]
    assert size["ingest"]["accepted"] == 1000 and size["ingest"]["rejected"] == 0
    assert size["dashboard"]["rows"] >= 1000 and size["dashboard"]["filter_to_map_s"][0] > 0
    assert size["dashboard"]["all_html"]["export_mb"] > size["dashboard"]["all_html"]["sent_mb"] > 0
    assert size["pushdown"]["selected"] == size["dashboard"]["selected"][: len(size["pushdown"]["selected"])]
    assert "WHERE" in size["pushdown"]["sql"]  # the filter change was answered by the store's SQL
    # the browser path ran once: the map showed the store, one actor's selection, then the upload
    browser = size["browser"]
    total = size["dashboard"]["rows"]
    assert browser["first_count"] == f"{total:,}" and browser["first_sidebar"] == f"{total:,} of {total:,} incidents"
    assert 0 < browser["first_map_warm_sidebar_s"] <= browser["first_map_warm_s"]
    assert len(browser["filter_s"]) == 1 and 0 < browser["filter_sidebar_s"][0] <= browser["filter_s"][0]
    shown = int(browser["filter_counts"][0].replace(",", ""))
    assert 0 < shown < total and browser["filter_sidebar"] == f"{shown:,} of {total:,} incidents"
    assert browser["upload_count"] == f"{total + 1000:,}" and browser["upload_s"] >= browser["upload_map_s"] > 0
    assert results["naive"]["rows"] == 200 and results["naive"]["naive_mb"] > 0
    # the synthetic data set is generated at run time into the data folder, clearly marked
    csv = next((tmp_path / "data").glob("synthetic_acled_1000_*.csv"))
    assert "SYNTHETIC benchmark row" in csv.read_text(encoding="utf-8-sig").splitlines()[1]


def test_popup_benchmark_checks_both_ways_agree_and_reports_a_ratio():
    proc = subprocess.run([sys.executable, "benchmarks/popups.py", "--rows", "60", "--repeats", "1"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["rows"] == 60 and out["pandas_rows_s"] > 0 and out["payload_s"] > 0
    assert abs(out["ratio"] - out["payload_s"] / out["pandas_rows_s"]) < 0.01  # of the rounded times
