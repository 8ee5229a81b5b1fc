"""The Dask-GeoPandas path (geodata.query.scaleout) yields what the in-memory path yields."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

distributed = pytest.importorskip("dask.distributed", reason="dask.distributed is in requirements.txt")

from benchmarks.synthetic import SYNTHETIC_NOTE, generate, write_acled_csv  # noqa: E402
from geodata.query import aggregate, scaleout  # noqa: E402
from geodata.geo.boundaries import read_municipalities  # noqa: E402
from geodata.ingest.bundled import to_geodataframe  # noqa: E402
from geodata.ingest.validation import validate_incidents  # noqa: E402
from tests.scale_data import two_boxes  # noqa: E402


@pytest.fixture(scope="module")
def cluster_client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def csvs(tmp_path_factory):
    folder = tmp_path_factory.mktemp("acled")
    a, b = generate(3_000, seed=1), generate(2_000, seed=2)
    b.loc[5, "latitude"] = "not a number"    # file line 7
    b.loc[1_500, "event_type"] = "Nope"       # file line 1502
    return [write_acled_csv(a, folder / "a.csv"), write_acled_csv(b, folder / "b.csv")]


def in_memory(paths) -> gpd.GeoDataFrame:
    frames = [validate_incidents(pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")).valid
              for p in paths]
    return to_geodataframe(pd.concat(frames, ignore_index=True))


def test_partition_writes_geoparquet_with_exact_lines_and_reasons(cluster_client, csvs, tmp_path):
    out = tmp_path / "incidents.parquet"
    report = scaleout.partition_csv_to_geoparquet(csvs, out, npartitions=6)
    assert report.rows_read == 5_000 and report.accepted == 4_998 and report.rejected == 2
    assert [(e["file"], e["line"], e["column"]) for e in report.errors] == [
        ("b.csv", 7, "latitude"), ("b.csv", 1502, "event_type")]
    assert len(report.files) >= 3  # really partitioned (several blocks per run)
    parts = [gpd.read_parquet(f) for f in report.files]
    back = pd.concat(parts, ignore_index=True)
    assert back.crs.to_epsg() == 4326 and len(back) == 4_998
    assert (back["notes"] == SYNTHETIC_NOTE).all()
    # line numbers point at the row's own line in its own file
    a_rows = back[back["origin"] == "file:a.csv"].sort_values("line")
    assert a_rows["line"].tolist() == list(range(2, 3_002))
    assert a_rows["event_id_cnty"].tolist() == [f"SYN{i:07d}" for i in range(3_000)]


def test_one_partition_per_file_keeps_multiline_fields_whole(cluster_client, tmp_path):
    rows = generate(50, seed=3)
    rows.loc[10, "notes"] = "SYNTHETIC benchmark row\nwith a second line"
    csv = write_acled_csv(rows, tmp_path / "multiline.csv")
    report = scaleout.partition_csv_to_geoparquet([csv], tmp_path / "out", npartitions=8, split_files=False)
    assert report.accepted == 50 and report.errors == [] and len(report.files) == 1
    back = gpd.read_parquet(report.files[0])
    assert back.loc[back["event_id_cnty"] == "SYN0000010", "notes"].item() == "SYNTHETIC benchmark row\nwith a second line"


def test_partition_refuses_existing_folder_and_leaves_nothing_on_failure(cluster_client, csvs, tmp_path):
    out = tmp_path / "exists"
    out.mkdir()
    with pytest.raises(FileExistsError):
        scaleout.partition_csv_to_geoparquet(csvs, out)
    with pytest.raises(FileNotFoundError):
        scaleout.partition_csv_to_geoparquet([tmp_path / "missing.csv"], tmp_path / "new")
    assert not (tmp_path / "new").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exists"]


def test_dask_aggregates_equal_in_memory_aggregates(cluster_client, csvs, tmp_path):
    out = tmp_path / "incidents.parquet"
    scaleout.partition_csv_to_geoparquet(csvs, out, npartitions=5)
    whole = in_memory(csvs)
    for res in (6, 8):
        pd.testing.assert_frame_equal(scaleout.aggregate_by_hexagon(out, res),
                                      aggregate.aggregate_by_hexagon(whole, res))
    munis = two_boxes()
    dist = scaleout.aggregate_by_municipality(out, munis)
    pd.testing.assert_frame_equal(dist, aggregate.aggregate_by_municipality(whole, munis))
    assert dist["incidents"].sum() == len(whole)


def test_dask_municipalities_with_real_boundaries(cluster_client, csvs, tmp_path):
    # ../shared from the repository root; CONFLICTMAP_SHARED_GEODATA points there from a git worktree.
    shared = Path(os.environ.get("CONFLICTMAP_SHARED_GEODATA") or Path(__file__).resolve().parents[1].parent / "shared" / "geodata")
    path = shared / "geoBoundaries-XKX-ADM2_simplified.geojson"
    if not path.is_file():
        pytest.skip(f"real boundaries not available: {path} is absent (../shared/geodata is provided in development and CI)")
    munis = read_municipalities(path)
    out = tmp_path / "incidents.parquet"
    scaleout.partition_csv_to_geoparquet(csvs, out, npartitions=4)
    dist = scaleout.aggregate_by_municipality(out, munis)
    pd.testing.assert_frame_equal(dist, aggregate.aggregate_by_municipality(in_memory(csvs), munis))
    assert dist.loc[dist.index != "", "incidents"].sum() > 4_000  # the synthetic points are over Kosovo
