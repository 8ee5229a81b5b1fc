"""Cheap store queries behind the large-store filter choices, on SQLite and PostGIS."""

from __future__ import annotations

import pytest

from geodata.model.schema import INCIDENT_COLUMNS
from geodata.model.filters import actor_options
from geodata.ingest import ingest_file
from geodata.geo.municipalities import canonical_municipality
from geodata.store import open_store


@pytest.fixture
def store(store_url):
    s = open_store(store_url)
    yield s
    s.close()


def test_empty_store_has_no_facets(store):
    assert store.date_range() is None
    facets = store.facets()
    assert (facets.count, facets.first, facets.last, facets.actors, facets.municipalities) == (0, None, None, (), ())


def test_facets_equal_what_the_rows_say(store, corpus):
    ingest_file(corpus / "acled_current_bom.csv", store)
    rows = store.read(None, INCIDENT_COLUMNS, order=True)
    assert sorted(store.distinct_values("event_type")) == sorted(set(rows["event_type"]) - {""})
    facets = store.facets()
    assert facets.count == len(rows)
    assert (facets.first, facets.last) == (rows["event_date"].min().date(), rows["event_date"].max().date())
    assert list(facets.actors) == actor_options(rows)
    stated = {canonical_municipality(v) for v in rows["admin2"]} - {None}
    assert set(facets.municipalities) == stated


def test_only_incident_columns_can_be_named(store):
    with pytest.raises(ValueError, match="not an incident column"):
        store.distinct_values("actor1; DROP TABLE incidents")
