"""Offline geography data, one name per place per language, and honest uncertainty wording."""

from __future__ import annotations

import datetime as dt

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point

from geodata.geo.placenames import display_name, matches, spellings
from geodata.geo.places import (
    BUNDLED_PLACES,
    PlaceDataError,
    load_neighbours,
    load_places,
    load_towns,
)
from geodata.geo.placenames import map_labels
from geodata.model.precision import (
    date_text,
    location_precision_text,
    plural,
    proximity_classes,
    proximity_counts,
    proximity_text,
    uncertainty_areas,
    uncertainty_radius_m,
)
from layers.municipalities import class_breaks, class_colors, legend_items

NORTH_PLACES = {"Banjska", "Jarinje", "Jarinje crossing", "Brnjak", "Brnjak crossing", "Gazivoda Lake", "Lešak",
                "Ibar bridge (Mitrovica)"}


def test_gazetteer_is_sourced_and_trilingual():
    places = load_places()
    assert NORTH_PLACES <= set(places["name_en"])
    assert places["source_url"].str.startswith("https://").all()
    assert (places[["name_en", "name_sq", "name_sr"]] != "").all().all()
    brnjak = places.set_index("name_en").loc["Brnjak"]
    assert (brnjak["name_sq"], brnjak["name_sr"]) == ("Bërnjak", "Brnjak")
    # every place lies in the north (lat 42.85–43.3, lon 20.5–20.9)
    assert places["latitude"].between(42.85, 43.3).all() and places["longitude"].between(20.5, 20.9).all()


def test_bad_gazetteer_row_is_reported_with_line(tmp_path):
    bad = tmp_path / "places.csv"
    text = BUNDLED_PLACES.read_text(encoding="utf-8").splitlines()
    text[3] = text[3].replace("https://", "javascript://")
    bad.write_text("\n".join(text), encoding="utf-8")
    with pytest.raises(PlaceDataError, match="line 4: source_url must be http"):
        load_places(bad)


def test_towns_and_neighbours_cover_the_region():
    towns = load_towns()
    assert {"XK", "RS", "ME", "AL", "MK"} <= set(towns["country"])
    assert {"Novi Pazar", "Pristina", "Skopje"} <= set(towns["name"])
    assert towns["source_url"].str.startswith("https://www.geonames.org/").all()
    names = set(load_neighbours()["name"])
    assert {"Kosovo", "Serbia", "Montenegro", "Albania", "North Macedonia"} <= names


def test_labels_put_the_north_first_and_do_not_repeat_towns():
    labels = map_labels("en")
    assert list(labels["name"][:4]) == sorted(["Leposavić", "North Mitrovica", "Zubin Potok", "Zvečan"])
    assert (labels["name"] == "Zvečan").sum() == 1  # GeoNames' Zvečan is the gazetteer's, not a second label
    assert "Bërnjak" in set(map_labels("sq")["name"])


@pytest.mark.parametrize("spelling", ["Zvecan", "Zveçan", "Zvečan", "Звечан", "Municipality of Zveçan", "ZVECANI"])
def test_any_spelling_resolves_to_one_display_name(spelling):
    assert display_name(spelling) == "Zvečan"
    assert display_name(spelling, "sq") == "Zveçan"
    assert display_name(spelling, "sr") == "Zvečan"
    assert matches("zvec", spelling) and matches("Звечан", spelling)


def test_other_names_stay_searchable_and_unknown_names_pass_through():
    assert {"Leposaviq", "Leposavić", "Leposavic"} <= set(spellings("Leposavic"))
    assert display_name("Mitrovicë e Veriut") == "North Mitrovica"
    assert display_name("Bërnjak") == "Brnjak" and matches("bernjak", "Brnjak")
    assert display_name("Rudare") == "Rudare"  # not in the gazetteer: shown as reported
    assert display_name(None) == "" and spellings("") == ()


