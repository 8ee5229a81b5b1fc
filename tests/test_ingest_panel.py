"""The Upload tab renders, and importing geodata never pulls in Streamlit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent


def test_geodata_does_not_import_streamlit():
    code = ("import sys, geodata.ingest, geodata.store, geodata.cli.ingest; "
            "sys.exit(1 if 'streamlit' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0


def _app(data_dir: str) -> None:
    from dashboard.upload_panel import render
    from geodata.settings import get_settings

    render(get_settings({"CONFLICTMAP_DATA_DIR": data_dir}))


def test_panel_renders_uploader(tmp_path):
    at = AppTest.from_function(_app, args=(str(tmp_path),))
    at.run(timeout=30)
    assert not at.exception
    assert "Upload incidents" in at.subheader[0].value
    # One stated limit: the picker's own ("Limit 200MB per file"), no second figure in a caption.
    assert at.get("file_uploader")[0].proto.max_upload_size_mb == 200
    assert not any(re.search(r"\d+ ?MB", c.value) for c in at.caption)


def test_a_saved_mapping_fills_the_editor():
    """Loading a saved mapping sets every selectbox: mapped fields to the file's columns, the rest empty,
    and a field whose column the file lacks stays unmapped."""
    from dashboard.upload_panel import mapping_widget_values
    from geodata.ingest import ColumnMapping
    from geodata.model.schema import INCIDENT_COLUMNS

    saved = ColumnMapping({"event_date": "Datum", "latitude": "Lat", "longitude": "Lon", "notes": "Missing"})
    values = mapping_widget_values(ColumnMapping.from_json(saved.to_json()), ["Datum", "Lat", "Lon", "Other"])
    assert len(values) == len(INCIDENT_COLUMNS)
    assert values["upload_map_event_date"] == "Datum" and values["upload_map_longitude"] == "Lon"
    assert values["upload_map_notes"] == "" and values["upload_map_actor1"] == ""


def _messy_csv(path) -> bytes:
    """Four synthetic ACLED rows, the second repeated (same id) and one with an impossible latitude."""
    import pandas as pd

    from tests.acled_gen import write_acled_csv

    df = pd.read_csv(write_acled_csv(path, 4, seed=21), dtype=str, keep_default_na=False)
    df["event_date"] = "2023-09-24"
    df["event_id_cnty"] = [f"H21-{i}" for i in range(4)]
    df.loc[3, "latitude"] = "123.0"
    df = pd.concat([df, df.iloc[[1]]], ignore_index=True)
    df.to_csv(path, index=False)
    return path.read_bytes()


def _upload(at, name, data):
    at.get("file_uploader")[0].set_value((name, data, "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]


def test_upload_words_preview_and_report_that_stays(tmp_path):
    import datetime as dt

    from geodata.service.incidents import IncidentService
    from geodata.settings import get_settings

    data = _messy_csv(tmp_path / "messy.csv")
    at = AppTest.from_function(_app, args=(str(tmp_path / "var"),))
    at.run(timeout=30)
    _upload(at, "messy.csv", data)
    texts = [t.value for t in at.text]
    assert any("4 valid (1 repeated inside the file, stored once), 1 rejected" in t for t in texts)
    preview = at.dataframe[0].value
    assert list(preview["event_id_cnty"]) == ["H21-0", "H21-1", "H21-2"]  # the repeated row once
    assert all(isinstance(d, dt.date) and not isinstance(d, dt.datetime) for d in preview["event_date"])
    next(b for b in at.button if b.key == "upload_store").click().run(timeout=30)
    assert not at.exception, [e.message for e in at.exception]
    success = at.success[0].value
    assert "3 new incidents stored" in success and "1 row repeated inside the file" in success
    assert "already stored" not in success and "1 row rejected" in success
    # The row-by-row report is still on the page after storing, and downloadable.
    report = at.dataframe[-1].value
    assert "latitude" in set(report["column"]) and (report["severity"] == "error").any()
    assert at.get("download_button")

    # The same file again adds nothing: said so, and no upload is left behind.
    _upload(at, "messy.csv", data)
    next(b for b in at.button if b.key == "upload_store").click().run(timeout=30)
    assert not at.exception, [e.message for e in at.exception]
    info = at.info[0].value
    assert info.startswith("Nothing new was stored") and "3 rows already stored before this file" in info
    assert "No upload was kept" in info
    assert not [b for b in at.button if b.key == "upload_undo"]
    with IncidentService(get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var")})) as svc:
        live = svc.uploads(include_bundled=False)
        assert list(live[live["status"] == "complete"]["file_name"]) == ["messy.csv"]


def test_report_puts_the_reason_next_to_the_line_and_as_wrapping_text(tmp_path):
    data = _messy_csv(tmp_path / "messy.csv")
    at = AppTest.from_function(_app, args=(str(tmp_path / "var"),))
    at.run(timeout=30)
    _upload(at, "messy.csv", data)
    report = at.dataframe[-1]
    assert list(report.proto.column_order)[:2] == ["line", "reason"]
    lines = [m.value.replace("\\", "") for m in at.expander[-1].markdown]
    assert lines == ["Line 5 (latitude): latitude 123.0 out of range -90..90"]
