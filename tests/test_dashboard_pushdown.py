"""The dashboard with a store larger than CONFLICTMAP_PUSHDOWN_ROWS: selections come from the store.

The threshold is set low (the setting, not a million rows); every expected count is computed with
:func:`geodata.model.filters.apply_filters` over all incidents loaded in memory with the same settings.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

pytest.importorskip("streamlit")

from dashboard import state as S  # noqa: E402
from geodata.store.records import StoreFacets  # noqa: E402
from geodata.model.filters import FilterSpec, apply_filters  # noqa: E402
from geodata.ingest import ingest_file  # noqa: E402
from tests.bundle import load_bundle  # noqa: E402
from geodata.settings import get_settings  # noqa: E402
from geodata.store import open_store  # noqa: E402
from tests.acled_gen import write_acled_csv  # noqa: E402
from tests.test_dashboard_app import drawn_incidents, map_args, run_app, shown_count, table_rows  # noqa: E402

STORED = 300
#: The store also holds the bundled incidents (seeded as an upload): its count includes them.
IN_STORE = STORED + len(__import__("geodata.ingest.bundled", fromlist=["x"]).load_bundled_incidents())
LARGE_STORE = re.compile(r"Large store \(([\d,]+) incidents\)")


@pytest.fixture
def big_env(clean_env, tmp_path):
    """Bundled data plus 300 stored incidents, with the pushdown threshold at 50 incidents."""
    monkeypatch = clean_env
    monkeypatch.setenv("CONFLICTMAP_PUSHDOWN_ROWS", "50")
    store = open_store(get_settings().db_url)
    try:
        ingest_file(write_acled_csv(tmp_path / "synthetic.csv", STORED, seed=3), store)
    finally:
        store.close()
    return monkeypatch


@pytest.fixture
def full(big_env):
    """Every incident (bundled + stored) in memory: the reference the app must agree with."""
    return load_bundle(get_settings())


@pytest.fixture
def reads(big_env):
    """Every ``read`` spec the store is asked for during the test (``None`` = read everything)."""
    from geodata.store.sqlite import SQLiteStore

    calls: list = []
    original = SQLiteStore.read

    def spy(self, spec=None, *args, **kwargs):
        calls.append(None if spec is None or spec == FilterSpec() else spec)
        return original(self, spec, *args, **kwargs)

    big_env.setattr(SQLiteStore, "read", spy)
    return calls


def expected(full, spec: FilterSpec) -> int:
    return len(apply_filters(full.incidents, spec, full.routes, full.sites))


def large_store_caption(at) -> int | None:
    for cap in at.sidebar.caption:
        match = LARGE_STORE.search(cap.value)
        if match:
            return int(match.group(1).replace(",", ""))
    return None


def test_large_store_is_not_loaded_whole(full, reads):
    total = len(full.incidents)
    at = run_app()
    assert large_store_caption(at) == IN_STORE
    assert shown_count(at) == (total, total)
    assert drawn_incidents(map_args(at)) == total
    assert len(table_rows(at)) == total
    # Choices come from the store's SQL: its actors and its earliest date are offered.
    assert "Synthetic Actor A" in at.multiselect(key=S.W_ACTORS).options
    first = full.incidents["event_date"].min().date()
    assert at.date_input(key=S.W_DATES).value == (first, full.incidents["event_date"].max().date())


@pytest.mark.parametrize("key,value,spec", [
    (S.W_ACTORS, ["Synthetic Actor A"], FilterSpec(actors=("Synthetic Actor A",))),
    (S.W_TYPES, ["Protests"], FilterSpec(event_types=("Protests",))),
    (S.W_MUNIS, ["Zveçan"], FilterSpec(municipalities=("Zveçan",))),
], ids=["store-actor", "bundled-type", "municipality"])
def test_filters_are_answered_by_the_store(full, key, value, spec):
    total = len(full.incidents)
    want = expected(full, spec)
    assert 0 < want < total, "the case must restrict the data, or it proves nothing"
    at = run_app()
    if key == S.W_MUNIS:
        # From the store's admin2 ("Zveçan"), not from its rows; offered under its English display name.
        assert "Zvečan" in at.multiselect(key=key).options
    at.multiselect(key=key).set_value(value).run()
    assert not at.exception, [e.message for e in at.exception]
    assert shown_count(at) == (want, total)
    assert drawn_incidents(map_args(at)) == want
    assert len(table_rows(at)) == want


def test_big_selections_are_read_lean_and_still_shown(full, monkeypatch):
    import layers.incidents

    # Stored selections above 10 are clustered, above 200 aggregated: both lean reads run.
    monkeypatch.setattr(layers.incidents, "MARKER_LIMIT", 10)
    monkeypatch.setattr(layers.incidents, "CLUSTER_LIMIT", 200)
    total = len(full.incidents)
    at = run_app()
    assert shown_count(at) == (total, total)
    assert '"aggregate"' in map_args(at)["feature_group"]
    assert at.metric[0].value == f"{total:,}"
    assert len(table_rows(at)) == total
    at.switch_page("views/map.py")
    spec = FilterSpec(actors=("Synthetic Actor A",))
    want = expected(full, spec)
    assert 10 < want <= 200
    at.multiselect(key=S.W_ACTORS).set_value(["Synthetic Actor A"]).run()
    assert not at.exception, [e.message for e in at.exception]
    assert shown_count(at) == (want, total)
    args = map_args(at)
    assert '"cluster"' in args["feature_group"] and drawn_incidents(args) == want
    assert len(table_rows(at)) == want
    # A large store's table lists only the newest rows, and says so.
    monkeypatch.setattr(S, "PUSHDOWN_TABLE_ROWS", 25)
    at = run_app({"type": "Battles"})
    listed = table_rows(at)
    assert len(listed) == 25
    battles = full.incidents[full.incidents["event_type"] == "Battles"]
    newest = sorted(battles["event_date"].dt.date, reverse=True)[:25]
    assert list(listed["event_date"]) == newest
    assert any("newest 25 of" in c.value for c in at.caption)


def test_small_store_stays_in_memory(big_env, reads):
    big_env.setenv("CONFLICTMAP_PUSHDOWN_ROWS", str(IN_STORE))  # not more than the threshold
    total = len(load_bundle(get_settings()).incidents)
    reads.clear()
    at = run_app()
    assert large_store_caption(at) is None
    assert shown_count(at) == (total, total)
    assert None in reads  # the layers were loaded with every stored incident


def test_store_facets_widen_the_choices():
    base = S.FilterChoices(first=dt.date(2023, 1, 1), last=dt.date(2023, 12, 31), actors=("b",),
                           event_types=("Battles",), municipalities=("Zveçan",), routes=(), sites=(), total=5)
    facets = StoreFacets(count=7, first=dt.date(2020, 5, 1), last=dt.date(2023, 6, 1), actors=("A", "b"),
                         municipalities=("Leposaviq",))
    got = S.with_store_facets(base, facets, ["North Mitrovica"])
    assert (got.first, got.last, got.total) == (dt.date(2020, 5, 1), dt.date(2023, 12, 31), 12)
    assert got.actors == ("A", "b")
    assert got.municipalities == ("Leposaviq", "North Mitrovica", "Zveçan")
