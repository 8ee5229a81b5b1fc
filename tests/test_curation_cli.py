"""``python -m geodata verify | sequences | duplicates``: one clear line per outcome, recorded, undoable."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from geodata.cli import main

REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_verify_change_show_undo(curation_env, capsys):
    code, out, _err = run(capsys, "verify", "CM-XKX-0012", "--status", "disputed", "--who", "ana",
                         "--note", "shots near a KFOR patrol, no return fire")
    assert code == 0 and out.strip() == "CM-XKX-0012: reported -> disputed (change 1 by ana)"
    code, out, _ = run(capsys, "verify", "CM-XKX-0012")
    assert out.splitlines()[0] == "CM-XKX-0012: disputed"
    assert "ana: reported -> disputed: shots near a KFOR patrol, no return fire" in out
    code, out, _ = run(capsys, "verify", "CM-XKX-0012", "--undo", "--who", "ben", "--note", "premature")
    assert code == 0 and "disputed -> reported (undid change 1" in out
    code, out, _ = run(capsys, "verify", "CM-XKX-0012")
    assert out.splitlines()[0] == "CM-XKX-0012: reported" and len(out.splitlines()) == 3


def test_verify_refusals_are_one_line(curation_env, capsys):
    for argv, needle in (
        (("verify", "CM-XKX-0012", "--status", "verified"), "reason (note) is required"),
        (("verify", "CM-XKX-0001", "--status", "corroborated", "--note", "x"), "two or more independent"),
        (("verify", "NOPE-1", "--status", "verified", "--note", "x"), "no incident 'NOPE-1'"),
        (("verify", "CM-XKX-0001", "--undo"), "no status change to undo"),
        (("verify", "CM-XKX-0001", "--status", "verified", "--note", "a\x1b[31mred"), "control characters"),
    ):
        code, out, err = run(capsys, *argv)
        assert code == 2 and out == "" and err.count("\n") == 1 and needle in err, (argv, err)
        assert "\x1b" not in err


def test_duplicates_decide_and_undo(curation_env, capsys):
    code, out, _ = run(capsys, "duplicates")
    assert code == 0 and out.startswith("no possible duplicates across datasets")
    code, out, _ = run(capsys, "duplicates", "--all", "--limit", "2")
    assert code == 0 and "same date" in out and out.strip().endswith("dismiss with --dismiss A B")
    code, out, _ = run(capsys, "duplicates", "--dismiss", "CM-XKX-0024", "CM-XKX-0025", "--note", "ambush and shootout")
    assert out.strip() == "decision 1: CM-XKX-0024 and CM-XKX-0025 are different incidents (undo with --undo 1)"
    _, out, _ = run(capsys, "duplicates", "--all", "--limit", "100")
    assert "CM-XKX-0024  CM-XKX-0025" not in out  # decided pairs are no longer suggested
    code, out, _ = run(capsys, "duplicates", "--confirm", "CM-XKX-0029", "CM-XKX-0029")
    assert code == 2
    code, out, _ = run(capsys, "duplicates", "--undo", "1")
    assert code == 0 and "undid decision 1" in out
    _, out, _ = run(capsys, "duplicates", "--history")
    assert [line.split()[3] for line in out.splitlines()] == ["dismiss", "undo"]
    code, _, err = run(capsys, "duplicates", "--undo", "1")
    assert code == 2 and "not in force" in err


def test_sequences_command_in_a_fresh_process(curation_env):
    # The real entry point: lists the bundled sequences (or says there are none yet).
    res = subprocess.run([sys.executable, "-m", "geodata", "sequences"], cwd=REPO, capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0 and "Traceback" not in res.stderr
    assert res.stdout.strip() == "no sequences" or "steps:" in res.stdout
    res = subprocess.run([sys.executable, "-m", "geodata", "sequences", "nope"], cwd=REPO, capture_output=True,
                         text=True, timeout=120, check=False)
    assert res.returncode == 2 and res.stderr.startswith("error: no sequence 'nope'")


def test_export_filtered_by_status_carries_the_curation(curation_env, capsys, tmp_path):
    import json

    run(capsys, "verify", "CM-XKX-0012", "--status", "disputed", "--who", "ana", "--note", "no return fire")
    run(capsys, "verify", "CM-XKX-0028", "--status", "disputed", "--who", "ana", "--note", "no arrests said police")
    out = tmp_path / "disputed.geojson"
    code, _printed, err = run(capsys, "export", "--format", "geojson", "--status", "disputed", "--out", str(out))
    assert code == 0, err
    feats = json.loads(out.read_text(encoding="utf-8"))["features"]
    assert sorted(f["properties"]["event_id_cnty"] for f in feats) == ["CM-XKX-0012", "CM-XKX-0028"]
    assert all(f["properties"]["verification_status"] == "disputed" and f["properties"]["source_count"] >= 1
               and isinstance(f["properties"]["sequence_step"], int) for f in feats)
    with pytest.raises(SystemExit) as exit_:  # argparse: usage and one error line, exit 2
        main(["export", "--format", "geojson", "--status", "doubtful", "--out", str(out)])
    assert exit_.value.code == 2 and "invalid choice: 'doubtful'" in capsys.readouterr().err
