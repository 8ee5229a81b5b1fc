"""The dashboard's answers after new data: extended by the new uploads when those are the only
changes, read again otherwise, and never remembered when another change landed during the read."""

from __future__ import annotations

import pytest

from dashboard import data
from geodata.model.filters import FilterSpec
from geodata.service.incidents import IncidentService
from geodata.settings import get_settings
from tests.test_service import acled_csv, ids_rows


@pytest.fixture
def svc(tmp_path, clean_env, monkeypatch):
    monkeypatch.setattr(data, "_latest", data._Latest())
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"),
                             "CONFLICTMAP_DB": f"sqlite:///{tmp_path / 'store.sqlite'}"})
    with IncidentService(settings) as s:
        yield s


def test_answers_follow_uploads_by_extension_and_anything_else_by_reading_again(svc, tmp_path):
    calls: list[str] = []
    spec = FilterSpec(event_types=("Protests",))

    def fresh():
        calls.append("fresh")
        return svc.select_for_map(spec, marker_rows=5, cluster_rows=1000).incidents

    def extend(old, uploads):
        calls.append(f"extend {list(uploads)}")
        return svc.extend_for_map(old, spec, uploads, marker_rows=5, cluster_rows=1000)

    question = ("selection", "k", spec)
    svc.ingest_file(acled_csv(tmp_path / "a.csv", ids_rows("A", 20)))
    first = data._answer(question, svc, fresh, extend)
    assert data._answer(question, svc, fresh, extend) is first and calls == ["fresh"]  # same version: kept

    up = svc.ingest_file(acled_csv(tmp_path / "b.csv", ids_rows("B", 7))).report.upload_id
    second = data._answer(question, svc, fresh, extend)
    assert calls == ["fresh", f"extend [{up}]"] and len(second) == len(first) + 7

    svc.undo(up)  # not an upload: read again
    third = data._answer(question, svc, fresh, extend)
    assert calls[-1] == "fresh" and len(third) == len(first)


def test_an_answer_read_while_the_data_changed_is_not_remembered(svc, tmp_path):
    spec = FilterSpec()
    question = ("selection", "k", spec)

    def fresh_with_a_concurrent_upload():
        out = svc.select_for_map(spec, marker_rows=5, cluster_rows=1000).incidents
        svc.ingest_file(acled_csv(tmp_path / "c.csv", ids_rows("C", 3)))  # lands between the two version reads
        return out

    data._answer(question, svc, fresh_with_a_concurrent_upload, lambda old, ups: None)
    assert data._latest.get(question) is None
