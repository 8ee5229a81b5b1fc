"""One data folder for every entry point (issue 21, item 1): the checkout's ``var/`` when run from a
checkout, else the user's data folder; never inside an installed copy of the package, and a store an
older version left there is moved out with a one-line notice."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from geodata.settings import adopt_legacy_store, default_data_dir, get_settings

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.unit


def _installed_copy(tmp_path: Path) -> Path:
    """A copy of the packages as ``pip install .`` lays them out: site-packages/{geodata,layers,dashboard}."""
    site = tmp_path / "site-packages"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for pkg in ("geodata", "layers", "dashboard"):
        shutil.copytree(REPO / pkg, site / pkg, ignore=ignore)
    return site


def _env(site: Path, xdg: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env.update(PYTHONPATH=str(site), XDG_DATA_HOME=str(xdg), PYTHONSAFEPATH="1")
    return env


def _data_dir_of(site: Path, cwd: Path, xdg: Path) -> Path:
    out = subprocess.run([sys.executable, "-c", "from geodata.settings import get_settings; print(get_settings().data_dir)"],
                         cwd=cwd, env=_env(site, xdg), capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def test_installed_code_outside_a_checkout_uses_the_user_data_folder(tmp_path):
    site = _installed_copy(tmp_path)
    elsewhere = tmp_path / "home" / "reports"
    elsewhere.mkdir(parents=True)
    data_dir = _data_dir_of(site, elsewhere, tmp_path / "xdg")
    assert data_dir == tmp_path / "xdg" / "conflictmap"
    assert site not in data_dir.parents


def test_installed_code_run_in_a_checkout_names_the_checkouts_store(tmp_path):
    # `conflictmap info` (installed code) and `python -m geodata info` (the checkout's code) in the same folder
    site = _installed_copy(tmp_path)
    installed = _data_dir_of(site, REPO / "tests", tmp_path / "xdg")
    assert installed == REPO / "var"
    assert default_data_dir(REPO, REPO) == installed


def test_environment_variable_wins(tmp_path):
    assert get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "d")}).data_dir == tmp_path / "d"


def _legacy_site(tmp_path: Path) -> Path:
    site = tmp_path / "site-packages"
    (site / "geodata").mkdir(parents=True)
    (site / "var" / "boundaries").mkdir(parents=True)
    with sqlite3.connect(site / "var" / "incidents.sqlite") as con:
        con.execute("create table t (x)")
        con.execute("insert into t values (42)")
    (site / "var" / "boundaries" / "XKX_ADM2.geojson").write_text("{}", encoding="utf-8")
    return site


def test_a_store_left_in_the_installed_package_is_moved_with_a_notice(tmp_path):
    site = _legacy_site(tmp_path)
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "data")})
    notice = adopt_legacy_store(settings, package_root=site)
    assert notice is not None and "moved" in notice and str(tmp_path / "data") in notice
    assert "\n" not in notice
    with sqlite3.connect(tmp_path / "data" / "incidents.sqlite") as con:
        assert con.execute("select x from t").fetchall() == [(42,)]
    assert (tmp_path / "data" / "boundaries" / "XKX_ADM2.geojson").is_file()
    assert not (site / "var").exists()
    assert adopt_legacy_store(settings, package_root=site) is None


def test_an_old_store_is_named_not_overwritten_when_the_data_folder_has_one(tmp_path):
    site = _legacy_site(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "incidents.sqlite").write_bytes(b"current")
    notice = adopt_legacy_store(get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "data")}), package_root=site)
    assert notice is not None and str(site / "var" / "incidents.sqlite") in notice
    assert (tmp_path / "data" / "incidents.sqlite").read_bytes() == b"current"
    assert (site / "var" / "incidents.sqlite").is_file()


def test_a_checkout_is_never_treated_as_a_legacy_install(tmp_path):
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "data")})
    assert adopt_legacy_store(settings, package_root=REPO) is None


def test_the_conflictmap_command_moves_the_old_store_and_says_so_in_one_line(tmp_path):
    site = _installed_copy(tmp_path)
    (site / "var").mkdir()
    sqlite3.connect(site / "var" / "incidents.sqlite").close()
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    out = subprocess.run([sys.executable, "-c", "import sys; from geodata.cli.console import main; sys.exit(main(['uploads']))"],
                         cwd=elsewhere, env=_env(site, tmp_path / "xdg"), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    notices = [ln for ln in out.stderr.splitlines() if ln.startswith("conflictmap: moved the store")]
    assert len(notices) == 1
    assert (tmp_path / "xdg" / "conflictmap" / "incidents.sqlite").is_file()
    assert not (site / "var").exists()
