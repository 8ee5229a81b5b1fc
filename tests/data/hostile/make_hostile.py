"""Writes the hostile-input corpus (run once; the small files are committed). Every row is SYNTHETIC:
invented ids ("HOSTILE…"), actors and notes describing no real event. ``expected.json`` says what each
file must get: ``"exit": 2`` with a reason, or the lines and columns rejected and the warnings given.

Run: ``python tests/data/hostile/make_hostile.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
HEADER = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,"
          "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,"
          "admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,"
          "tags,timestamp")


def row(eid: str, date: str = "2023-09-24", year: str = "2023", tprec: str = "1", gprec: str = "1",
        fat: str = "0", ts: str = "1700000000", notes: str = "Synthetic note.", location: str = "Banjskë",
        lat: str = "42.96", lon: str = "20.78") -> str:
    """One synthetic ACLED-shaped row; each argument can carry a hostile value."""
    notes = notes.replace('"', '""')
    return (f'{eid},{date},{year},{tprec},Political violence,Battles,Armed clash,Synthetic Police Unit,,'
            f'State forces,Synthetic Armed Group,,Political militia,State forces-Political militia,,0,Europe,Kosovo,'
            f'Mitrovica,Zvečan,,{location},{lat},{lon},{gprec},Synthetic Source,National,"{notes}",{fat},,{ts}')


def csv_text(rows: list[str]) -> str:
    return HEADER + "\n" + "\n".join(rows) + "\n"


HUGE = "99999999999999999999"
files: dict[str, bytes] = {}
expected: dict[str, dict] = {}

# Out-of-range and implausible dates: rejected (line, column) or kept with a warning.
files["dates_out_of_range.csv"] = csv_text([
    row("HOSTILE1"),                                      # 2 good
    row("HOSTILE2", date="0001-01-01"),                   # 3 rejected
    row("HOSTILE3", date="2263-01-01"),                   # 4 rejected
    row("HOSTILE4", date="24 September 0023"),            # 5 rejected
    row("HOSTILE5", date="1900-05-01", year="1900"),      # 6 warning: before 1990
    row("HOSTILE6", date="2099-01-01", year="2099"),      # 7 warning: future
    row("HOSTILE7", date="24 September 2023"),            # 8 good
]).encode()
expected["dates_out_of_range.csv"] = {
    "accepted": 4, "rejected": [[3, "event_date"], [4, "event_date"], [5, "event_date"]],
    "warnings": [[6, "event_date"], [7, "event_date"]]}

# Numbers too large for any integer column, infinities, NaN.
files["huge_numbers.csv"] = csv_text([
    row("HOSTILE10"),                                     # 2 good
    row("HOSTILE11", fat=HUGE),                           # 3
    row("HOSTILE12", fat="1e300"),                        # 4
    row("HOSTILE13", year="1e300"),                       # 5
    row("HOSTILE14", ts=HUGE),                            # 6
    row("HOSTILE15", gprec="1e300"),                      # 7
    row("HOSTILE16", tprec=HUGE),                         # 8
    row("HOSTILE17", fat="inf"),                          # 9
    row("HOSTILE18", lat="1e300"),                        # 10
    row("HOSTILE19", lon="-1e300"),                       # 11
    row("HOSTILE20"),                                     # 12 good
]).encode()
expected["huge_numbers.csv"] = {
    "accepted": 2,
    "rejected": [[3, "fatalities"], [4, "fatalities"], [5, "year"], [6, "timestamp"], [7, "geo_precision"],
                 [8, "time_precision"], [9, "fatalities"], [10, "latitude"], [11, "longitude"]],
    "warnings": []}

# A file appended from a Windows-1250 machine onto a UTF-8 one: decoded per line, each line named.
utf8_part = (HEADER + "\n" + row("HOSTILE30", location="Zvečan") + "\n").encode("utf-8")
cp_part = (row("HOSTILE31", location="Leposavić") + "\n").encode("cp1250")
files["mixed_encoding.csv"] = utf8_part + cp_part
expected["mixed_encoding.csv"] = {"accepted": 2, "rejected": [], "warnings": [[3, "(line)"]],
                                  "location": {"HOSTILE30": "Zvečan", "HOSTILE31": "Leposavić"}}

# A header and no rows: "no rows", nothing stored.
files["header_only.csv"] = (HEADER + "\n").encode()
expected["header_only.csv"] = {"exit": 2, "reason": "no rows"}

# Within-file duplicates: the report names the lines; ids differing only by case are two events.
files["duplicates_within.csv"] = csv_text([
    row("HOSTILE40"), row("HOSTILE41"), row("HOSTILE40"), row("hostile40"), row("HOSTILE41"),
]).encode()
expected["duplicates_within.csv"] = {"accepted": 5, "rejected": [], "warnings": [[4, "event_id_cnty"], [6, "event_id_cnty"]],
                                     "stored": 3}

# Terminal escape codes in cells: stored as given, never printed raw.
files["control_chars.csv"] = csv_text([row("HOSTILE50", notes="\x1b]0;PWNED\x07\x1b[31mred\x1b[0m and a bell\x07")]).encode()
expected["control_chars.csv"] = {"accepted": 1, "rejected": [], "warnings": []}

# A record that lost fields, and precision codes that are not ACLED's (issue 18, row 13).
files["short_and_fractional.csv"] = csv_text([
    row("HOSTILE60"),                                     # 2 good
    ",".join(row("HOSTILE61").split(",")[:25]),           # 3 rejected: 25 of 31 fields
    row("HOSTILE62", gprec="1.5"),                        # 4 rejected: not a whole number
    row("HOSTILE63", tprec="9"),                          # 5 rejected: ACLED codes are 1-3
    row("HOSTILE64", gprec="0"),                          # 6 rejected
    row("HOSTILE65"),                                     # 7 good
]).encode()
expected["short_and_fractional.csv"] = {
    "accepted": 2, "rejected": [[3, "(row)"], [4, "geo_precision"], [5, "time_precision"], [6, "geo_precision"]],
    "warnings": []}

# Bad layer files.
files["routes_no_lines.geojson"] = json.dumps({"type": "FeatureCollection", "features": []}).encode()
files["routes_empty_linestring.geojson"] = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"route_id": "R1", "name": "Synthetic good"},
     "geometry": {"type": "LineString", "coordinates": [[20.78, 42.96], [20.80, 43.0]]}},
    {"type": "Feature", "properties": {"route_id": "R2", "name": "Synthetic empty"},
     "geometry": {"type": "LineString", "coordinates": []}}]}).encode()
files["routes_out_of_range.geojson"] = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"route_id": "R1", "name": "Synthetic huge"},
     "geometry": {"type": "LineString", "coordinates": [[20.78, 42.96], [1e300, -1e300]]}}]}).encode()
files["boundaries_huge.geojson"] = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"shapeName": "Synthetic"},
     "geometry": {"type": "Polygon", "coordinates": [[[-1e300, -1e300], [1e300, -1e300], [1e300, 1e300],
                                                      [-1e300, -1e300]]]}}]}).encode()
files["sites_huge.csv"] = (
    "site_id,name_en,name_sq,name_sr,site_type,municipality,latitude,longitude,unesco_status,founded,source_url,notes\n"
    "S1,Synthetic site,,,monastery,Zvečan,1e300,20.8,,,https://example.org/,\n").encode()
# A NaN vertex (JSON's NaN token, as Python's json writes it): issue 18, row 8.
files["routes_nan.geojson"] = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"route_id": "R1", "name": "Synthetic NaN"},
     "geometry": {"type": "LineString", "coordinates": [[20.78, 42.96], [float("nan"), 43.0]]}}]}).encode()
files["boundaries_nan.geojson"] = json.dumps({"type": "FeatureCollection", "features": [
    {"type": "Feature", "properties": {"shapeName": "Synthetic"},
     "geometry": {"type": "Polygon", "coordinates": [[[20.7, 42.9], [float("nan"), 42.9], [20.8, 43.0],
                                                      [20.7, 42.9]]]}}]}).encode()
expected["routes_nan.geojson"] = {"layer": "routes", "reason": "not a number"}
expected["boundaries_nan.geojson"] = {"layer": "boundaries", "reason": "not a number"}
expected["routes_no_lines.geojson"] = {"layer": "routes", "reason": "no line"}
expected["routes_empty_linestring.geojson"] = {"layer": "routes", "reason": "empty"}
expected["routes_out_of_range.geojson"] = {"layer": "routes", "reason": "outside"}
expected["boundaries_huge.geojson"] = {"layer": "boundaries", "reason": "outside"}
expected["sites_huge.csv"] = {"layer": "sites", "reason": "coordinates"}

if __name__ == "__main__":
    for name, data in files.items():
        (HERE / name).write_bytes(data)
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
