"""``python -m geodata ingest / uploads / undo`` as a user runs them: exact last line and exit codes."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, CONFLICTMAP_DATA_DIR=str(tmp_path), PYTHONPATH=str(REPO))
    env.pop("CONFLICTMAP_DB", None)
    return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_ingest_reingest_uploads_undo(tmp_path, corpus):
    p = run(tmp_path, "ingest", str(corpus / "acled_bad_rows.csv"), "--report", str(tmp_path / "rej.csv"))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1] == "accepted=2 rejected=8 duplicates=0"
    first = p.stdout.splitlines()[-2].split(":")[0].removeprefix("upload ")
    with open(tmp_path / "rej.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["line"], r["column"], r["severity"]) for r in rows][:2] == [("4", "actor1", "error"),
                                                                          ("5", "event_date", "error")]
    assert len([r for r in rows if r["severity"] == "error"]) == 8 and len(rows) == 9
    p = run(tmp_path, "ingest", str(corpus / "acled_bad_rows.csv"))
    assert p.stdout.splitlines()[-1] == "accepted=0 rejected=8 duplicates=2"
    # A re-ingest that adds nothing says so and leaves no live (empty) upload behind (issue 21 item 3).
    assert p.stdout.splitlines()[-2].startswith("nothing new:")
    second = p.stdout.splitlines()[-3].split(":")[0].removeprefix("upload ")
    assert (tmp_path / "incidents.sqlite").exists()
    p = run(tmp_path, "uploads")
    assert p.returncode == 0 and "acled_bad_rows.csv" in p.stdout
    listed = {line.split("\t")[0]: line for line in p.stdout.splitlines()}
    assert "complete" in listed[first] and "complete" not in listed.get(second, "undone")
    p = run(tmp_path, "uploads", "--all")  # the bundled incidents are an upload too
    assert "\tbundled\t" in p.stdout.splitlines()[-1]
    p = run(tmp_path, "undo", second)
    assert p.returncode == 1 and p.stderr == f"error: upload {second} was already undone\n"
    p = run(tmp_path, "undo", first)
    assert p.returncode == 0 and p.stdout == f"undone upload {first}: removed 2 incidents\n"
    p = run(tmp_path, "undo", first)
    assert p.returncode == 1 and p.stderr == f"error: upload {first} was already undone\n"
    bundled = run(tmp_path, "uploads", "--all").stdout.splitlines()[-1].split("\t")[0]
    p = run(tmp_path, "undo", bundled)
    assert p.returncode == 1 and "bundled" in p.stderr
    p = run(tmp_path, "ingest", str(corpus / "acled_bad_rows.csv"))
    assert p.stdout.splitlines()[-1] == "accepted=2 rejected=8 duplicates=0"


def test_ingest_with_mapping_and_format(tmp_path, corpus):
    p = run(tmp_path, "ingest", str(corpus / "custom_semicolon_cp1250.csv"), "--mapping",
            str(corpus / "custom_mapping.json"))
    assert p.returncode == 0 and p.stdout.splitlines()[-1] == "accepted=2 rejected=1 duplicates=0"
    p = run(tmp_path, "ingest", str(corpus / "ucdp_ged_noheader.csv"), "--format", "ucdp")
    assert p.returncode == 0 and p.stdout.splitlines()[-1] == "accepted=2 rejected=1 duplicates=0"


@pytest.mark.parametrize("name,reason", [
    ("unknown_layout.csv", "not recognised"), ("empty.csv", "empty"), ("binary.csv", "binary"),
    ("does_not_exist.csv", "cannot read"),
])
def test_unreadable_or_unknown_exit_2(tmp_path, corpus, name, reason):
    p = run(tmp_path, "ingest", str(corpus / name))
    assert p.returncode == 2
    assert reason in p.stderr
    assert "accepted=" not in p.stdout
    assert not (tmp_path / "incidents.sqlite").exists()  # nothing created for a file that was not read


def test_acled_forced_on_ucdp_file_exit_2(tmp_path, corpus):
    p = run(tmp_path, "ingest", str(corpus / "ucdp_ged_header.csv"), "--format", "acled")
    assert p.returncode == 2 and "lacks ACLED" in p.stderr


def test_uploads_on_empty_store(tmp_path):
    p = run(tmp_path, "uploads")
    assert p.returncode == 0 and p.stdout.strip() == "no uploads yet"


def test_report_csv_is_formula_safe(tmp_path):
    """A hostile cell in an ingested file cannot run as a formula when the report is opened in Excel."""
    import pandas as pd

    from geodata.ingest.pipeline import report_csv

    issues = pd.DataFrame([{"line": 2, "column": "event_type", "severity": "error", "reason": "=HYPERLINK(\"http://x\")"}])
    text = report_csv(issues).decode("utf-8-sig")
    assert "\"'=HYPERLINK" in text and "\n\"=" not in text and ",\"=" not in text


@pytest.mark.parametrize("arg", ["99999999999999999999", "-3", "0", "abc"])
def test_undo_with_an_impossible_id_is_one_clear_line(tmp_path, arg):
    p = run(tmp_path, "undo", arg)
    assert p.returncode == 2 and "Traceback" not in p.stderr and "OverflowError" not in p.stderr
    assert p.stderr.startswith("error: ") and len(p.stderr.strip().splitlines()) == 1
    assert "upload id" in p.stderr
