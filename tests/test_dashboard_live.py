"""What a user changes shows at once (issue 9 item 5) and no user text becomes Markdown (issue 11.6),
through AppTest of the whole dashboard.

Counts are computed from the same data with :func:`geodata.model.filters.apply_filters`, never hard-coded.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")

from dashboard import state as S  # noqa: E402
from dashboard.text import md_escape  # noqa: E402
from geodata.model.filters import FilterSpec, apply_filters  # noqa: E402
from tests.bundle import load_bundle  # noqa: E402
from geodata.settings import get_settings  # noqa: E402
from tests.acled_gen import write_acled_csv  # noqa: E402
from tests.test_dashboard_app import drawn_incidents, goto, map_args, run_app, shown_count  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
LINK, IMAGE = "[Click here](http://x)", "![p](http://x)"
#: Elements whose text Streamlit renders as Markdown.
MARKDOWN_KINDS = ("markdown", "caption", "warning", "info", "error", "success", "title", "header", "subheader")


@pytest.fixture
def env(clean_env):
    return clean_env


def late_csv(path: Path, n: int, day: str, seed: int = 5) -> Path:
    """``n`` synthetic ACLED rows all dated ``day`` (after the bundled data), ids LATE…."""
    df = pd.read_csv(write_acled_csv(path, n, seed=seed), dtype=str, keep_default_na=False)
    df["event_date"] = day
    df["year"] = day[:4]
    df["event_id_cnty"] = [f"LATE{seed}-{i}" for i in range(n)]
    df.to_csv(path, index=False)
    return path


def ingest_elsewhere(path: Path, db_url: str | None = None) -> None:
    """Another process (the command line) ingests ``path``."""
    import os

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    if db_url:
        env["CONFLICTMAP_DB"] = db_url
    done = subprocess.run([sys.executable, "-m", "geodata", "ingest", str(path)], cwd=REPO, capture_output=True,
                          text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr


def markdown_values(at) -> list[str]:
    """The source text of every element that renders Markdown, anywhere on the page."""
    out = []
    for kind in MARKDOWN_KINDS:
        out += [str(e.value) for e in at.get(kind)]
    for block in (at.sidebar,):
        for kind in MARKDOWN_KINDS:
            out += [str(e.value) for e in block.get(kind)]
    return out


# ---------------------------------------------------------------- Markdown never from user text
def test_md_escape_shows_text_literally():
    wj = "\u2060"  # bare URLs and e-mail addresses are broken with an invisible word joiner (GFM autolinks)
    assert md_escape(LINK) == r"\[Click here\]\(http\:" + wj + r"\/\/x\)"
    assert md_escape("www.x.org a@b.org") == "www" + wj + r"\.x\.org a\@" + wj + r"b\.org"
    assert md_escape(IMAGE).startswith(r"\!\[p\]")
    assert md_escape("a\nb\tc") == "a b c"
    assert md_escape(":red[x] $x$ <b>") == r"\:red\[x\] \$x\$ \<b\>"
    assert md_escape(None) == ""


@pytest.mark.parametrize("key", ["q", "actor", "muni"])
def test_markdown_in_the_url_stays_text(env, key):
    at = run_app({key: [LINK, IMAGE]})
    for page in ("map", "analysis", "upload", "export"):
        goto(at, page)
        values = markdown_values(at)
        # A Markdown link or image, or a bare URL (GFM links those even when escaped).
        leaks = [v for v in values if re.search(r"(?<!\\)\]\((?:\\?h)", v) or re.search(r"(?<!\\)!\[", v)
                 or "://" in v.replace("\\", "")]
        assert not leaks, (page, leaks)
    if key == "q":  # the search text is shown (escaped) in the sidebar's description
        assert any(md_escape(LINK) in v for v in markdown_values(at))
    else:  # names not in the data: the notice names them, escaped
        goto(at, "map")
        notice = " ".join(w.value for w in at.warning)
        assert md_escape(LINK) in notice and md_escape(IMAGE) in notice


# ---------------------------------------------------------------- shared links and Reset
def test_link_with_missing_or_clamped_values_opens_with_a_notice(env):
    b = load_bundle(get_settings())
    last = b.incidents["event_date"].max().date()
    at = run_app({"actor": "Nobody at all", "type": "Parades", "start": "2099-01-01", "minfat": "many",
                  "map": "custom", "z": "99"})
    notice = next(w.value for w in at.warning if "This link asked for" in w.value)
    for text in ("Nobody at all", "Parades", "2099-01-01", "the minimum number of deaths", "the basemap",
                 "the map zoom"):
        assert md_escape(text) in notice, text
    assert md_escape(last.isoformat()) in notice  # where the start date was moved to
    # The notice goes once the user changes the view.
    at.multiselect(key=S.W_TYPES).set_value(["Protests"]).run()
    assert not [w for w in at.warning if "This link asked for" in w.value]


def test_clean_link_has_no_notice(env):
    at = run_app({"type": "Protests", "q": "police"})
    assert not at.warning


def test_reset_clears_every_filter_proximity_included(env):
    b = load_bundle(get_settings())
    route, site = b.routes["name"].iloc[0], b.sites["name_en"].iloc[0]
    at = run_app({"type": "Protests", "q": "a", "route": route, "site": site, "km": "3", "minfat": "1"})
    assert at.multiselect(key=S.W_ROUTES).value == [route] and at.slider(key=S.W_KM).value == 3.0
    next(b for b in at.sidebar.button if b.label == "Reset filters").click().run()
    total = len(b.incidents)
    assert shown_count(at) == (total, total)
    assert at.multiselect(key=S.W_ROUTES).value == [] and at.multiselect(key=S.W_SITES).value == []
    assert at.slider(key=S.W_KM).value == FilterSpec().near_km
    assert FilterSpec.from_mapping(dict(at.query_params)) == FilterSpec()
    assert "Proximity buffer" not in map_args(at)["layer_control"]


# ---------------------------------------------------------------- map centre and zoom in the URL
def test_map_centre_and_zoom_come_from_and_go_to_the_url(env):
    at = run_app({"c": "42.9,20.85", "z": "11"})
    args = map_args(at)
    # The map opens there (not fitted to the data).
    assert re.search(r"center: \[42\.9, 20\.85\]", args["script"]), args["script"][:600]
    assert re.search(r'"zoom": 11\b', args["script"]) and "fitBounds" not in args["script"]
    assert "fitBounds" in map_args(run_app())["script"]  # without a view in the link: fitted
    assert at.query_params["c"] in ("42.90000,20.85000", ["42.90000,20.85000"])
    # The browser reports a pan and zoom: the URL follows.
    at.session_state[args["key"]] = {"center": {"lat": 43.01, "lng": 20.7}, "zoom": 12, "last_object_clicked": None}
    at.run()
    assert not at.exception
    assert at.query_params["c"] in ("43.01000,20.70000", ["43.01000,20.70000"])
    assert at.query_params["z"] in ("12", ["12"])


# ---------------------------------------------------------------- new data shows at once
def test_another_process_ingests_and_the_next_rerun_shows_it(env, tmp_path):
    at = run_app({"type": "Battles"})
    before = load_bundle(get_settings())
    late = late_csv(tmp_path / "late.csv", 4, "2026-06-01")
    ingest_elsewhere(late)
    at.run()  # the next rerun, no Reload button
    assert not [b for b in at.sidebar.button if "Reload" in b.label]
    after = load_bundle(get_settings())
    assert len(after.incidents) == len(before.incidents) + 4
    want = len(apply_filters(after.incidents, FilterSpec(event_types=("Battles",)), after.routes, after.sites))
    assert shown_count(at) == (want, len(after.incidents))
    assert drawn_incidents(map_args(at)) == want
    # The date filter follows the data (the user never set it): no start/end in the URL.
    assert at.date_input(key=S.W_DATES).value[1] == dt.date(2026, 6, 1)
    assert "end" not in at.query_params and "start" not in at.query_params
    goto(at, "analysis")
    assert len(at.dataframe[-1].value) == want
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")


def test_a_date_the_user_set_is_kept_when_new_data_arrives(env, tmp_path):
    b = load_bundle(get_settings())
    first, last = b.incidents["event_date"].min().date(), b.incidents["event_date"].max().date()
    end = last - dt.timedelta(days=30)
    at = run_app()
    at.date_input(key=S.W_DATES).set_value((first, end)).run()
    ingest_elsewhere(late_csv(tmp_path / "late.csv", 3, "2026-06-01"))
    at.run()
    assert tuple(at.date_input(key=S.W_DATES).value) == (first, end)
    assert at.query_params["end"] in (end.isoformat(), [end.isoformat()])


def test_undo_elsewhere_removes_rows_and_choices(env, tmp_path):
    from geodata.store import open_store

    ingest_elsewhere(late_csv(tmp_path / "late.csv", 3, "2026-06-01"))
    at = run_app({"actor": "Synthetic Actor C"})
    assert shown_count(at)[0] == 3
    store = open_store(get_settings().db_url)
    try:
        store.undo_upload(int(store.list_uploads()["id"].max()))
    finally:
        store.close()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    total = len(load_bundle(get_settings()).incidents)
    assert shown_count(at) == (total, total)  # the actor is no longer offered: dropped, everything shows
    assert at.date_input(key=S.W_DATES).value[1] < dt.date(2026, 6, 1)


def test_upload_page_stores_shows_new_counts_and_undoes_with_confirmation(env, tmp_path):
    at = run_app()
    total = shown_count(at)[1]
    data = late_csv(tmp_path / "late.csv", 5, "2026-06-01").read_bytes()
    goto(at, "upload")
    at.get("file_uploader")[0].set_value(("late.csv", data, "text/csv")).run()
    assert not at.exception, [e.message for e in at.exception]
    next(b for b in at.button if b.key == "upload_store").click().run()
    assert not at.exception, [e.message for e in at.exception]
    # Right after storing: the sidebar and the notice count the new rows, Undo is offered.
    assert shown_count(at) == (total + 5, total + 5)
    success = at.success[0].value
    assert "5 new incidents" in success and f"{total + 5:,} of {total + 5:,}" in success
    undo = next(b for b in at.button if b.key == "upload_undo")
    undo.click().run()
    assert shown_count(at) == (total + 5, total + 5)  # nothing removed before the confirmation
    assert any("Remove the 5 incidents" in w.value for w in at.warning)
    next(b for b in at.button if b.key == "upload_undo_yes").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert shown_count(at) == (total, total)
    assert any("removed 5 incidents" in i.value for i in at.info)
    goto(at, "map")
    assert drawn_incidents(map_args(at)) == total


def test_upload_undo_can_be_cancelled(env, tmp_path):
    at = run_app()
    total = shown_count(at)[1]
    goto(at, "upload")
    at.get("file_uploader")[0].set_value(("late.csv", late_csv(tmp_path / "l.csv", 2, "2026-01-02").read_bytes(),
                                          "text/csv")).run()
    next(b for b in at.button if b.key == "upload_store").click().run()
    next(b for b in at.button if b.key == "upload_undo").click().run()
    next(b for b in at.button if b.key == "upload_undo_no").click().run()
    assert shown_count(at) == (total + 2, total + 2)
    assert [b for b in at.button if b.key == "upload_undo"]


# ---------------------------------------------------------------- serving address
def test_page_warns_when_open_to_the_network(env):
    from streamlit import config

    before = config.get_option("server.address")
    assert before == "127.0.0.1"  # .streamlit/config.toml: this machine only by default
    assert not [w for w in run_app().warning if "open to the network" in w.value]
    config.set_option("server.address", "0.0.0.0")
    try:
        closed = run_app()  # served to the network: sign-in is required, and not configured here
        env.setenv("CONFLICTMAP_AUTH", "none")  # said so: open, and the page warns
        at = run_app()
    finally:
        config.set_option("server.address", before)
    assert closed.title[0].value == "Sign-in is not configured" and not closed.warning
    assert any("open to the network without sign-in" in w.value for w in at.warning)


def _elements(node):
    """Every leaf element under ``node``, in page order."""
    for child in getattr(node, "children", {}).values():
        if getattr(child, "children", None):
            yield from _elements(child)
        else:
            yield child


def test_map_is_the_first_thing_on_the_page_and_taller_than_before(env):
    at = run_app()
    visible = [e for e in _elements(at.main) if not (e.type == "markdown" and e.value.startswith("<style>"))]
    assert visible[0].type == "component_instance"  # no title, notice or control above the map
    assert json.loads(visible[0].proto.json_args)["height"] > 650  # 650 px before


@pytest.mark.parametrize(("km", "shown"), [("30", 25.0), ("inf", 5.0), ("-5", 0.5), ("nan", 5.0)])
def test_link_with_an_impossible_distance_opens_with_a_notice(env, km, shown):
    """?km=30, inf, -5 (issue 18, row 6): clamped or dropped, named in the link notice, no traceback."""
    b = load_bundle(get_settings())
    route = str(b.routes["name"].iloc[0])
    at = run_app({"route": route, "km": km})
    assert not at.exception
    assert at.session_state[S.W_KM] == shown
    notice = next(w.value for w in at.warning if "This link asked for" in w.value)
    assert md_escape(km) in notice


def test_link_with_a_huge_minimum_fatalities_opens_with_a_notice(env):
    at = run_app({"minfat": "9223372036854775808"})
    assert not at.exception
    assert 0 < at.session_state[S.W_MINFAT] <= 10_000_000
    notice = next(w.value for w in at.warning if "This link asked for" in w.value)
    assert "9223372036854775808" in notice


def test_cli_refuses_a_huge_minimum_fatalities_in_one_message(tmp_path):
    p = subprocess.run([sys.executable, "-m", "geodata", "export", "--format", "csv", "--out", str(tmp_path / "x.csv"),
                        "--min-fatalities", "99999999999999999999"], cwd=Path(__file__).resolve().parents[1],
                       capture_output=True, text=True, timeout=120, env={"PATH": "/usr/bin:/bin",
                                                                         "CONFLICTMAP_DATA_DIR": str(tmp_path)})
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert "--min-fatalities: must be at most" in p.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "x.csv").exists()
