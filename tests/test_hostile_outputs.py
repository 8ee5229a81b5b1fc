"""Hostile requests outside ingest and sync (issue 18, rows 5 and 10): an empty CSV export is a file
with its header, and a bidirectional override in an actor never reaches the terminal raw."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env["CONFLICTMAP_DATA_DIR"] = str(tmp_path / "var")
    return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("filters", [["--start", "2090-01-01"], ["--text", "%"], ["--near-route", "NOPE"]])
def test_empty_csv_export_is_a_header_only_file(tmp_path, filters):
    out = tmp_path / "empty.csv"
    p = _cli(tmp_path, "export", "--format", "csv", "--out", str(out), *filters)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:2] == ["event_id_cnty", "event_date"] and rows[1:] == []
    # An unknown place is not silent: the empty file is explained (and the known names offered).
    unknown = "no route named 'NOPE'" in p.stderr and "Leposavić" in p.stderr
    assert unknown == (filters[0] == "--near-route"), p.stderr


def test_bidi_override_in_an_actor_is_escaped_by_duplicates(tmp_path):
    from tests.fake_apis import acled_event

    import pandas as pd

    a, b = acled_event(1), acled_event(2)
    for r in (a, b):
        r["actor1"] = "Evil\u202eactor\x1b[31m"
    path = tmp_path / "pair.csv"
    pd.DataFrame([a, b]).to_csv(path, index=False)
    assert _cli(tmp_path, "ingest", str(path)).returncode == 0
    p = _cli(tmp_path, "duplicates", "--all")
    assert p.returncode == 0, p.stderr
    assert "\u202e" not in p.stdout and "\x1b" not in p.stdout
    assert "SYN1" in p.stdout and "\\u202e" in p.stdout


@pytest.mark.parametrize(("setting", "name", "layer"), [
    ("CONFLICTMAP_ROUTES", "routes_nan.geojson", "Patrol routes"),
    ("CONFLICTMAP_BOUNDARIES", "boundaries_nan.geojson", "Municipal boundaries")])
def test_export_html_leaves_a_nan_layer_out_with_a_notice(tmp_path, setting, name, layer):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env.update({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"),
                setting: str(REPO / "tests" / "data" / "hostile" / name)})
    out = tmp_path / "map.html"
    p = subprocess.run([sys.executable, "-m", "dashboard", "export-html", "--out", str(out)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=180)
    assert p.returncode == 0 and "Traceback" not in p.stderr, p.stderr
    assert f"{layer} left out" in p.stderr and "not a number" in p.stderr
    assert out.stat().st_size > 0
