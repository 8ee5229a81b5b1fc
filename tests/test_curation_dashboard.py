"""AppTests of the sequence page (dashboard/sequences.py) and the incident curation section (dashboard/curation.py)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from geodata.service.curation import CurationService
from geodata.curation.sequences import load_bundled_sequences
from geodata.settings import get_settings
from geodata.curation.sources import read_sources_file
from tests.test_curation_domain import FIX


def sequence_app():
    from dashboard import sequences
    from geodata.service.curation import CurationService
    from geodata.ingest.bundled import load_bundled_incidents
    from geodata.settings import get_settings

    with CurationService(get_settings()) as svc:
        sequences.render(svc, load_bundled_incidents())


def curation_app():
    import streamlit as st

    from dashboard import curation
    from geodata.service.curation import CurationService
    from geodata.ingest.bundled import load_bundled_incidents
    from geodata.settings import get_settings

    with CurationService(get_settings()) as svc:
        curation.render(svc, st.query_params.get("id", "CM-XKX-0028"), load_bundled_incidents())


@pytest.fixture
def seeded(curation_env):
    with CurationService(get_settings()) as svc:
        svc.tables.add_sources(read_sources_file(FIX / "incident_sources.csv").sources, origin="test")
        svc.tables.save_sequences(load_bundled_sequences(FIX / "sequences.csv"))
    return curation_env


def texts(at) -> list[str]:
    return [t.value for t in at.text]


def test_sequence_page_steps_and_keeps_the_step_in_the_url(seeded):
    at = AppTest.from_function(sequence_app, default_timeout=60)
    at.query_params["seq"] = "banjska-2023"
    at.query_params["step"] = "2"
    at.run()
    assert not at.exception
    assert at.selectbox(key="seq_choice").value == "banjska-2023"
    assert "Step 2 of 4" in texts(at) and "Shootout at Banjska Monastery" in texts(at)
    assert any(t.startswith("… followed by · 2023-09-24") for t in texts(at))
    sources = at.dataframe[0].value
    # EFE from the fixture (plus whatever further reports the bundled sources list for this incident).
    efe = sources[sources["outlet"] == "EFE"]
    assert len(efe) == 1 and efe["report"].iloc[0].startswith("https://efe.com/")
    assert sources["report"].dropna().str.startswith(("https://", "http://")).all()
    script = at.get("component_instance")[0].proto.json_args
    assert "cm-seq-current" in script and "cm-seq-path" in script
    assert "d.open = false; });" in script  # the step map's legend starts collapsed
    at.button(key="seq_next").click().run()
    assert "Step 3 of 4" in texts(at) and at.query_params["step"] == "3"
    at.button(key="seq_next").click().run()
    assert "Step 4 of 4" in texts(at) and at.button(key="seq_next").disabled
    at.selectbox(key="seq_choice").set_value("canal-2024").run()
    assert "Step 1 of 2" in texts(at) and at.query_params["seq"] == "canal-2024"


def test_sequence_page_unknown_link_and_no_sequences(seeded):
    at = AppTest.from_function(sequence_app, default_timeout=60)
    at.query_params["seq"] = "[x](http://evil)"
    at.query_params["step"] = "abc"
    at.run()
    assert not at.exception and "does not exist" in at.warning[0].value
    assert "Step 1 of 4" in texts(at)


def test_status_change_form_records_who_and_why_then_undo(seeded):
    at = AppTest.from_function(curation_app, default_timeout=60)
    at.run()
    assert not at.exception
    assert "Verification status: Reported (one source, not yet checked)" in texts(at)
    # Missing reason: refused, one message, nothing recorded.
    at.selectbox(key="cur_new").set_value("disputed")
    at.text_input(key="cur_who").input("ana")
    at.button[0].click().run()  # the form's submit button
    assert at.error and at.error[0].value == "Not recorded."
    with CurationService(get_settings()) as svc:
        assert svc.history("CM-XKX-0028") == []
    at.selectbox(key="cur_new").set_value("disputed")
    at.text_input(key="cur_who").input("ana")
    at.text_area(key="cur_why").input("police said no arrests; weapon counts differ")
    at.button[0].click().run()
    assert not at.exception and at.success[0].value.startswith("Recorded: reported → disputed")
    assert "Verification status: Disputed (reports conflict)" in texts(at)
    hist = at.dataframe[-1].value if "who" in at.dataframe[-1].value else None
    with CurationService(get_settings()) as svc:
        (c,) = svc.history("CM-XKX-0028")
        assert (c.who, c.why, c.new_status) == ("ana", "police said no arrests; weapon counts differ", "disputed")
    assert hist is not None and list(hist["who"]) == ["ana"]
    at.text_input(key="cur_who").input("ben")
    at.button(key="cur_undo").click().run()
    assert at.success[0].value.startswith("Undone: back to reported")
    with CurationService(get_settings()) as svc:
        assert [h.who for h in svc.history("CM-XKX-0028")] == ["ana", "ben"]


def test_duplicate_dismiss_and_undo_from_the_section(seeded):
    from geodata.ingest.bundled import load_bundled_incidents

    with CurationService(get_settings()) as svc:
        first = svc.suggestions(load_bundled_incidents(), across_datasets=False).iloc[0]
    at = AppTest.from_function(curation_app, default_timeout=60)
    at.query_params["id"] = str(first["a"])
    at.run()
    assert not at.exception
    at.checkbox(key="cur_dup_all").check().run()
    assert any(t.startswith(f"{first['b']} — score") for t in texts(at))
    at.text_input(key="cur_who").input("ana")
    at.button(key="cur_dismiss_0").click().run()
    assert at.success[0].value == "Decision #1 recorded (dismiss)."
    with CurationService(get_settings()) as svc:
        assert svc.decisions()[0].action == "dismiss" and svc.decisions()[0].who == "ana"
    at.button(key="cur_undo_dec_1").click().run()
    assert at.success[0].value == "Decision #1 undone."
    with CurationService(get_settings()) as svc:
        assert [d.action for d in svc.decisions()] == ["dismiss", "undo"]


def banjska_app():
    from dashboard import curation
    from geodata.service.curation import CurationService
    from geodata.ingest.bundled import load_bundled_incidents
    from geodata.settings import get_settings

    with CurationService(get_settings()) as svc:
        curation.render(svc, "CM-XKX-0024", load_bundled_incidents())


def test_two_steps_of_one_sequence_are_never_offered_as_a_merge(clean_env):
    # Issue 21 item 7: the Banjska ambush (0024) and the monastery siege (0025) are steps of one bundled sequence.
    from geodata.ingest.bundled import load_bundled_incidents

    with CurationService(get_settings()) as svc:
        assert any({"CM-XKX-0024", "CM-XKX-0025"} <= set(q.event_ids) for q in svc.sequences())
        table = svc.suggestions(load_bundled_incidents(), across_datasets=False)
    pairs = {frozenset((r.a, r.b)) for r in table.itertuples()}
    assert frozenset(("CM-XKX-0024", "CM-XKX-0025")) not in pairs
    at = AppTest.from_function(banjska_app, default_timeout=60)
    at.run()
    assert not at.exception
    at.checkbox(key="cur_dup_all").check().run()
    assert not any(t.startswith("CM-XKX-0025 — score") for t in texts(at))


def test_dashboard_compares_within_one_dataset_only_when_asked(curation_env):
    # Two bundled rows (one dataset) close in time and place: suggested only after ticking the box, like `--all`.
    from geodata.ingest.bundled import load_bundled_incidents

    incidents = load_bundled_incidents()
    with CurationService(get_settings()) as svc:
        within = svc.suggestions(incidents, across_datasets=False)
    assert not within.empty
    eid = str(within.iloc[0]["a"])
    other = str(within.iloc[0]["b"])

    def app():
        import streamlit as st

        from dashboard import curation
        from geodata.service.curation import CurationService
        from geodata.ingest.bundled import load_bundled_incidents
        from geodata.settings import get_settings

        with CurationService(get_settings()) as svc:
            curation.render(svc, st.query_params["id"], load_bundled_incidents())

    at = AppTest.from_function(app, default_timeout=60)
    at.query_params["id"] = eid
    at.run()
    assert not at.exception
    assert not at.checkbox(key="cur_dup_all").value
    assert not any(t.startswith(f"{other} — score") for t in texts(at))
    assert any(t.startswith("None suggested from other datasets") for t in texts(at))
    at.checkbox(key="cur_dup_all").check().run()
    assert any(t.startswith(f"{other} — score") for t in texts(at))
