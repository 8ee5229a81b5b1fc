"""Exports and popups carry every source, the verification status and the sequence of each incident."""

from __future__ import annotations

import io
import json

import pandas as pd
import pyogrio
import pytest

from geodata.curation.joined import Curation, annotate
from geodata.service.curation import CurationService
from geodata.export.data import export_bytes, to_geopackage_bytes
from geodata.curation.sequences import load_bundled_sequences
from geodata.settings import get_settings
from geodata.curation.sources import read_sources_file
from layers.incidents import popup_html
from tests.test_curation_domain import FIX
from tests.test_export_html import bundled_selection


@pytest.fixture
def curated(curation_env):
    """A store where an analyst marked CM-XKX-0028 disputed and added a second source to CM-XKX-0024."""
    with CurationService(get_settings()) as svc:
        svc.tables.add_sources(read_sources_file(FIX / "incident_sources.csv").sources, origin="test")
        svc.tables.save_sequences(load_bundled_sequences(FIX / "sequences.csv"))
        svc.change_status("CM-XKX-0028", "disputed", "ana", "police said no arrests; weapon counts differ")
    return bundled_selection()


def test_geojson_carries_status_sources_and_sequence(curated):
    data = json.loads(export_bytes(curated, "incidents", "geojson"))
    props = {f["properties"]["event_id_cnty"]: f["properties"] for f in data["features"]}
    assert len(props) == len(curated.incidents)
    p24 = props["CM-XKX-0024"]
    assert [s["outlet"] for s in p24["sources"]] == ["KoSSev", "EFE"] and p24["source_count"] == 2
    assert (p24["sequence"], p24["sequence_step"]) == ("Banjska attack, 24 Sep 2023", 1)
    assert props["CM-XKX-0028"]["verification_status"] == "disputed"
    assert props["CM-XKX-0001"]["verification_status"] == "reported" and props["CM-XKX-0001"]["sequence_step"] == 0
    assert props["CM-XKX-0001"]["sources"][0]["url"].startswith("https://prishtinainsight.com/")


def test_geopackage_and_csv_carry_them(curated, tmp_path):
    path = tmp_path / "x.gpkg"
    path.write_bytes(to_geopackage_bytes(curated))
    inc = pyogrio.read_dataframe(path, layer="incidents").set_index("event_id_cnty")
    assert inc.loc["CM-XKX-0028", "verification_status"] == "disputed"
    assert len(json.loads(inc.loc["CM-XKX-0024", "sources"])) == 2
    assert int(inc.loc["CM-XKX-0027", "sequence_step"]) == 3 and inc.loc["CM-XKX-0027", "sequence"].startswith("Banjska")
    assert str(inc["sequence_step"].dtype).startswith("int")
    csv = pd.read_csv(io.BytesIO(export_bytes(curated, "incidents", "csv")), encoding="utf-8-sig").set_index("event_id_cnty")
    assert csv.loc["CM-XKX-0024", "sources"].count("<https://") == 2
    assert csv.loc["CM-XKX-0028", "verification_status"] == "disputed"


def test_popup_lists_every_source_escaped_and_marks_disputed_figures():
    inc = bundled_selection().incidents
    hostile = pd.DataFrame([
        {"event_id_cnty": "CM-XKX-0028", "url": "https://example.org/a?x=<b>", "outlet": "<img src=x onerror=alert(1)>",
         "published": None, "language": "sr", "archive_url": "javascript:alert(2)"},
        {"event_id_cnty": "CM-XKX-0028", "url": "https://menafn.com/1108215404/", "outlet": "MENAFN",
         "published": None, "language": "en", "archive_url": "https://web.archive.org/web/2024/https://menafn.com/"},
    ])
    cur = Curation(sources=hostile, statuses={"CM-XKX-0028": "disputed"}, reasons={"CM-XKX-0028": "counts <differ>"})
    ann = annotate(inc, cur)
    html = popup_html(ann[ann["event_id_cnty"] == "CM-XKX-0028"].iloc[0])
    assert "Sources (2):" in html and "<img" not in html and "&lt;img" in html
    assert 'href="javascript' not in html and "javascript:alert(2)" not in html.replace("&", "")
    assert 'href="https://web.archive.org/web/2024/https://menafn.com/"' in html
    assert "(disputed)" in html and "counts &lt;differ&gt;" in html and "cm-status-disputed" in html
    ann = annotate(inc, Curation())
    plain = ann[ann["event_id_cnty"] == "CM-XKX-0001"].iloc[0]
    single = popup_html(plain)
    assert "(disputed)" not in single and "<b>Source:</b> Prishtina Insight (BIRN) — <a href=\"https://prishtinainsight.com/" in single
