"""Official boundaries: pinned download from a loopback server, import, and the no-boundaries path."""

import functools
import hashlib
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from geodata.geo.boundaries import (
    BoundaryError, download_boundaries, download_country_boundary, find_boundaries, load_country_boundary,
    load_municipalities,
)
from geodata.settings import get_settings

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def loopback_server(adm2_path):
    """Serve ../shared/geodata over HTTP on 127.0.0.1 (no outside network)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(adm2_path.parent))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{adm2_path.name}"
    server.shutdown()


def settings_for(tmp_path, url, sha=None):
    env = {"CONFLICTMAP_DATA_DIR": str(tmp_path), "CONFLICTMAP_BOUNDARIES_URL": url}
    if sha:
        env["CONFLICTMAP_BOUNDARIES_SHA256"] = sha
    return get_settings(env)


def test_download_checks_pinned_sha_and_caches(tmp_path, loopback_server, adm2_path):
    settings = settings_for(tmp_path, loopback_server)  # default = the pinned release hash
    path = download_boundaries(settings)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == settings.boundaries_sha256
    layer, source = load_municipalities(settings)
    assert source.origin == "cache" and len(layer) == 38
    assert {"North Mitrovica", "Zveçan", "Zubin Potok", "Leposaviq"}.issubset(set(layer["municipality"]))


def test_download_with_wrong_hash_installs_nothing(tmp_path, loopback_server):
    settings = settings_for(tmp_path, loopback_server, sha="0" * 64)
    with pytest.raises(BoundaryError, match="SHA-256"):
        download_boundaries(settings)
    assert find_boundaries(settings) is None
    assert not any(p.suffix == ".part" for p in tmp_path.rglob("*"))


def test_unreachable_server_gives_clear_error(tmp_path):
    settings = settings_for(tmp_path, "http://127.0.0.1:9/nothing.geojson")
    with pytest.raises(BoundaryError, match="could not download"):
        download_boundaries(settings, timeout=5)


def test_named_file_wins_and_missing_named_file_is_an_error(tmp_path, adm2_path):
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path), "CONFLICTMAP_BOUNDARIES": str(adm2_path)})
    assert find_boundaries(settings).origin == "settings"
    bad = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path), "CONFLICTMAP_BOUNDARIES": str(tmp_path / "no.geojson")})
    with pytest.raises(BoundaryError, match="does not exist"):
        find_boundaries(bad)


def run_cli(args, tmp_path, **env):
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    full_env.update({"CONFLICTMAP_DATA_DIR": str(tmp_path)}, **env)
    return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=120)


def test_info_without_boundaries_says_how_to_get_them(tmp_path):
    proc = run_cli(["info"], tmp_path)
    assert proc.returncode == 0, proc.stderr
    layers = {l["name"]: l for l in json.loads(proc.stdout)["layers"]}
    assert layers["incidents"]["features"] >= 25 and layers["sites"]["features"] >= 10
    assert layers["routes"]["features"] >= 3
    assert layers["municipalities"]["present"] is False
    assert "python -m geodata boundaries" in layers["municipalities"]["how_to_get"]
    assert "python -m geodata boundaries" in proc.stderr


def test_cli_import_then_info_lists_four_layers(tmp_path, adm2_path):
    proc = run_cli(["boundaries", "--from", str(adm2_path)], tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(run_cli(["info"], tmp_path).stdout)
    counts = {l["name"]: l["features"] for l in info["layers"]}
    assert counts["municipalities"] == 38 and all(counts.values())
    muni = next(l for l in info["layers"] if l["name"] == "municipalities")
    assert muni["boundaries_from"] == "cache" and "OpenStreetMap" in muni["attribution"]


def test_cli_download_from_loopback(tmp_path, loopback_server):
    adm0_url = loopback_server.rsplit("/", 1)[0] + "/geoBoundaries-XKX-ADM0_simplified.geojson"
    proc = run_cli(["boundaries"], tmp_path, CONFLICTMAP_BOUNDARIES_URL=loopback_server,
                   CONFLICTMAP_COUNTRY_BOUNDARY_URL=adm0_url)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "boundaries" / "XKX_ADM2.geojson").is_file()
    # The Kosovo outline comes with the same command, checked against its pinned hash.
    outline, source = load_country_boundary(get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path)}))
    assert source.origin == "cache" and outline["name"].tolist() == ["Kosovo"]
    assert outline.geometry.iloc[0].bounds[0] == pytest.approx(20.0143, abs=1e-3)


def test_country_boundary_with_wrong_hash_installs_nothing(tmp_path, loopback_server):
    adm0_url = loopback_server.rsplit("/", 1)[0] + "/geoBoundaries-XKX-ADM0_simplified.geojson"
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path), "CONFLICTMAP_COUNTRY_BOUNDARY_URL": adm0_url,
                             "CONFLICTMAP_COUNTRY_BOUNDARY_SHA256": "0" * 64})
    with pytest.raises(BoundaryError, match="SHA-256"):
        download_country_boundary(settings)
    assert load_country_boundary(settings) == (None, None)


def test_cli_export_incidents_geojson_has_enrichment(tmp_path, adm2_path):
    out = tmp_path / "inc.geojson"
    proc = run_cli(["export", "--layer", "incidents", "--format", "geojson", "--out", str(out)], tmp_path,
                   CONFLICTMAP_BOUNDARIES=str(adm2_path))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    props = data["features"][0]["properties"]
    assert len(data["features"]) >= 25
    assert {"municipality", "dist_route_m", "dist_site_m", "source_url"}.issubset(props)


def test_cli_export_municipalities_without_boundaries_fails_clearly(tmp_path):
    proc = run_cli(["export", "--layer", "municipalities", "--out", str(tmp_path / "m.geojson")], tmp_path)
    assert proc.returncode == 2 and "python -m geodata boundaries" in proc.stderr