def test_precision_wording():
    assert location_precision_text(1) == "location exact (named place)"
    assert location_precision_text("2") == "location approximate (town level)"
    assert location_precision_text(3) == "location approximate (region level)"
    assert date_text("2025-03-07", 2) == "week of 2025-03-03"
    assert date_text(dt.date(2024, 11, 30), 3) == "month of November 2024"
    assert date_text("2023-09-24", 1) == "2023-09-24" and date_text(None) == ""
    assert plural(1, "day") == "day" and plural(2, "day") == "days" and plural(0, "fatality", "fatalities") == "fatalities"


def test_uncertainty_areas_are_metric_circles():
    inc = gpd.GeoDataFrame({"geo_precision": [1, 2, 3]}, geometry=[Point(20.8, 42.9)] * 3, crs="EPSG:4326")
    areas = uncertainty_areas(inc)
    assert list(areas.index) == [1, 2]
    radius_km = (areas.to_crs("EPSG:32634").area / 3.14159) ** 0.5 / 1000
    assert radius_km.round(1).tolist() == [uncertainty_radius_m(2) / 1000, uncertainty_radius_m(3) / 1000]


def test_within_and_possibly_within_are_told_apart():
    road = gpd.GeoDataFrame(geometry=[LineString([(20.80, 42.80), (20.80, 43.00)])], crs="EPSG:4326")
    # 1 km east (exact), 4 km east (town level: a 5 km area reaches the 2 km buffer), 4 km east exact,
    # 40 km east (region level: 25 km area does not reach)
    km = 1 / (111.32 * 0.733)
    inc = gpd.GeoDataFrame({"geo_precision": [1, 2, 1, 3]},
                           geometry=[Point(20.80 + km, 42.9), Point(20.80 + 4 * km, 42.9),
                                     Point(20.80 + 4 * km, 42.9), Point(20.80 + 40 * km, 42.9)], crs="EPSG:4326")
    classes = proximity_classes(inc, road, 2)
    assert classes.tolist() == ["within", "possibly", "outside", "outside"]
    assert proximity_counts(classes) == {"within": 1, "possibly": 1}
    assert proximity_text(classes, 2) == "1 incident within 2 km, 1 more possibly within 2 km (approximate locations)"
    with pytest.raises(ValueError):
        proximity_classes(inc, road, -1)


@pytest.mark.parametrize("values,breaks", [([0, 1, 1, 2], [1, 2]), ([0, 3], [3]), ([1, 5, 9, 14], [1, 5, 9, 14]),
                                           ([1, 2, 3, 4, 5, 6, 7, 8], [3, 5, 7, 8]), ([0, 0], [1])])
def test_municipality_classes_suit_small_counts(values, breaks):
    got = class_breaks(pd.Series(values))
    assert got == breaks
    assert all(isinstance(b, int) for b in got)
    labels = [label for _, label in legend_items(got, "incidents")]
    assert labels[0] == "0 incidents" and len(set(class_colors(got))) == len(got) + 1


def test_integer_ticks_and_count_labels():
    from geodata.query.analysis import count_label, integer_ticks

    assert integer_ticks(3) == [0, 1, 2, 3]
    assert integer_ticks(0) == [0, 1]
    assert integer_ticks(17) == [0, 5, 10, 15, 20]
    assert integer_ticks(2.5) == [0, 1, 2, 3]
    assert all(isinstance(t, int) for t in integer_ticks(123456))
    assert len(integer_ticks(123456)) <= 6
    assert count_label(1, "day") == "1 day" and count_label(1250, "incident") == "1,250 incidents"


def test_precision_columns_for_tables_and_exports():
    from geodata.model.precision import precision_columns

    df = pd.DataFrame({"event_date": ["2025-03-07", "2023-09-24"], "time_precision": [2, 1], "geo_precision": [3, 1]})
    out = precision_columns(df)
    assert out["date_as_known"].tolist() == ["week of 2025-03-03", "2023-09-24"]
    assert out["location_precision"].tolist() == ["location approximate (region level)", "location exact (named place)"]
