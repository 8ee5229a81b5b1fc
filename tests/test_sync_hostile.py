"""Hostile sync servers and hostile pulled rows (issue 18, rows 1–4, 9, 11, 14), against loopback fakes.

Every store case runs on SQLite and PostGIS (``store_url``). What is asserted: no secret reaches a
second host through a redirect; a sync never rewrites or deletes a row of another dataset, reports
the collision and keeps it; undo of a sync puts back exactly what it updated and deleted; a server
that never stops sending pages is stopped at the configured row limit with nothing stored; malformed
token lifetimes and deletion times are one-line errors and never become a cursor; a URL's
credentials are never printed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from geodata._errors import SourceError
from geodata.settings import get_settings
from geodata.store import open_store
from geodata.store.sync_sql import read_changes, stored_columns, sync_cursor
from geodata.sync.engine import source_key, sync_acled, sync_ucdp
from geodata.sync.http import redact_url
from tests.fake_apis import FakeAcled, FakeUcdp, Misbehave, acled_event, ucdp_event

REPO = Path(__file__).resolve().parents[1]
USER, PASSWORD = "analyst@example.org", "correct horse"
ENV = {"ACLED_USERNAME": USER, "ACLED_PASSWORD": PASSWORD}
T0 = 1_760_000_000


@pytest.fixture
def acled_api():
    api = FakeAcled([acled_event(i) for i in range(1, 4)]).start()
    yield api
    api.stop()


@pytest.fixture
def thief():
    """A second host on another port that logs whatever reaches it."""
    api = FakeAcled([]).start()
    yield api
    api.stop()


def _settings(tmp_path: Path, acled_url: str = "http://127.0.0.1:9", ucdp_url: str = "http://127.0.0.1:9",
              **extra: str):
    return get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_ACLED_URL": acled_url,
                         "CONFLICTMAP_UCDP_URL": ucdp_url, **extra})


def _secrets_seen(api: FakeAcled, *secrets: str) -> list[str]:
    seen = []
    for r in api.log:
        text = repr((r.path, r.query, r.headers, r.body))
        seen += [s for s in secrets if s in text]
    return seen


# ------------------------------------------------------------------ rows 1 and 2: redirects
@pytest.mark.parametrize("status", ["307", "302"])
def test_token_endpoint_redirect_to_another_host_sends_no_password(tmp_path, acled_api, thief, status):
    acled_api.script.append(Misbehave("/oauth/token", status, location=f"{thief.url}/oauth/token"))
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(SourceError, match="another host"):
            sync_acled(_settings(tmp_path, acled_api.url), store, env=ENV)
        assert thief.log == [] and not _secrets_seen(thief, PASSWORD, USER)
        assert stored_columns(store, ["event_id_cnty"]).empty
    finally:
        store.close()


def test_read_redirect_to_another_host_sends_no_token_and_stores_nothing(tmp_path, acled_api, thief):
    thief.events = {e: r for e, r in {"EVIL1": acled_event(99)}.items()}
    acled_api.script.append(Misbehave("/api/acled/read", "302", location=f"{thief.url}/api/acled/read"))
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(SourceError, match="another host"):
            sync_acled(_settings(tmp_path, acled_api.url), store, env=ENV)
        assert thief.log == []
        assert stored_columns(store, ["event_id_cnty"]).empty
    finally:
        store.close()


def test_same_origin_redirect_is_followed(tmp_path, acled_api):
    acled_api.script.append(Misbehave("/api/acled/read", "302",
                                      location="/api/acled/read?country=Kosovo&_format=json&limit=5000&page=1"))
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        counts = sync_acled(_settings(tmp_path, acled_api.url), store, env=ENV)
        assert counts.new == 3
    finally:
        store.close()


def test_ucdp_first_page_redirect_to_another_host_sends_no_token(tmp_path, thief):
    api = FakeUcdp([ucdp_event(n) for n in range(101, 104)]).start()
    try:
        api.script.append(Misbehave("/api/gedevents/", "302", location=f"{thief.url}/api/gedevents/26.1"))
        store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
        try:
            with pytest.raises(SourceError, match="another host"):
                sync_ucdp(_settings(tmp_path, ucdp_url=api.url), store, env={"UCDP_TOKEN": api.token})
            assert thief.log == [] and not _secrets_seen(thief, api.token)
        finally:
            store.close()
    finally:
        api.stop()


def test_cross_origin_redirect_is_one_line_exit_2(tmp_path, acled_api, thief):
    acled_api.script.append(Misbehave("/oauth/token", "307", location=f"{thief.url}/oauth/token"))
    env = {"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_ACLED_URL": acled_api.url, **ENV,
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "geodata", "sync", "acled"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr and "another host" in out.stderr.splitlines()[-1]
    assert thief.log == []


# ------------------------------------------------------------------ row 3: ownership and exact undo
def test_sync_never_rewrites_or_deletes_bundled_or_uploaded_rows(store_url, tmp_path):
    import pandas as pd

    from geodata.ingest.bundled import seed_bundled

    upload = tmp_path / "mine.csv"
    mine = acled_event(60)
    mine["notes"] = "my own row"
    pd.DataFrame([mine]).to_csv(upload, index=False)
    api = FakeAcled([acled_event(1, event_id_cnty="CM-XKX-0001"), acled_event(2, event_id_cnty="CM-XKX-0003"),
                     acled_event(3)]).start()
    store = open_store(store_url)
    try:
        seed_bundled(store)
        env = {"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
        out = subprocess.run([sys.executable, "-m", "geodata", "ingest", str(upload), "--db", store_url,
                              "--licence", "CC BY 4.0"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        before = stored_columns(store, ["event_id_cnty", "notes", "dataset"]).set_index("event_id_cnty")
        api.events["SYN60"] = acled_event(60)  # ACLED sends the uploaded row's id too
        api.deleted += [{"event_id_cnty": "CM-XKX-0001", "deleted_timestamp": str(T0)},
                        {"event_id_cnty": "CM-XKX-0003", "deleted_timestamp": str(T0)}]
        progress: list[str] = []
        counts = sync_acled(_settings(tmp_path, api.url), store, env=ENV, progress=progress.append)
        after = stored_columns(store, ["event_id_cnty", "notes", "dataset"]).set_index("event_id_cnty")
        for eid in ("CM-XKX-0001", "CM-XKX-0003"):
            assert after.loc[eid, "dataset"] == "conflictmap" and after.loc[eid, "notes"] == before.loc[eid, "notes"]
        assert before.loc["SYN60", "dataset"] == "upload"
        assert after.loc["SYN60", "notes"] == "my own row" and after.loc["SYN60", "dataset"] == "upload"
        assert counts.deleted == 0 and counts.new == 1 and counts.rejected == 3
        assert any("CM-XKX-0001 rejected" in m and "does not own" in m for m in progress)
        kinds = read_changes(store, source_key("acled", "Kosovo"))
        assert set(kinds.loc[kinds["change"] == "collision", "dedup_key"]) >= {"id:CM-XKX-0001", "id:CM-XKX-0003"}
        # Offered as possible duplicates: by the service and in `duplicates` (what ACLED sent under the id).
        from geodata.service.incidents import IncidentService
        from geodata.settings import get_settings

        with IncidentService(get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var")}), db_url=store_url) as svc:
            offered = svc.sync_collisions().set_index("event_id_cnty")
        assert {"CM-XKX-0001", "CM-XKX-0003", "SYN60"} <= set(offered.index)
        assert offered.loc["CM-XKX-0001", "location"] == acled_event(1)["location"]
        out = subprocess.run([sys.executable, "-m", "geodata", "duplicates", "--db", store_url], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        line = next(x for x in out.stdout.splitlines() if x.startswith("CM-XKX-0003  pulled by"))
        assert "possible duplicate" in line and str(acled_event(2)["location"]) in line
    finally:
        store.close()
        api.stop()


def test_undo_of_a_sync_restores_exactly_what_it_updated_and_deleted(store_url, tmp_path):
    api = FakeAcled([acled_event(i) for i in range(1, 5)]).start()
    store = open_store(store_url)
    settings = _settings(tmp_path, api.url)
    try:
        sync_acled(settings, store, env=ENV)
        cols = ["event_id_cnty", "notes", "fatalities", "timestamp", "latitude", "event_date", "dataset"]
        before = stored_columns(store, cols)
        corrected = acled_event(2, timestamp=T0 + 500)
        corrected["notes"], corrected["fatalities"] = "corrected by ACLED", 3
        api.events["SYN2"] = corrected
        api.deleted.append({"event_id_cnty": "SYN3", "deleted_timestamp": str(T0 + 10)})
        counts = sync_acled(settings, store, env=ENV)
        assert (counts.updated, counts.deleted) == (1, 1)
        uploads = store.list_uploads()
        store.undo_upload(int(uploads[uploads.columns[0]].max()))
        after = stored_columns(store, cols)
        pd_equal = before.astype(str).reset_index(drop=True).equals(after.astype(str).reset_index(drop=True))
        assert pd_equal, (before, after)
    finally:
        store.close()
        api.stop()


# ------------------------------------------------------------------ row 4: bounded pulls
def test_endless_full_pages_stop_at_the_row_limit_and_store_nothing(tmp_path):
    rows = [acled_event(i) for i in range(1, 40)]
    api = FakeAcled(rows).start()
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        settings = _settings(tmp_path, api.url, CONFLICTMAP_SYNC_MAX_ROWS="20")
        with pytest.raises(SourceError, match="CONFLICTMAP_SYNC_MAX_ROWS"):
            sync_acled(settings, store, env=ENV, limit=5)  # 39 rows in pages of 5: more than 20 allowed
        assert len(api.requests_to("/api/acled/read")) <= 5
        assert stored_columns(store, ["event_id_cnty"]).empty
    finally:
        store.close()
        api.stop()


# ------------------------------------------------------------------ rows 9 and 14: malformed times
@pytest.mark.parametrize("expires_in", ["abc", {"x": 1}, -5, 1e300])
def test_malformed_token_lifetime_is_a_source_error(tmp_path, acled_api, expires_in):
    acled_api.script.append(Misbehave("/oauth/token", "json", payload={
        "token_type": "Bearer", "access_token": "access-x", "refresh_token": "r", "expires_in": expires_in}))
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(SourceError, match="expires_in"):
            sync_acled(_settings(tmp_path, acled_api.url), store, env=ENV)
    finally:
        store.close()


@pytest.mark.parametrize("stamp", ["²", "9" * 40, "3.5e9", "abc"])
def test_malformed_deletion_time_is_refused_and_never_the_cursor(store_url, tmp_path, acled_api, stamp):
    acled_api.deleted.append({"event_id_cnty": "SYN1", "deleted_timestamp": stamp})
    store = open_store(store_url)
    try:
        with pytest.raises(SourceError, match="deleted_timestamp"):
            sync_acled(_settings(tmp_path, acled_api.url), store, env=ENV)
        assert sync_cursor(store, source_key("acled", "Kosovo")) == {}
        assert stored_columns(store, ["event_id_cnty"]).empty
    finally:
        store.close()


def test_malformed_deletion_time_on_the_command_line_is_one_line_exit_2(tmp_path, acled_api):
    acled_api.deleted.append({"event_id_cnty": "SYN1", "deleted_timestamp": "²"})
    env = {"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_ACLED_URL": acled_api.url, **ENV,
           "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "geodata", "sync", "acled"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "deleted_timestamp" in out.stderr.strip().splitlines()[-1]


# ------------------------------------------------------------------ row 11: credentials in URLs
def test_credentials_in_the_url_are_never_printed(tmp_path):
    env = {"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), **ENV, "PATH": "/usr/bin:/bin",
           "CONFLICTMAP_ACLED_URL": "http://u:SECRETPW@127.0.0.1:9"}
    out = subprocess.run([sys.executable, "-m", "geodata", "sync", "acled"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "SECRETPW" not in out.stderr + out.stdout and "127.0.0.1:9" in out.stderr


@pytest.mark.parametrize(("url", "shown"), [
    ("http://u:SECRET@host:8080/api?token=T", "http://host:8080/api"),
    ("https://SECRET@example.org/oauth/token", "https://example.org/oauth/token"),
    ("http://u:SECRET@host:notaport/x", "host:notaport/x"),
])
def test_redact_url(url, shown):
    assert "SECRET" not in redact_url(url) and redact_url(url).endswith(shown)
