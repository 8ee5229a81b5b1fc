"""Packaging: pyproject pins agree with requirements.txt, the `conflictmap` entry point dispatches to the
existing command lines, and `serve` starts Streamlit on 127.0.0.1 with static serving."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from geodata.cli import console

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def _requirements() -> set[str]:
    lines = (REPO / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}


def test_pyproject_pins_are_requirements_pins():
    project = PYPROJECT["project"]
    declared = set(project["dependencies"]) | {d for group in project["optional-dependencies"].values() for d in group}
    assert declared == _requirements()
    assert all(re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[0-9][0-9A-Za-z.]*", d) for d in declared)


def test_entry_point_and_markers():
    assert PYPROJECT["project"]["scripts"] == {"conflictmap": "geodata.cli.console:main"}
    markers = {m.split(":")[0] for m in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]}
    assert markers == {"unit", "apptest", "browser", "postgis", "slow"}


def test_every_documented_subcommand_is_offered():
    text = console.usage()
    for name in ("serve", "ingest", "uploads", "undo", "info", "boundaries", "export", "export-html", "export-png"):
        assert re.search(rf"^  {re.escape(name)} ", text, re.M), name


def test_dispatch_reaches_the_geodata_command_line(tmp_path, clean_env, capsys):
    assert console.main(["uploads", "--db", f"sqlite:///{tmp_path / 'none.sqlite'}"]) == 0
    assert capsys.readouterr().out.strip() == "no uploads yet"


def test_dispatch_reaches_the_dashboard_command_line(tmp_path, clean_env, capsys):
    assert console.main(["export-png", "--out", str(tmp_path)]) == 2
    assert "it is a directory" in capsys.readouterr().err


def test_unknown_command_and_no_command_exit_2(capsys):
    assert console.main(["bogus\x1b[31m"]) == 2
    err = capsys.readouterr().err
    assert "unknown command" in err and "\x1b" not in err
    assert console.main([]) == 2


def test_serve_command_listens_on_loopback_unless_told():
    cmd = console.serve_command([], 200)
    assert cmd[1:4] == ["-m", "streamlit", "run"] and Path(cmd[4]) == REPO / "dashboard" / "app.py"
    assert cmd[cmd.index("--server.address") + 1] == "127.0.0.1"
    assert cmd[cmd.index("--server.enableStaticServing") + 1] == "true"
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == "201"
    wide = console.serve_command(["--server.address", "0.0.0.0"], 200)
    assert wide.count("--server.address") == 1 and wide[-1] == "0.0.0.0"


@pytest.mark.parametrize("name", ["geodata", "dashboard", "layers"])
def test_packages_are_found_by_setuptools(name):
    from setuptools import find_packages

    found = find_packages(str(REPO), include=PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"])
    assert name in found and "tests" not in found
