"""The Upload tab renders, and importing geodata never pulls in Streamlit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from streamlit.testing.v1 import AppTest

REPO = Path(__file__).resolve().parent.parent


def test_geodata_does_not_import_streamlit():
    code = ("import sys, geodata.ingest, geodata.store, geodata.cli_ingest; "
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
    assert "Largest file: 200 MB" in at.caption[0].value


def test_a_saved_mapping_fills_the_editor():
    """Loading a saved mapping sets every selectbox: mapped fields to the file's columns, the rest empty,
    and a field whose column the file lacks stays unmapped."""
    from dashboard.upload_panel import mapping_widget_values
    from geodata.ingest import ColumnMapping
    from geodata.schema import INCIDENT_COLUMNS

    saved = ColumnMapping({"event_date": "Datum", "latitude": "Lat", "longitude": "Lon", "notes": "Missing"})
    values = mapping_widget_values(ColumnMapping.from_json(saved.to_json()), ["Datum", "Lat", "Lon", "Other"])
    assert len(values) == len(INCIDENT_COLUMNS)
    assert values["upload_map_event_date"] == "Datum" and values["upload_map_longitude"] == "Lon"
    assert values["upload_map_notes"] == "" and values["upload_map_actor1"] == ""
