"""``sync acled|ucdp`` against loopback fakes of both APIs (tests/fake_apis.py), on SQLite and PostGIS.

What the issue's "Done when" asks: the documented last line on a first pull and on a later pull
with changes and deletions, the store matching the API's state, tokens and refresh, paging,
401, 429 with Retry-After, a malformed page, a killed sync.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from geodata._errors import SourceError
from geodata.settings import get_settings
from geodata.store import open_store
from geodata.store.sync_sql import read_changes, read_sync_state, stored_columns
from geodata.sync.engine import sync_acled, sync_ucdp
from geodata.sync.http import CredentialsError, make_session
from tests.fake_apis import FakeAcled, FakeUcdp, Misbehave, acled_event, ucdp_event

REPO = Path(__file__).resolve().parents[1]
T0 = 1_760_000_000
USER, PASSWORD = "analyst@example.org", "correct horse"


@pytest.fixture
def acled_api():
    rows = [acled_event(i) for i in range(1, 7)]
    rows[3] = acled_event(4, numeric_inter=True)       # older numeric inter codes are accepted too
    rows.append(acled_event(7, event_type="Picnic"))   # not an ACLED event type: rejected
    api = FakeAcled(rows).start()
    yield api
    api.stop()


@pytest.fixture
def ucdp_api():
    api = FakeUcdp([ucdp_event(n) for n in range(101, 106)] + [ucdp_event(200, country_id=90, country="Guatemala")])
    api.start()
    yield api
    api.stop()


def _settings(tmp_path: Path, acled_url: str = "http://127.0.0.1:9", ucdp_url: str = "http://127.0.0.1:9"):
    return get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_ACLED_URL": acled_url,
                         "CONFLICTMAP_UCDP_URL": ucdp_url})


ACLED_ENV = {"ACLED_USERNAME": USER, "ACLED_PASSWORD": PASSWORD}


def _ids(store) -> set[str]:
    return set(stored_columns(store, ["event_id_cnty"])["event_id_cnty"])


def test_acled_first_pull_later_pull_with_change_and_deletion(store_url, tmp_path, acled_api):
    settings = _settings(tmp_path, acled_api.url)
    store = open_store(store_url)
    try:
        first = sync_acled(settings, store, env=ACLED_ENV, limit=4)   # 7 rows in pages of 4: two pages
        assert first.line() == "fetched=7 new=6 updated=0 deleted=0 rejected=1"
        pages = [r.query["page"] for r in acled_api.requests_to("/api/acled/read")]
        assert pages == ["1", "2"]
        assert _ids(store) == {f"SYN{i}" for i in (1, 2, 3, 4, 5, 6)}
        inter = stored_columns(store, ["event_id_cnty", "inter1", "interaction", "dataset", "licence"])
        row4 = inter.set_index("event_id_cnty").loc["SYN4"]
        assert (row4["inter1"], row4["interaction"]) == ("Identity militia", "Identity militia-Civilians")
        assert set(inter["dataset"]) == {"ACLED"} and set(inter["licence"]) == {"ACLED Terms of Use"}

        # ACLED corrects SYN2, adds SYN8 and deletes SYN3.
        acled_api.events["SYN2"] = acled_event(2, timestamp=T0 + 100, notes="Synthetic corrected note.", fatalities=1)
        acled_api.events["SYN8"] = acled_event(8, timestamp=T0 + 100)
        del acled_api.events["SYN3"]
        acled_api.deleted.append({"event_id_cnty": "SYN3", "deleted_timestamp": str(T0 + 50)})
        second = sync_acled(settings, store, env=ACLED_ENV, limit=4)
        # Rows with timestamp >= the newest seen (T0): SYN1,2,4,5,6,7,8.
        assert second.line() == "fetched=7 new=1 updated=1 deleted=1 rejected=1"
        assert acled_api.requests_to("/api/acled/read")[-1].query["timestamp"] == str(T0)
        assert _ids(store) == {f"SYN{i}" for i in (1, 2, 4, 5, 6, 8)}
        notes = stored_columns(store, ["event_id_cnty", "notes", "fatalities", "timestamp"]).set_index("event_id_cnty")
        assert notes.loc["SYN2", "notes"] == "Synthetic corrected note."
        assert int(notes.loc["SYN2", "fatalities"]) == 1 and int(notes.loc["SYN2", "timestamp"]) == T0 + 100
        changes = read_changes(store, "acled/Kosovo")
        assert list(zip(changes["dedup_key"], changes["change"])) == [("id:SYN2", "updated"), ("id:SYN3", "deleted")]
        previous = json.loads(changes["previous"].iat[0])
        assert previous["notes"] == "Synthetic test event 2." and previous["timestamp"] == str(T0)

        # Nothing changed since: only the rows at the newest timestamp come back, and nothing moves.
        third = sync_acled(settings, store, env=ACLED_ENV, limit=4)
        assert third.line() == "fetched=2 new=0 updated=0 deleted=0 rejected=0"
        state = read_sync_state(store).set_index("source").loc["acled/Kosovo"]
        assert (int(state["fetched"]), int(state["new"])) == (2, 0)
        assert json.loads(state["cursor"])["timestamp"] == T0 + 100
    finally:
        store.close()


def test_acled_deletion_only_touches_rows_that_came_from_acled(tmp_path, acled_api):
    from geodata.ingest import ingest_file

    settings = _settings(tmp_path, acled_api.url)
    own = tmp_path / "own.csv"
    own.write_text("Date,Type,Sub,Actor,Lat,Lon,Id\n2024-05-11,Protests,Peaceful protest,Synthetic Protesters,"
                   "42.9,20.85,SYN99\n", encoding="utf-8")
    from geodata.ingest import ColumnMapping

    mapping = ColumnMapping({"event_date": "Date", "event_type": "Type", "sub_event_type": "Sub", "actor1": "Actor",
                             "latitude": "Lat", "longitude": "Lon", "event_id_cnty": "Id"})
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        ingest_file(own, store, mapping=mapping)
        acled_api.deleted.append({"event_id_cnty": "SYN99", "deleted_timestamp": str(T0)})
        acled_api.deleted.append({"event_id_cnty": "SYN5", "deleted_timestamp": str(T0)})
        del acled_api.events["SYN5"]
        counts = sync_acled(settings, store, env=ACLED_ENV)
        assert counts.line() == "fetched=6 new=5 updated=0 deleted=0 rejected=1"
        assert "SYN99" in _ids(store)
    finally:
        store.close()


def test_every_row_knows_its_dataset_and_acled_deletions_reach_uploaded_acled_files(store_url, tmp_path, acled_api):
    import pandas as pd

    from geodata.ingest.bundled import seed_bundled
    from geodata.ingest import ingest_file

    acled_file = tmp_path / "acled_export.csv"
    pd.DataFrame([acled_event(50), acled_event(51)]).to_csv(acled_file, index=False)
    store = open_store(store_url)
    try:
        seed_bundled(store)
        ingest_file(acled_file, store, fmt="acled")
        rows = stored_columns(store, ["event_id_cnty", "dataset", "licence"]).set_index("event_id_cnty")
        assert rows.loc["SYN50", "dataset"] == "ACLED" and rows.loc["SYN50", "licence"] == "ACLED Terms of Use"
        bundled = rows[rows.index.str.startswith("CM-XKX-")]
        from geodata.ingest.bundled import BUNDLED_INCIDENTS

        expected = len(pd.read_csv(BUNDLED_INCIDENTS, dtype=str, keep_default_na=False))
        assert len(bundled) == expected and set(bundled["dataset"]) == {"conflictmap"}
        read = store.read(columns=("event_id_cnty", "dataset", "licence"))
        assert set(read.loc[read["event_id_cnty"] == "SYN51", "dataset"]) == {"ACLED"}

        acled_api.deleted.append({"event_id_cnty": "SYN50", "deleted_timestamp": str(T0)})
        acled_api.deleted.append({"event_id_cnty": "CM-XKX-0001", "deleted_timestamp": str(T0)})  # not ACLED's row
        counts = sync_acled(_settings(tmp_path, acled_api.url), store, env=ACLED_ENV)
        assert (counts.new, counts.deleted) == (6, 1)
        ids = _ids(store)
        assert "SYN50" not in ids and "SYN51" in ids and "CM-XKX-0001" in ids
    finally:
        store.close()


def test_tokens_cached_0600_then_refresh_before_password(tmp_path, acled_api):
    settings = _settings(tmp_path, acled_api.url)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        sync_acled(settings, store, env=ACLED_ENV)
        grants = [r.body["grant_type"] for r in acled_api.requests_to("/oauth/token")]
        assert grants == ["password"]
        cache = settings.data_dir / "sync" / "acled_token.json"
        assert stat.S_IMODE(cache.stat().st_mode) == 0o600
        text = cache.read_text()
        assert PASSWORD not in text and USER not in text

        sync_acled(settings, store, env=ACLED_ENV)      # cached access token: no new grant
        assert len(acled_api.requests_to("/oauth/token")) == 1

        acled_api.valid_access.clear()                  # access token expired/revoked: 401, then refresh
        sync_acled(settings, store, env=ACLED_ENV)
        grants = [r.body["grant_type"] for r in acled_api.requests_to("/oauth/token")]
        assert grants == ["password", "refresh_token"]
        statuses = [r.headers.get("authorization") for r in acled_api.requests_to("/api/acled/read")]
        assert statuses[-2] != statuses[-1]             # the refused token was replaced

        acled_api.valid_access.clear()
        acled_api.valid_refresh.clear()                 # refresh refused too: only then the password again
        sync_acled(settings, store, env=ACLED_ENV)
        grants = [r.body["grant_type"] for r in acled_api.requests_to("/oauth/token")]
        assert grants == ["password", "refresh_token", "refresh_token", "password"]
    finally:
        store.close()


def test_refresh_answer_without_new_refresh_token_keeps_the_old_one(tmp_path, acled_api):
    acled_api.rotate_refresh = False
    settings = _settings(tmp_path, acled_api.url)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        sync_acled(settings, store, env=ACLED_ENV)
        for _ in range(2):
            acled_api.valid_access.clear()
            sync_acled(settings, store, env=ACLED_ENV)
        grants = [(r.body["grant_type"], r.body.get("refresh_token")) for r in acled_api.requests_to("/oauth/token")]
        assert grants == [("password", None), ("refresh_token", "refresh-1"), ("refresh_token", "refresh-1")]
    finally:
        store.close()


def test_bad_password_is_a_credentials_error_and_stores_nothing(tmp_path, acled_api):
    settings = _settings(tmp_path, acled_api.url)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(CredentialsError, match="refused the username or password") as err:
            sync_acled(settings, store, env={"ACLED_USERNAME": USER, "ACLED_PASSWORD": "wrong secret"})
        assert "wrong secret" not in str(err.value)
        assert store.count() == 0 and read_sync_state(store).empty
        with pytest.raises(CredentialsError, match="ACLED_USERNAME"):
            sync_acled(settings, store, env={})
    finally:
        store.close()


def test_429_retry_after_is_honoured_and_500_retried(tmp_path, acled_api):
    acled_api.script = [Misbehave("/api/acled/read", "429", retry_after=1), Misbehave("/api/deleted/read", "500")]
    settings = _settings(tmp_path, acled_api.url)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        counts = sync_acled(settings, store, env=ACLED_ENV)
        assert counts.new == 6
        reads = acled_api.requests_to("/api/acled/read")
        assert len(reads) == 2 and reads[1].at - reads[0].at >= 0.95
        assert len(acled_api.requests_to("/api/deleted/read")) == 2
    finally:
        store.close()


def test_malformed_page_stores_nothing(store_url, tmp_path, acled_api):
    acled_api.script = [Misbehave("/api/acled/read", "malformed", nth=2)]
    settings = _settings(tmp_path, acled_api.url)
    store = open_store(store_url)
    try:
        with pytest.raises(SourceError, match="not JSON"):
            sync_acled(settings, store, env=ACLED_ENV, limit=3)
        assert store.count() == 0 and read_sync_state(store).empty
    finally:
        store.close()


def test_answer_without_data_list_is_not_as_documented(tmp_path):
    from geodata.sync.acled import page_rows

    with pytest.raises(SourceError, match="not as documented"):
        page_rows({"status": 200, "success": True, "data": "oops"}, "events page 1")
    with pytest.raises(SourceError, match="failure"):
        page_rows({"status": 403, "success": False, "data": []}, "events page 1")
    assert page_rows({"data": [{"a": 1}]}, "x") == [{"a": 1}]


def test_failure_inside_the_write_leaves_the_store_as_it_was(store_url, tmp_path, acled_api):
    settings = _settings(tmp_path, acled_api.url)
    store = open_store(store_url)
    try:
        sync_acled(settings, store, env=ACLED_ENV)
        before = stored_columns(store, ["event_id_cnty", "notes", "timestamp"])
        state_before = read_sync_state(store)
        acled_api.events["SYN1"] = acled_event(1, timestamp=T0 + 5, notes="Synthetic changed.")
        acled_api.events["SYN9"] = acled_event(9, timestamp=T0 + 5)
        acled_api.deleted.append({"event_id_cnty": "SYN2", "deleted_timestamp": str(T0 + 5)})

        def explode(msg: str) -> None:
            if msg.startswith("store: deleted"):   # after the inserts and updates, inside the transaction
                raise KeyboardInterrupt

        version = store.data_version()
        with pytest.raises(KeyboardInterrupt):
            sync_acled(settings, store, env=ACLED_ENV, progress=explode)
        assert store.data_version() == version
        assert stored_columns(store, ["event_id_cnty", "notes", "timestamp"]).equals(before)
        assert read_sync_state(store).equals(state_before)
        assert read_changes(store).empty
        assert sync_acled(settings, store, env=ACLED_ENV).line() == "fetched=8 new=1 updated=1 deleted=1 rejected=1"
        assert store.data_version() != version   # every open dashboard session sees the sync on its next rerun
    finally:
        store.close()


def test_ucdp_pages_kept_fields_and_changed_row(store_url, tmp_path, ucdp_api):
    settings = _settings(tmp_path, ucdp_url=ucdp_api.url)
    env = {"UCDP_TOKEN": ucdp_api.token}
    store = open_store(store_url)
    try:
        first = sync_ucdp(settings, store, version="26.1", env=env, pagesize=2)
        assert first.line() == "fetched=5 new=5 updated=0 deleted=0 rejected=0"
        calls = ucdp_api.requests_to("/api/gedevents/26.1")
        assert [c.query.get("page") for c in calls] == [None, "1", "2"]          # NextPageUrl followed
        assert all(c.headers["x-ucdp-access-token"] == ucdp_api.token for c in calls)
        assert calls[0].query["Country"] == "345,347"
        rows = stored_columns(store, ["event_id_cnty", "fatalities", "source_extra", "dataset", "licence"])
        extra = json.loads(rows.set_index("event_id_cnty").loc["UCDP-101", "source_extra"])
        assert extra == {"best": "2", "code_status": "Clear", "date_end": "1999-03-26T00:00:00", "date_prec": "1",
                         "high": "4", "low": "1", "where_prec": "2"}
        assert set(rows["dataset"]) == {"UCDP GED"} and set(rows["licence"]) == {"CC BY 4.0"}

        ucdp_api.versions["26.1"][1] = ucdp_event(102, best=7, high=9)
        second = sync_ucdp(settings, store, version="26.1", env=env, pagesize=2)
        assert second.line() == "fetched=5 new=0 updated=1 deleted=0 rejected=0"
        fat = stored_columns(store, ["event_id_cnty", "fatalities"]).set_index("event_id_cnty")["fatalities"]
        assert int(fat["UCDP-102"]) == 7
    finally:
        store.close()


def test_ucdp_refuses_bad_token_and_foreign_next_page(tmp_path, ucdp_api):
    settings = _settings(tmp_path, ucdp_url=ucdp_api.url)
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(CredentialsError, match="HTTP 401"):
            sync_ucdp(settings, store, env={"UCDP_TOKEN": "wrong"})
        with pytest.raises(CredentialsError, match="UCDP_TOKEN"):
            sync_ucdp(settings, store, env={})
        ucdp_api.next_host = "http://localhost:1"
        with pytest.raises(SourceError, match="NextPageUrl"):
            sync_ucdp(settings, store, env={"UCDP_TOKEN": ucdp_api.token}, pagesize=2)
        assert store.count() == 0
    finally:
        store.close()


# --- the command line ------------------------------------------------------------------------------


def _cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONFLICTMAP_", "ACLED_", "UCDP_"))}
    env.update({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_DB": f"sqlite:///{tmp_path / 'db.sqlite'}",
                "HOME": str(tmp_path), "PYTHONPATH": str(REPO)})
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geodata", "sync", *args], check=False, env=env, cwd=tmp_cwd(env),
                          capture_output=True, text=True, timeout=timeout)


def tmp_cwd(env: dict[str, str]) -> str:
    return env["HOME"]  # no .streamlit/secrets.toml of the repo is read


def test_cli_acled_last_line_and_exit_codes(tmp_path, acled_api):
    env = _cli_env(tmp_path, CONFLICTMAP_ACLED_URL=acled_api.url, **ACLED_ENV)
    done = _run(["acled", "--since", "2024-01-01"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "fetched=7 new=6 updated=0 deleted=0 rejected=1"
    assert "ACLED: events page 1" in done.stderr and PASSWORD not in done.stderr + done.stdout
    assert acled_api.requests_to("/api/acled/read")[0].query["event_date_where"] == "BETWEEN"

    acled_api.events["SYN1"] = acled_event(1, timestamp=T0 + 9, fatalities=3)
    again = _run(["acled"], env)
    assert again.stdout.strip().splitlines()[-1] == "fetched=7 new=0 updated=1 deleted=0 rejected=1"

    bad = _run(["acled"], {**_cli_env(tmp_path / "b", CONFLICTMAP_ACLED_URL=acled_api.url), "ACLED_USERNAME": USER,
                           "ACLED_PASSWORD": "nope-secret"})
    assert bad.returncode == 2 and bad.stdout == ""
    lines = bad.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ACLED refused the username or password") and "nope-secret" not in bad.stderr
    assert "Traceback" not in bad.stderr


def test_cli_unreachable_and_malformed_exit_2(tmp_path, acled_api):
    down = _run(["acled"], _cli_env(tmp_path, CONFLICTMAP_ACLED_URL="http://127.0.0.1:9", **ACLED_ENV))
    assert down.returncode == 2 and down.stderr.strip().splitlines()[-1].startswith("error: cannot reach ACLED")
    acled_api.script = [Misbehave("/api/acled/read", "malformed")]
    bad = _run(["acled"], _cli_env(tmp_path / "m", CONFLICTMAP_ACLED_URL=acled_api.url, **ACLED_ENV))
    assert bad.returncode == 2 and "not JSON" in bad.stderr.strip().splitlines()[-1]
    assert "Traceback" not in down.stderr + bad.stderr


def test_cli_ucdp_last_line(tmp_path, ucdp_api):
    env = _cli_env(tmp_path, CONFLICTMAP_UCDP_URL=ucdp_api.url, UCDP_TOKEN=ucdp_api.token)
    done = _run(["ucdp", "--version", "26.1", "--country", "345"], env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "fetched=5 new=5 updated=0 deleted=0 rejected=0"
    wrong = _run(["ucdp", "--version", "25.9"], env)
    assert wrong.returncode == 2 and "HTTP 404" in wrong.stderr


def test_killed_sync_leaves_the_store_as_it_was(tmp_path, acled_api):
    env = _cli_env(tmp_path, CONFLICTMAP_ACLED_URL=acled_api.url, **ACLED_ENV)
    assert _run(["acled"], env).returncode == 0
    store = open_store(env["CONFLICTMAP_DB"])
    before = stored_columns(store, ["event_id_cnty", "notes", "timestamp"])
    state = read_sync_state(store)
    store.close()
    acled_api.events["SYN1"] = acled_event(1, timestamp=T0 + 9, notes="Synthetic changed.")
    acled_api.events["SYN9"] = acled_event(9, timestamp=T0 + 9)
    acled_api.script = [Misbehave("/api/deleted/read", "hang")]    # events pulled; stuck before the write
    proc = subprocess.Popen([sys.executable, "-m", "geodata", "sync", "acled"], env=env, cwd=tmp_cwd(env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert acled_api.hanging.wait(30), "the sync never reached the deleted list"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        acled_api.release.set()
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    store = open_store(env["CONFLICTMAP_DB"])
    try:
        assert stored_columns(store, ["event_id_cnty", "notes", "timestamp"]).equals(before)
        assert read_sync_state(store).equals(state)
    finally:
        store.close()
    acled_api.script = []
    assert _run(["acled"], env).stdout.strip().splitlines()[-1] == "fetched=8 new=1 updated=1 deleted=0 rejected=1"


def test_every_and_since_are_checked():
    from geodata._errors import InputError
    from geodata.sync.cli import parse_every, parse_since

    assert parse_every("6h") == 21600 and parse_every("30m") == 1800 and parse_every("1d") == 86400
    for bad in ("6", "h", "10s", "6 hours"):
        with pytest.raises(InputError):
            parse_every(bad)
    with pytest.raises(InputError, match="YYYY-MM-DD"):
        parse_since("01/02/2024")


def test_session_has_bounded_retries():
    s = make_session()
    retry = s.get_adapter("https://acleddata.com").max_retries
    assert retry.total == 3 and 429 in retry.status_forcelist and retry.respect_retry_after_header
    assert retry.retry_after_max <= 300


def test_synced_acled_rows_leave_only_within_the_terms(clean_env, tmp_path, acled_api):
    """End to end: sync into the configured store, then `python -m geodata export` and `python -m dashboard
    export-html` withhold notes and actors of ACLED rows unless --full-rows, which the file then states."""
    from dashboard.cli import main as dashboard_main
    from geodata.cli import main as geodata_main

    db = f"sqlite:///{tmp_path / 'var' / 'incidents.sqlite'}"
    clean_env.setenv("CONFLICTMAP_DB", db)
    store = open_store(db)
    try:
        sync_acled(_settings(tmp_path, acled_api.url), store, env=ACLED_ENV)
    finally:
        store.close()
    out = tmp_path / "out.csv"
    assert geodata_main(["export", "--format", "csv", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "SYN1" in text and "Synthetic test event 1." not in text and "Synthetic Armed Group" not in text
    assert "Armed Conflict Location & Event Data (ACLED)" in text
    assert geodata_main(["export", "--format", "csv", "--out", str(out), "--full-rows"]) == 0
    text = out.read_text(encoding="utf-8-sig")
    assert "Synthetic test event 1." in text and "INTERNAL USE ONLY" in text
    html = tmp_path / "map.html"
    assert dashboard_main(["export-html", "--out", str(html), "--no-boundaries"]) == 0
    page = html.read_text(encoding="utf-8")
    assert "Synthetic Armed Group" not in page and "Armed Conflict Location &amp; Event Data" in page


def test_cli_every_repeats_and_reports_each_round(tmp_path, acled_api):
    env = _cli_env(tmp_path, CONFLICTMAP_ACLED_URL=acled_api.url, **ACLED_ENV)
    proc = subprocess.Popen([sys.executable, "-m", "geodata", "sync", "acled", "--every", "1m"], env=env,
                            cwd=tmp_cwd(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    err: list[str] = []
    try:
        first = proc.stdout.readline().strip()
        while not err or not err[-1].startswith("next sync"):  # the loop now sleeps until the next round
            line = proc.stderr.readline()
            if not line:
                break
            err.append(line.strip())
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert first == "fetched=7 new=6 updated=0 deleted=0 rejected=1"
    assert err[-1] == "next sync in 1m (Ctrl-C to stop)"
    assert any(e.startswith("ACLED: record 7 rejected: event_type: unknown event type 'Picnic'") for e in err)
