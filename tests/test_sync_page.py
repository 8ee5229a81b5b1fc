"""The dashboard's "Data sources" page (AppTest) against the loopback ACLED fake."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.fake_apis import FakeAcled, acled_event

REPO = str(Path(__file__).resolve().parents[1])


def _page(repo: str) -> None:
    import sys

    sys.path.insert(0, repo)
    from dashboard.views.sources import render

    render()


@pytest.fixture
def page_env(clean_env, tmp_path):
    api = FakeAcled([acled_event(i) for i in range(1, 4)] + [acled_event(4, event_type="Picnic")]).start()
    for name in ("ACLED_USERNAME", "ACLED_PASSWORD", "UCDP_TOKEN"):
        clean_env.delenv(name, raising=False)
    clean_env.setenv("HOME", str(tmp_path))          # no secrets file of the machine's user
    clean_env.chdir(tmp_path)                        # nor of the repository
    clean_env.setenv("CONFLICTMAP_ACLED_URL", api.url)
    yield clean_env, api
    api.stop()


def test_sources_page_shows_state_and_syncs_configured_source(page_env, tmp_path):
    env, api = page_env
    at = AppTest.from_function(_page, args=(REPO,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert [h.value for h in at.subheader] == ["ACLED", "UCDP GED"]  # an empty store: no "In the store" table
    texts = [t.value for t in at.text]
    assert texts.count("Never synced.") == 2
    assert any(t.startswith("Not configured: set ACLED_USERNAME") for t in texts)
    assert not at.button                               # nothing configured: no Sync button

    env.setenv("ACLED_USERNAME", "analyst@example.org")
    env.setenv("ACLED_PASSWORD", "correct horse")
    at = AppTest.from_function(_page, args=(REPO,), default_timeout=60).run()
    assert [b.label for b in at.button] == ["Sync now"]
    at.button(key="cm_sync_acled_now").click().run()
    assert not at.exception, at.exception
    assert [s.value for s in at.success] == ["ACLED: fetched=4 new=3 updated=0 deleted=0 rejected=1"]
    held = at.dataframe[0].value
    assert dict(zip(held["dataset"], held["incidents"])) == {"ACLED": 3}
    table = at.dataframe[1].value
    assert list(table["source/country"]) == ["acled/Kosovo"] and int(table["new"].iat[0]) == 3
    assert "correct horse" not in str([e.value for e in at.text] + [e.value for e in at.caption])
    assert len(api.requests_to("/api/acled/read")) == 1


def test_sources_page_failure_is_one_message_and_changes_nothing(page_env):
    env, _api = page_env
    env.setenv("ACLED_USERNAME", "analyst@example.org")
    env.setenv("ACLED_PASSWORD", "wrong")
    at = AppTest.from_function(_page, args=(REPO,), default_timeout=60).run()
    at.button(key="cm_sync_acled_now").click().run()
    assert not at.exception, at.exception
    assert any("ACLED refused the username or password" in t.value for t in at.text)
    assert not at.success and not at.dataframe
    assert "wrong" not in " ".join(t.value for t in at.text if "refused" not in t.value)
