"""Data exports: formula-safe UTF-8 CSV, GeoJSON, four-layer GeoPackage; shared filter options; PNG."""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pyogrio
import pytest

from geodata.export.data import export_bytes, neutralise_formulas, to_csv_bytes, to_geojson_bytes, write_geopackage, export_layers
from geodata.cli.filter_args import add_filter_arguments, spec_from_args
from geodata.model.filters import FilterSpec
from geodata.model.selection import Selection
from layers.static_png import render_png
from layers.style import EVENT_COLORS
from tests.hostile import hostile_selection
from tests.test_export_html import bundled_selection

REPO = Path(__file__).resolve().parents[1]


def test_csv_has_bom_keeps_letters_and_neutralises_formulas():
    sel = hostile_selection()
    inc = sel.incidents.copy()
    dangerous = ["=HYPERLINK(\"http://x\")", "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd", "Zveçan – Leposavić ë š ž đ"]
    inc = inc.head(len(dangerous)).copy()
    inc["notes"] = dangerous
    inc.loc[inc.index[0], "longitude"] = -20.5  # a negative number stays a number
    data = to_csv_bytes(inc)
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", keep_default_na=False)
    assert back["notes"].tolist()[:6] == ["'" + d for d in dangerous[:6]]
    assert back["notes"].iloc[6] == "Zveçan – Leposavić ë š ž đ"
    assert back["latitude"].dtype == float and back["longitude"].iloc[0] == -20.5
    assert back["event_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()


def test_neutralise_leaves_numbers_and_safe_text_alone():
    df = pd.DataFrame({"n": [-1, 2], "t": ["-x", "ok"], "m": [None, "=1"]})
    out = neutralise_formulas(df)
    assert out["n"].tolist() == [-1, 2] and out["t"].tolist() == ["'-x", "ok"]
    assert pd.isna(out["m"].iloc[0]) and out["m"].iloc[1] == "'=1"


def test_geojson_export_is_valid_with_iso_dates():
    sel = bundled_selection()
    data = json.loads(to_geojson_bytes(sel.incidents))
    assert len(data["features"]) == len(sel.incidents)
    props = data["features"][0]["properties"]
    assert dt.date.fromisoformat(props["event_date"]) and props["source_url"].startswith("http")


def test_geopackage_has_four_layers_with_counts(tmp_path, municipalities):
    sel = bundled_selection(FilterSpec(event_types=("Battles",)), municipalities)
    path = write_geopackage(tmp_path / "sel.gpkg", export_layers(sel))
    layers = dict(pyogrio.list_layers(path))
    assert set(layers) == {"incidents", "municipalities", "routes", "sites"}
    counts = {name: pyogrio.read_info(path, layer=name)["features"] for name in layers}
    assert counts == {"incidents": len(sel.incidents), "municipalities": 38, "routes": len(sel.routes),
                      "sites": len(sel.sites)}
    muni = pyogrio.read_dataframe(path, layer="municipalities")
    assert muni["incidents"].sum() == len(sel.incidents)
    inc = pyogrio.read_dataframe(path, layer="incidents")
    assert set(inc["event_type"]) == {"Battles"} and inc.crs.to_epsg() == 4326


def test_export_bytes_gpkg_without_boundaries_has_three_layers(tmp_path):
    data = export_bytes(bundled_selection(), "incidents", "gpkg")
    (tmp_path / "x.gpkg").write_bytes(data)
    assert sorted(n for n, _ in pyogrio.list_layers(tmp_path / "x.gpkg")) == ["incidents", "routes", "sites"]


def test_filter_options_are_shared_and_validated():
    p = add_filter_arguments(argparse.ArgumentParser())
    spec = spec_from_args(p.parse_args(["--start", "2023-01-01", "--actor", "A", "--actor", "B", "--event-type",
                                        "Battles", "--municipality", "Zvecan", "--municipality", "Mitrovica e Veriut"]))
    assert spec == FilterSpec(start=dt.date(2023, 1, 1), actors=("A", "B"), event_types=("Battles",),
                              municipalities=("Zveçan", "North Mitrovica"))
    for bad in (["--start", "2023-13-01"], ["--event-type", "Battle"], ["--municipality", "Atlantis"]):
        with pytest.raises(SystemExit):
            p.parse_args(bad)
    with pytest.raises(ValueError):
        spec_from_args(p.parse_args(["--start", "2024-01-01", "--end", "2023-01-01"]))


def run_geodata(args, tmp_path, **env):
    full_env = {"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin", **env}
    return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO, env=full_env, capture_output=True,
                          text=True, timeout=120)


def test_cli_geodata_export_csv_with_filters(tmp_path):
    out = tmp_path / "battles.csv"
    proc = run_geodata(["export", "--format", "csv", "--out", str(out), "--event-type", "Battles",
                        "--start", "2023-01-01"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    df = pd.read_csv(out, encoding="utf-8-sig")
    assert len(df) > 0 and set(df["event_type"]) == {"Battles"} and (df["event_date"] >= "2023-01-01").all()


def test_cli_geodata_export_gpkg(tmp_path, adm2_path):
    out = tmp_path / "all.gpkg"
    proc = run_geodata(["export", "--format", "gpkg", "--out", str(out)], tmp_path, CONFLICTMAP_BOUNDARIES=str(adm2_path))
    assert proc.returncode == 0, proc.stderr
    assert {n for n, _ in pyogrio.list_layers(out)} == {"incidents", "municipalities", "routes", "sites"}


def _has_colour(img: np.ndarray, hex_colour: str, tol: float = 0.03) -> bool:
    rgb = np.array([int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
    return bool((np.abs(img[..., :3] - rgb).max(axis=-1) < tol).any())


def test_png_shows_incidents_coloured_by_event_type():
    sel = bundled_selection(FilterSpec(event_types=("Battles",)))
    data = render_png(sel, dpi=80)
    assert data.startswith(b"\x89PNG")
    img = mpimg.imread(io.BytesIO(data), format="png")
    assert img.shape[1] == 12 * 80 and _has_colour(img, EVENT_COLORS["Battles"])
    empty = Selection(sel.incidents.iloc[0:0], FilterSpec(event_types=("Battles",)), None, sel.routes, sel.sites)
    img_empty = mpimg.imread(io.BytesIO(render_png(empty, dpi=80)), format="png")
    assert not _has_colour(img_empty, EVENT_COLORS["Battles"])


def test_cli_export_png(tmp_path):
    out = tmp_path / "map.png"
    proc = subprocess.run([sys.executable, "-m", "dashboard", "export-png", "--out", str(out), "--municipality", "Zveçan"],
                          cwd=REPO, env={"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes().startswith(b"\x89PNG")
