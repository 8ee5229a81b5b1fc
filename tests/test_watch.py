"""Watch areas and digests (issue 20): the change log, digests, levels, Atom, mail, the command line."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from geodata.cli import main as cli_main
from geodata.model.schema import ACLED_COLUMNS
from geodata.service.incidents import IncidentService
from geodata.settings import get_settings
from geodata.store import open_store
from geodata.service.watch import ATOM_NS, WatchError, change_levels, render, render_text

#: The watched square (lon 20.70..20.90, lat 42.85..42.95), north of Mitrovica.
SQUARE = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {}, "geometry": {
    "type": "Polygon", "coordinates": [[[20.7, 42.85], [20.9, 42.85], [20.9, 42.95], [20.7, 42.95], [20.7, 42.85]]]}}]}
INSIDE = (42.9, 20.8)
OUTSIDE = (42.5, 21.2)


def acled_csv(path: Path, rows: list[dict]) -> Path:
    """A current-generation ACLED CSV of ``rows`` (cells that differ from a synthetic default)."""
    base = {c: "" for c in ACLED_COLUMNS}
    base.update({
        "event_date": "2026-03-20", "year": "2026", "time_precision": "1", "disorder_type": "Political violence",
        "event_type": "Protests", "sub_event_type": "Peaceful protest", "actor1": "Protesters (Kosovo)",
        "inter1": "Protesters", "interaction": "Protesters only", "iso": "0", "region": "Europe", "country": "Kosovo",
        "admin1": "Mitrovica", "admin2": "Zvečan", "location": "Synthetic place", "latitude": str(INSIDE[0]),
        "longitude": str(INSIDE[1]), "geo_precision": "1", "source": "Synthetic source", "source_scale": "National",
        "notes": "Synthetic test row, no real event.", "fatalities": "0", "timestamp": "1700000000",
    })
    pd.DataFrame([{**base, **r} for r in rows], columns=list(ACLED_COLUMNS)).to_csv(path, index=False)
    return path


def rows_at(prefix: str, points: list[tuple[float, float]]) -> list[dict]:
    return [{"event_id_cnty": f"{prefix}{i}", "latitude": repr(lat), "longitude": repr(lon)}
            for i, (lat, lon) in enumerate(points)]


def fixed(when: str):
    t = dt.datetime.fromisoformat(when)
    return lambda: t


@pytest.fixture
def square(tmp_path) -> Path:
    path = tmp_path / "square.geojson"
    path.write_text(json.dumps(SQUARE), encoding="utf-8")
    return path


def _service(url: str, tmp_path: Path) -> IncidentService:
    return IncidentService(get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_DB": url}))


@pytest.fixture
def svc(store_url, tmp_path, curation_env):
    with _service(store_url, tmp_path) as s:
        yield s


@pytest.fixture
def lite(tmp_path, curation_env):
    with _service(f"sqlite:///{tmp_path / 'w.sqlite'}", tmp_path) as s:
        yield s


def _log(svc: IncidentService) -> list[tuple]:
    return svc.store._rows("SELECT kind, change, upload_id, event_id_cnty, n FROM change_log ORDER BY id")  # type: ignore[attr-defined]


# -- the change log (both back-ends) -------------------------------------------------------------------
def test_change_log_one_entry_per_upload_row_entries_for_undo_and_status(svc, tmp_path):
    from geodata.store.curation_sql import open_curation

    before = len(_log(svc))
    out = svc.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("W", [INSIDE] * 50)))
    log = _log(svc)[before:]
    assert [(k, c, u) for k, c, u, _e, _n in log] == [("upload", "new", out.report.upload_id)]
    assert log[0][4] == int(svc.store.data_version().rsplit(":", 1)[1])  # the data version it made
    open_curation(svc.store).change_status("W3", "retracted", "tester", "the outlet withdrew it")
    assert _log(svc)[-1][:4] == ("status", "changed", None, "W3")
    svc.undo(out.report.upload_id)
    removed = [e for e in _log(svc) if e[0] == "undo"]
    assert sorted(e[3] for e in removed) == sorted(f"W{i}" for i in range(50))
    assert {e[1] for e in removed} == {"removed"}


def test_digest_new_changed_removed_and_mark_read(svc, tmp_path, square):
    area = svc.watch_add("Square", "area", str(square), owner="ana")
    up = svc.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("S", [INSIDE, INSIDE, OUTSIDE]))).report.upload_id
    d = svc.digest(svc.watch_get("Square", "ana"))
    assert [(i["event_id_cnty"], i["change"]) for i in d.items] == [("S0", "new"), ("S1", "new")]
    area = svc.mark_read(d)
    assert svc.digest(area).items == []
    from geodata.store.curation_sql import open_curation

    open_curation(svc.store).change_status("S1", "disputed", "tester", "a second report conflicts")
    svc.undo(up)
    d2 = svc.digest(area)
    assert {(i["event_id_cnty"], i["change"]) for i in d2.items} == {("S0", "removed"), ("S1", "removed")}
    assert "undone" in d2.items[0]["what_changed"]


def test_added_and_removed_in_one_window_is_not_listed(lite, tmp_path, square):
    area = lite.watch_add("Square", "area", str(square), owner="ana")
    up = lite.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("T", [INSIDE, INSIDE]))).report.upload_id
    lite.undo(up)
    assert lite.digest(area).items == []


def test_status_change_is_listed_as_changed(lite, tmp_path, square):
    from geodata.store.curation_sql import open_curation

    lite.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("U", [INSIDE])))
    area = lite.watch_add("Square", "area", str(square), owner="ana", min_status="reported")
    open_curation(lite.store).change_status("U0", "retracted", "tester", "withdrawn by the outlet")
    items = lite.digest(area).items
    assert [(i["event_id_cnty"], i["change"], i["verification_status"]) for i in items] == [("U0", "changed", "retracted")]
    assert "reported → retracted" in items[0]["what_changed"]


def test_points_on_the_boundary_are_inside(lite, tmp_path, square):
    area = lite.watch_add("Square", "area", str(square), owner="ana")
    edge = [(42.9, 20.9), (42.85, 20.8), (42.95, 20.7), (42.9, 20.900001)]
    lite.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("B", edge)))
    assert [i["event_id_cnty"] for i in lite.digest(area).items] == ["B0", "B1", "B2"]


def test_site_buffer_is_metric_and_filters_apply(lite, tmp_path):
    # Banjska Monastery is at 42.97139 N, 20.78250 E (geodata/data/sites.csv): 0.01° of latitude ≈ 1.1 km.
    area = lite.watch_add("Banjska", "site", "banjska monastery", 2, owner="ana", types=["Riots"])
    assert area.ref == "Banjska Monastery"
    rows = [{"event_id_cnty": "N0", "latitude": "42.9884", "longitude": "20.7825", "event_type": "Riots",
             "sub_event_type": "Violent demonstration"},
            {"event_id_cnty": "N1", "latitude": "42.9994", "longitude": "20.7825", "event_type": "Riots",
             "sub_event_type": "Violent demonstration"},
            {"event_id_cnty": "N2", "latitude": "42.9714", "longitude": "20.7825"}]
    lite.ingest_file(acled_csv(tmp_path / "a.csv", rows))
    assert [i["event_id_cnty"] for i in lite.digest(area).items] == ["N0"]  # 1.9 km in, 3.1 km out, a protest


def test_bad_requests_are_watch_errors(lite, square):
    lite.watch_add("Square", "area", str(square), owner="ana")
    with pytest.raises(WatchError, match="already"):
        lite.watch_add("Square", "area", str(square), owner="ana")
    lite.watch_add("Square", "area", str(square), owner="ben")  # names are per owner
    with pytest.raises(WatchError, match="--km"):
        lite.watch_add("R", "site", "Banjska Monastery", None, owner="ana")
    with pytest.raises(WatchError, match="no site"):
        lite.watch_add("R", "site", "Atlantis", 1, owner="ana")
    with pytest.raises(WatchError, match="status"):
        lite.watch_add("R", "area", str(square), owner="ana", min_status="gospel")
    lite.watch_remove("Square", "ana")
    assert [a.owner for a in lite.watch_list()] == ["ben"]
    with pytest.raises(WatchError):
        lite.watch_remove("Square", "ana")


# -- levels and the clock ---------------------------------------------------------------------------------
def _dates(today: dt.date, per_week: dict[int, int]) -> list[dt.date]:
    return [today - dt.timedelta(days=7 * k + 1 if k else 0) for k, n in per_week.items() for _ in range(n)]


@pytest.mark.parametrize(("weeks", "level4"), [
    ({0: 6, 1: 4, 2: 4, 3: 4, 4: 4}, "large increase"),      # +50 %
    ({0: 12, 1: 10, 2: 10, 3: 10, 4: 10}, "moderate increase"),  # +20 %
    ({0: 10, 1: 10, 2: 10, 3: 10, 4: 10}, "limited"),
    ({0: 7, 1: 10, 2: 10, 3: 10, 4: 10}, "large decrease"),  # −30 %
    ({0: 5, 1: 1, 2: 1}, "limited"),                          # low counts: average 0.5, 5 this week
    ({0: 6, 1: 1, 2: 1}, "large increase"),                   # 6 this week is past the guard
])
def test_trendfinder_levels(weeks, level4):
    today = dt.date(2026, 3, 29)
    assert change_levels(_dates(today, weeks), today)["vs_4_weeks"]["level"] == level4


def test_highest_in_months():
    today = dt.date(2026, 6, 1)
    assert change_levels(_dates(today, {0: 9, 30: 8}), today)["highest_in_months"] == "record"
    assert change_levels(_dates(today, {0: 9, 20: 10, 30: 12}), today)["highest_in_months"] == 4
    assert change_levels(_dates(today, {0: 3, 1: 3}), today)["highest_in_months"] is None


@pytest.mark.parametrize(("utc", "local_day", "zone"), [
    ("2026-03-28T23:30:00+00:00", "2026-03-29", "CET (UTC+0100)"),    # just before spring forward
    ("2026-03-29T01:30:00+00:00", "2026-03-29", "CEST (UTC+0200)"),   # just after it
    ("2026-10-24T22:30:00+00:00", "2026-10-25", "CEST (UTC+0200)"),   # the night clocks go back
    ("2026-10-25T01:30:00+00:00", "2026-10-25", "CET (UTC+0100)"),
])
def test_clock_weeks_and_times_are_belgrade_local(lite, tmp_path, square, utc, local_day, zone):
    area = lite.watch_add("Square", "area", str(square), owner="ana")
    lite.ingest_file(acled_csv(tmp_path / "a.csv", [{"event_id_cnty": "D0", "event_date": local_day}]))
    d = lite.digest(area, None, fixed(utc))
    assert d.levels["week"][1] == local_day and d.levels["this_week"] == 1  # the UTC date may be the day before
    assert f"to {local_day} {(dt.datetime.fromisoformat(utc) + dt.timedelta(hours=int(zone[-4]))).strftime('%H:%M')} {zone}" \
        in render_text(d)


# -- formats ---------------------------------------------------------------------------------------------
def test_json_shape_and_atom_ids_stable_across_runs(lite, tmp_path, square):
    area = lite.watch_add("Square", "area", str(square), owner="ana")
    lite.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("J", [INSIDE, INSIDE])))
    d = lite.digest(area)
    obj = json.loads(render(d, "json"))
    assert set(obj) == {"area", "since", "until", "items", "levels"} and obj["area"] == "Square"
    assert set(obj["items"][0]) == {"event_id_cnty", "change", "event_date", "event_type", "location", "fatalities",
                                    "verification_status", "what_changed"}
    feeds = [ET.fromstring(render(lite.digest(area, None, fixed(t)), "atom"))
             for t in ("2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00")]
    ids = [[e.findtext(f"{{{ATOM_NS}}}id") for e in f.findall(f"{{{ATOM_NS}}}entry")] for f in feeds]
    assert len(ids[0]) == 2 and ids[0] == ids[1] and len(set(ids[0])) == 2
    titles = [e.findtext(f"{{{ATOM_NS}}}title") for e in feeds[0].findall(f"{{{ATOM_NS}}}entry")]
    assert all(("J0" in t or "J1" in t) for t in titles)
    assert "ACLED Terms of Use" in (feeds[0].findtext(f"{{{ATOM_NS}}}rights") or "")  # the rows came as ACLED data
    assert "J0" in render_text(d) and "acleddata.com" in render_text(d)


# -- command line and mail -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_watch_digest_and_email(tmp_path, clean_env, square, capsys):
    from aiosmtpd.controller import Controller

    db = f"sqlite:///{tmp_path / 'c.sqlite'}"
    clean_env.setenv("CONFLICTMAP_DB", db)
    assert cli_main(["watch", "add", "Sq", "--area", str(square), "--owner", "ana"]) == 0
    assert cli_main(["watch", "add", "Sq", "--area", str(square), "--owner", "ana"]) == 2
    assert cli_main(["watch", "list", "--owner", "ana"]) == 0
    assert "Sq" in capsys.readouterr().out
    with _service(db, tmp_path) as s:
        s.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("M", [INSIDE])))

    class Inbox:
        def __init__(self) -> None:
            self.mail: list[bytes] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            self.mail.append(envelope.content)
            return "250 OK"

    inbox = Inbox()
    port = _free_port()
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        clean_env.setenv("CONFLICTMAP_SMTP_URL", f"smtp://127.0.0.1:{port}")
        assert cli_main(["digest", "--all", "--owner", "ana", "--email", "monitor@example.org", "--mark-read"]) == 0
    finally:
        ctl.stop()
    assert len(inbox.mail) == 1 and b"M0" in inbox.mail[0] and b"Data licences" in inbox.mail[0]
    capsys.readouterr()
    assert cli_main(["digest", "Sq", "--owner", "ana", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["items"] == []  # read already
    assert cli_main(["digest", "Sq", "--owner", "ana", "--since", "2000-01-01", "--format", "json",
                     "--out", str(tmp_path / "d.json")]) == 0
    ids = [i["event_id_cnty"] for i in json.loads((tmp_path / "d.json").read_text())["items"]]
    assert "M0" in ids and any(i.startswith("CM-") for i in ids)  # since 2000: the bundled data arrived too
    assert cli_main(["digest", "Nope", "--owner", "ana"]) == 2
    assert "error:" in capsys.readouterr().err
    assert cli_main(["watch", "remove", "Sq", "--owner", "ana"]) == 0
    with open_store(db) as store:
        assert store.get_meta("store_id")


def test_email_without_server_is_one_line(tmp_path, clean_env, square, capsys):
    clean_env.setenv("CONFLICTMAP_DB", f"sqlite:///{tmp_path / 'c.sqlite'}")
    assert cli_main(["watch", "add", "Sq", "--area", str(square), "--owner", "ana"]) == 0
    assert cli_main(["digest", "Sq", "--owner", "ana", "--email", "a@example.org"]) == 2
    err = capsys.readouterr().err
    assert "CONFLICTMAP_SMTP_URL" in err and "Traceback" not in err


# -- properties (hypothesis) -----------------------------------------------------------------------------
_EXAMPLE = itertools.count()
_POINTS = st.sampled_from([INSIDE, OUTSIDE, (42.95, 20.8), (42.86, 20.71)])


@hsettings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(_POINTS, min_size=1, max_size=4), min_size=1, max_size=3),
       undo=st.lists(st.booleans(), min_size=3, max_size=3), mark_between=st.booleans())
def test_digest_properties(lite, tmp_path, square, batches, undo, mark_between):
    name = f"P{next(_EXAMPLE)}"  # a fresh area (and fresh incident ids) per example in the same store
    area = lite.watch_add(name, "area", str(square), owner="prop")
    added: list[tuple[int, list[str]]] = []
    for b, points in enumerate(batches):
        prefix = f"{name}-{b}-"
        up = lite.ingest_file(acled_csv(tmp_path / f"{name}{b}.csv", rows_at(prefix, points))).report.upload_id
        inside = [f"{prefix}{i}" for i, p in enumerate(points) if p != OUTSIDE]
        added.append((up, inside))
    if mark_between:
        area = lite.mark_read(lite.digest(area))
        for (up, _inside), u in zip(added, undo):
            if u:
                lite.undo(up)
        d = lite.digest(area)
        ids = [i["event_id_cnty"] for i in d.items]
        assert len(ids) == len(set(ids))  # at most once
        # an undo lists exactly what the upload added (in the area) as removed
        expect = sorted(e for (up, inside), u in zip(added, undo) if u for e in inside)
        assert sorted(i["event_id_cnty"] for i in d.items if i["change"] == "removed") == expect
        assert all(i["change"] == "removed" for i in d.items)
    else:
        d = lite.digest(area)
        ids = [i["event_id_cnty"] for i in d.items]
        assert len(ids) == len(set(ids))
        assert sorted(ids) == sorted(e for _up, inside in added for e in inside)
    lite.mark_read(d)
    assert lite.digest(lite.watch_get(name, "prop")).items == []  # a rerun after --mark-read lists nothing


def test_acled_sync_correction_and_deletion_in_the_digest(svc, tmp_path, square):
    from geodata.sync.engine import sync_acled
    from tests.fake_apis import FakeAcled, acled_event

    api = FakeAcled([acled_event(i) for i in range(1, 4)]).start()
    try:
        settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_ACLED_URL": api.url})
        env = {"ACLED_USERNAME": "analyst@example.org", "ACLED_PASSWORD": "correct horse"}
        area = svc.watch_add("Square", "area", str(square), owner="ana")
        sync_acled(settings, svc.store, env=env)
        first = svc.digest(area)
        assert sorted((i["event_id_cnty"], i["change"]) for i in first.items) == [
            ("SYN1", "new"), ("SYN2", "new"), ("SYN3", "new")]
        area = svc.mark_read(first)
        api.events["SYN2"] = acled_event(2, timestamp=1_760_000_100, fatalities=1)
        api.events["SYN4"] = acled_event(4, timestamp=1_760_000_100)
        del api.events["SYN3"]
        api.deleted.append({"event_id_cnty": "SYN3", "deleted_timestamp": "1760000050"})
        sync_acled(settings, svc.store, env=env)
    finally:
        api.stop()
    items = {i["event_id_cnty"]: i for i in svc.digest(area).items}
    assert {k: v["change"] for k, v in items.items()} == {"SYN2": "changed", "SYN3": "removed", "SYN4": "new"}
    assert "fatalities" in items["SYN2"]["what_changed"] and items["SYN2"]["fatalities"] == 1
    assert "deleted by acled/Kosovo" in items["SYN3"]["what_changed"]
    # Undo of that sync: its new row is removed, the corrected and the deleted rows are back as they were.
    area = svc.mark_read(svc.digest(area))
    uploads = svc.uploads()
    svc.undo(int(uploads[uploads.columns[0]].max()))
    items = {i["event_id_cnty"]: i for i in svc.digest(area).items}
    assert {k: v["change"] for k, v in items.items()} == {"SYN2": "changed", "SYN3": "changed", "SYN4": "removed"}
    assert items["SYN2"]["fatalities"] == 0 and "undone" in items["SYN3"]["what_changed"]


def test_municipality_area_from_any_spelling(tmp_path, curation_env, adm2_path):
    settings = get_settings({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_BOUNDARIES": str(adm2_path),
                             "CONFLICTMAP_DB": f"sqlite:///{tmp_path / 'm.sqlite'}"})
    with IncidentService(settings) as s:
        area = s.watch_add("Zvečan", "municipality", "Zvečan", owner="ana")
        assert area.ref == "Zveçan"  # the boundary file's name
        # Zvečan town (42.9075 N, 20.8403 E) and Pristina (42.6629 N, 21.1655 E)
        s.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("Z", [(42.9075, 20.8403), (42.6629, 21.1655)])))
        assert [i["event_id_cnty"] for i in s.digest(area).items] == ["Z0"]


def test_merge_is_listed_as_changed(lite, tmp_path, square):
    from geodata.store.curation_sql import open_curation

    lite.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("G", [INSIDE, INSIDE])))
    area = lite.watch_add("Square", "area", str(square), owner="ana")
    open_curation(lite.store).decide("confirm", "G0", "G1", "tester", "the same clash reported twice")
    items = lite.digest(area).items
    assert [(i["event_id_cnty"], i["change"], i["what_changed"]) for i in items] == [("G1", "changed", "merged into G0")]


def test_conflictmap_command_offers_watch_and_digest():
    from geodata.cli.console import geodata_commands

    assert {"watch", "digest"} <= set(geodata_commands())


@given(lat=st.floats(42.85, 42.95), lon=st.floats(20.7, 20.9), side=st.sampled_from(["west", "east", "south", "north"]))
def test_boundary_points_are_inside_outside_points_are_not(lat, lon, side):
    from shapely.geometry import shape

    from geodata.service.watch import Filters, WatchArea, in_area

    area = WatchArea("o", "sq", "area", "sq.geojson", None, shape(SQUARE["features"][0]["geometry"]), Filters(), 0, "", "")
    on = {"west": (lat, 20.7), "east": (lat, 20.9), "south": (42.85, lon), "north": (42.95, lon)}[side]
    off = {"west": (lat, 20.6999), "east": (lat, 20.9001), "south": (42.8499, lon), "north": (42.9501, lon)}[side]
    rows = pd.DataFrame({"latitude": [on[0], off[0]], "longitude": [on[1], off[1]], "event_type": ["Protests"] * 2,
                         "actors": [""] * 2, "status": ["reported"] * 2})
    assert list(in_area(area, rows)) == [True, False]


def test_mail_login_with_credentials_from_streamlit_secrets(lite, tmp_path, square, monkeypatch):
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    logins: list[tuple[bytes, bytes]] = []
    mail: list[bytes] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret")

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            mail.append(envelope.content)
            return "250 OK"

    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_text(
        'CONFLICTMAP_SMTP_USER = "digest"\nCONFLICTMAP_SMTP_PASSWORD = "s3cret"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    port = _free_port()
    ctl = Controller(Inbox(), hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False)
    ctl.start()
    try:
        monkeypatch.setenv("CONFLICTMAP_SMTP_URL", f"smtp://127.0.0.1:{port}")
        area = lite.watch_add("Square", "area", str(square), owner="ana")
        lite.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("L", [INSIDE])))
        lite.send_digests([lite.digest(area)], "monitor@example.org")
    finally:
        ctl.stop()
    assert logins == [(b"digest", b"s3cret")]
    assert len(mail) == 1 and b"L0" in mail[0] and b"acleddata.com" in mail[0]


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_starttls_checks_the_certificate(tmp_path):
    import ssl

    from aiosmtpd.controller import Controller

    from geodata.service.watch import mail_message, send_mail
    from geodata._errors import OutputError

    cert, key = _self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    mail: list[bytes] = []

    class Inbox:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            mail.append(envelope.content)
            return "250 OK"

    port = _free_port()
    ctl = Controller(Inbox(), hostname="127.0.0.1", port=port, tls_context=server_tls, require_starttls=True)
    ctl.start()
    try:
        msg = mail_message([], "monitor@example.org", "conflictmap@localhost")
        with pytest.raises(OutputError, match="not sent"):  # not trusted: nothing is sent
            send_mail(msg, f"smtp://127.0.0.1:{port}?starttls=1", timeout=10)
        trusted = ssl.create_default_context(cafile=str(cert))
        send_mail(msg, f"smtp://127.0.0.1:{port}?starttls=1", timeout=10, tls=trusted)
    finally:
        ctl.stop()
    assert len(mail) == 1 and b"conflictmap digest" in mail[0]


def test_area_from_uploaded_geojson_bytes(lite, tmp_path):
    area = lite.watch_add("Up", "area", "square.geojson", owner="ana", data=json.dumps(SQUARE).encode())
    assert area.describe() == "polygon from square.geojson"
    lite.ingest_file(acled_csv(tmp_path / "a.csv", rows_at("K", [INSIDE, OUTSIDE])))
    assert [i["event_id_cnty"] for i in lite.digest(area).items] == ["K0"]
    with pytest.raises(WatchError, match="cannot read"):
        lite.watch_add("Bad", "area", "x.geojson", owner="ana", data=b"{not json")
    point = {"type": "Point", "coordinates": [20.8, 42.9]}
    with pytest.raises(WatchError, match="no polygon"):
        lite.watch_add("Pt", "area", "p.geojson", owner="ana", data=json.dumps(point).encode())


def test_a_digest_of_the_bundled_data_carries_its_verification_from_the_first_command(tmp_path, clean_env, capsys):
    """No dashboard and no curation command ran first: the store opened by `watch`/`digest` alone
    already holds the bundled verification (0024 and 0025 disputed, 0026 corroborated)."""
    clean_env.setenv("CONFLICTMAP_DATA_DIR", str(tmp_path / "var"))
    assert cli_main(["watch", "add", "Banjska", "--site", "Banjska Monastery", "--km", "3", "--owner", "ana"]) == 0
    capsys.readouterr()
    assert cli_main(["digest", "Banjska", "--owner", "ana", "--since", "2000-01-01", "--format", "json"]) == 0
    items = {i["event_id_cnty"]: i for i in json.loads(capsys.readouterr().out)["items"]}
    assert {k: v["verification_status"] for k, v in items.items()} == {
        "CM-XKX-0024": "disputed", "CM-XKX-0025": "disputed", "CM-XKX-0026": "corroborated", "CM-XKX-0037": "reported"}
    assert {v["change"] for v in items.values()} == {"new"}
