"""The exported map's sequence control, as a colleague sees it: opened from file:// offline in headless Chromium."""

from __future__ import annotations

import pytest

from geodata.service.curation import CurationService
from geodata.curation.sequences import load_bundled_sequences
from geodata.settings import get_settings
from geodata.curation.sources import read_sources_file
from layers.export_html import build_export
from tests.test_curation_domain import FIX
from tests.test_export_browser import ARTIFACTS, WHEN, Opened, browser  # noqa: F401 (fixture)
from tests.test_export_html import bundled_selection


@pytest.fixture
def exported(curation_env):
    with CurationService(get_settings()) as svc:
        svc.tables.add_sources(read_sources_file(FIX / "incident_sources.csv").sources, origin="test")
        svc.tables.save_sequences(load_bundled_sequences(FIX / "sequences.csv"))
        svc.change_status("CM-XKX-0028", "disputed", "ana", "weapon counts differ")
    return build_export(bundled_selection(), WHEN).html


def test_sequence_steps_through_offline(browser, exported, tmp_path):  # noqa: F811
    opened = Opened(browser, exported, tmp_path)
    page = opened.page
    box = page.locator(".cm-sequence")
    box.wait_for()
    assert page.locator(".cm-seq-select option").all_inner_texts() == [
        "Step through…", "Banjska attack, 24 Sep 2023", "Ibar-Lepenac canal attack, Nov 2024"]
    # Until a sequence is picked the map shows the whole selection: no step drawn, no address change.
    assert not page.locator(".cm-seq-details").is_visible() and page.locator("path.cm-seq-step").count() == 0
    assert page.evaluate("location.hash") == ""
    page.locator(".cm-seq-select").select_option(label="Banjska attack, 24 Sep 2023")
    assert page.locator(".cm-seq-label").inner_text() == "Step 1 of 4"
    assert page.locator(".cm-seq-summary").inner_text() == "Ambush of the police patrol near Banjska"
    assert page.locator(".cm-seq-sources a[href^='https://']").count() == 2  # KoSSev and EFE
    assert page.locator("path.cm-seq-current").count() == 1
    page.locator(".cm-seq-next").click()
    page.locator(".cm-seq-next").click()
    assert page.locator(".cm-seq-label").inner_text() == "Step 3 of 4"
    assert "led to" in page.locator(".cm-seq-relation").inner_text()
    assert page.locator("path.cm-seq-step").count() == 3 and page.locator("path.cm-seq-path").count() == 1
    assert page.evaluate("location.hash") == "#seq=banjska-2023&step=3"
    # The map zoomed to the step: Rudare (step 3) and Banjska are both in view.
    bounds = page.evaluate("(() => { for (const k in window) { const v = window[k]; if (v && v instanceof L.Map) "
                           "{ const b = v.getBounds(); return [b.getSouth(), b.getWest(), b.getNorth(), b.getEast()]; } } })()")
    assert bounds[0] < 42.97 < bounds[2] and bounds[1] < 20.78 < bounds[3]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "export_sequence_step3.png"))
    page.locator(".cm-seq-select").select_option(label="Ibar-Lepenac canal attack, Nov 2024")
    assert page.locator(".cm-seq-label").inner_text() == "Step 1 of 2"
    opened.assert_clean()
    page.close()


def test_sequence_link_opens_the_step(browser, exported, tmp_path):  # noqa: F811
    opened = Opened(browser, exported, tmp_path)
    page = opened.page
    page.goto(page.url.split("#")[0] + "#seq=canal-2024&step=2")
    page.reload()
    page.locator(".cm-sequence").wait_for()
    assert page.locator(".cm-seq-select").input_value() == "1"
    assert page.locator(".cm-seq-label").inner_text() == "Step 2 of 2"
    assert page.locator(".cm-seq-summary").inner_text() == "Arrests"
    opened.assert_clean()
    page.close()


def test_a_bad_hash_is_ignored_and_the_control_stays(browser, exported, tmp_path):  # noqa: F811
    """``#seq=%E0%A4%A&step=2`` cannot be decoded (issue 18, row 12): no URIError, the chooser stays."""
    opened = Opened(browser, exported, tmp_path)
    page = opened.page
    page.goto(page.url.split("#")[0] + "#seq=%E0%A4%A&step=2")
    page.reload()
    page.locator(".cm-sequence").wait_for()
    assert page.locator(".cm-seq-select").input_value() == "-1"
    assert not page.locator(".cm-seq-details").is_visible()
    opened.assert_clean()
    page.close()


def test_editing_the_hash_in_an_open_tab_follows_it(browser, exported, tmp_path):  # noqa: F811
    """The reader changes ``#seq=`` in the address bar of an open file (issue 21, item 8): the control follows."""
    opened = Opened(browser, exported, tmp_path)
    page = opened.page
    page.locator(".cm-sequence").wait_for()
    page.evaluate("location.hash = '#seq=canal-2024&step=2'")
    page.wait_for_function("document.querySelector('.cm-seq-label') && "
                           "document.querySelector('.cm-seq-label').innerText === 'Step 2 of 2'")
    assert page.locator(".cm-seq-summary").inner_text() == "Arrests"
    page.evaluate("location.hash = '#seq=banjska-2023&step=1'")
    page.wait_for_function("document.querySelector('.cm-seq-label').innerText === 'Step 1 of 4'")
    opened.assert_clean()
    page.close()
