"""Output files: regular files only, atomic, parent folders created, the user's umask, links written through;
and every export command refuses a device, FIFO or folder with one line and exit 2."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from geodata._errors import OutputError
from geodata.export.files import write_bytes_atomic
from geodata.export.textsafe import printable

REPO = Path(__file__).resolve().parent.parent


def test_writes_regular_file_with_umask_and_creates_folders(tmp_path):
    old = os.umask(0o027)
    try:
        out = write_bytes_atomic(tmp_path / "a" / "b" / "x.csv", b"data")
    finally:
        os.umask(old)
    assert out.read_bytes() == b"data"
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert [p.name for p in out.parent.iterdir()] == ["x.csv"]  # no temporary file left


def test_replacing_keeps_the_old_files_mode(tmp_path):
    target = tmp_path / "x.csv"
    target.write_bytes(b"old")
    target.chmod(0o604)
    write_bytes_atomic(target, b"new")
    assert target.read_bytes() == b"new" and stat.S_IMODE(target.stat().st_mode) == 0o604


def test_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.csv"
    real.write_bytes(b"old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    write_bytes_atomic(link, b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"


@pytest.mark.parametrize("kind", ["dir", "fifo", "device", "link-to-device"])
def test_non_regular_targets_are_refused_untouched(tmp_path, kind):
    target = {"dir": tmp_path, "device": Path("/dev/null")}.get(kind, tmp_path / "t")
    if kind == "fifo":
        os.mkfifo(target)
    if kind == "link-to-device":
        target.symlink_to("/dev/null")
    before = os.lstat(target)
    with pytest.raises(OutputError, match="directory|FIFO|device"):
        write_bytes_atomic(target, b"x")
    after = os.lstat(target)
    assert (before.st_mode, before.st_ino) == (after.st_mode, after.st_ino)


def _run(module: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CONFLICTMAP_DATA_DIR=str(tmp_path / "var"), PYTHONPATH=str(REPO))
    for name in [n for n in env if n.startswith("CONFLICTMAP_") and n != "CONFLICTMAP_DATA_DIR"]:
        env.pop(name)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.mark.parametrize("command", [
    ("geodata", "export", "--format", "csv"),
    ("geodata", "export", "--format", "gpkg"),
    ("dashboard", "export-png"),
])
def test_export_commands_refuse_a_device_with_one_line(tmp_path, command):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    module, *args = command
    p = _run(module, tmp_path, *args, "--out", str(fifo))
    assert p.returncode == 2
    errors = [line for line in p.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: cannot write {fifo}: it is a FIFO (named pipe); give a file name"]
    assert "Traceback" not in p.stderr and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_export_html_creates_missing_folder(tmp_path):
    out = tmp_path / "out" / "map.html"
    p = _run("dashboard", tmp_path, "export-html", "--out", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes().startswith(b"<!DOCTYPE html>") or b"<html" in out.read_bytes()[:500]


def test_report_to_a_folder_fails_before_storing(tmp_path):
    corpus = REPO / "tests" / "data" / "hostile" / "huge_numbers.csv"
    p = _run("geodata", tmp_path, "ingest", str(corpus), "--report", str(tmp_path))
    assert p.returncode == 2 and "it is a directory" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert "Traceback" not in p.stderr
    assert _run("geodata", tmp_path, "uploads").stdout.strip() == "no uploads yet"


def test_printable_escapes_controls_and_keeps_letters():
    assert printable("Zvečan Ђ ë") == "Zvečan Ђ ë"
    assert printable("\x1b]0;PWNED\x07\x1b[31m\u202ex\n\t") == "\\x1b]0;PWNED\\x07\\x1b[31m\\u202ex\\x0a\\x09"
    assert printable(Path("a\x9bb")) == "a\\x9bb"
