"""scripts/start.sh (the README's start command) serves on 127.0.0.1; --network is explicit and warns.

The script runs for real in a scratch copy of the repository layout whose ``scripts/setup.sh`` is a
no-op (setting up is tested by CI's clean-clone run, and must not reinstall the shared virtualenv).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def scratch(tmp_path, adm2_path):
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "start.sh", root / "scripts" / "start.sh")
    (root / "scripts" / "setup.sh").write_text("#!/usr/bin/env bash\nexit 0\n")
    (root / ".venv").symlink_to(sys.prefix)  # the virtualenv running the tests
    for name in ("dashboard", "geodata", "layers", ".streamlit"):
        (root / name).symlink_to(REPO / name)
    return root


def _start(root: Path, tmp_path: Path, adm2_path: Path, *args: str, **env: str) -> tuple[str, str]:
    """Run start.sh until Streamlit reports its URL; returns (stdout+stderr text, address it bound)."""
    port = _free_port()
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    full_env.update({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_BOUNDARIES": str(adm2_path),
                     "PYTHONPATH": str(root), **env})
    proc = subprocess.Popen(["bash", "scripts/start.sh", *args, "--server.port", str(port),
                             "--server.headless", "true"], cwd=root, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    out = []
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line)
            if f":{port}" in line:
                break
        time.sleep(0.5)
        bound = _listening(port)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    return "".join(out), bound[0] if bound else ""


def _listening(port: int) -> list[str]:
    """Local addresses listening on ``port`` (from ``ss``)."""
    done = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True)
    return [line.split()[3].rsplit(":", 1)[0] for line in done.stdout.splitlines() if line.strip()]


@pytest.fixture
def need_ss():
    if shutil.which("ss") is None:
        pytest.skip("ss (iproute2) is not installed")


def test_default_serves_on_loopback_only(scratch, tmp_path, adm2_path, need_ss):
    out, bound = _start(scratch, tmp_path, adm2_path)
    assert bound == "127.0.0.1", (bound, out)
    assert "WARNING" not in out


def test_network_is_explicit_and_warns(scratch, tmp_path, adm2_path, need_ss):
    out, bound = _start(scratch, tmp_path, adm2_path, "--network")
    assert bound in ("0.0.0.0", "*", "[::]"), (bound, out)
    assert "anyone who can reach this machine" in out and "upload incidents and undo uploads" in out


def test_serve_address_setting(scratch, tmp_path, adm2_path, need_ss):
    out, bound = _start(scratch, tmp_path, adm2_path, CONFLICTMAP_SERVE_ADDRESS="0.0.0.0")
    assert bound in ("0.0.0.0", "*"), (bound, out)
    assert "WARNING: serving on 0.0.0.0" in out
