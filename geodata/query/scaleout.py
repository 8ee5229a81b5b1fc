"""Scale-out ingest and aggregation on Dask-GeoPandas, for incident sets beyond one machine.

The single-machine path (store + :mod:`geodata.model.filters`) handles millions of incidents. For
more — ACLED's whole global record over years, several sources — this module runs the same
validation and the same aggregates on a Dask cluster:

* :func:`partition_csv_to_geoparquet` reads CSVs in byte blocks on the workers, validates every
  block with :func:`geodata.ingest.validation.validate_incidents` (the one validation function) and
  writes one GeoParquet file per block (points, EPSG:4326), with exact source line numbers;
* :func:`aggregate_by_hexagon` and :func:`aggregate_by_municipality` compute, from that
  folder, the per-hexagon and per-municipality tables the dashboard reads. They apply the
  partial step of :mod:`geodata.query.aggregate` to each partition and sum on the cluster, so they
  equal the in-memory :func:`geodata.query.aggregate.aggregate_by_hexagon` /
  :func:`~geodata.query.aggregate.aggregate_by_municipality` on the same rows.

Every function runs on whatever Dask scheduler is active: a ``dask.distributed.Client`` in
scope (local or remote) or Dask's default threads. On a real cluster::

    from pathlib import Path
    from dask.distributed import Client
    from geodata.geo.boundaries import read_municipalities
    from geodata.query.scaleout import (partition_csv_to_geoparquet, aggregate_by_hexagon,
                                  aggregate_by_municipality)

    client = Client("tcp://scheduler.example:8786")   # or dask_jobqueue / dask-kubernetes
    report = partition_csv_to_geoparquet(sorted(Path("/shared/acled").glob("*.csv")),
                                         "/shared/conflictmap/incidents.parquet", npartitions=400)
    hexes = aggregate_by_hexagon("/shared/conflictmap/incidents.parquet", resolution=7)
    municipalities = read_municipalities(Path("/shared/geoBoundaries-XKX-ADM2_simplified.geojson"))
    munis = aggregate_by_municipality("/shared/conflictmap/incidents.parquet", municipalities)

The CSV paths and the output folder must be on a file system every worker sees (NFS, a
cluster file system) because workers read and write them directly; give ``npartitions`` about
2–4 × the cluster's total worker threads. Files are split into byte blocks at line breaks, as
ACLED's exports allow (no line breaks inside quoted fields); for files with multi-line fields pass
``split_files=False`` (one partition per file) so no record is cut in two.
"""

from __future__ import annotations

import math
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence, TypedDict

import dask.dataframe as dd
import dask_geopandas
import geopandas as gpd
import pandas as pd
from dask.base import compute
from dask.delayed import Delayed, delayed

from geodata.query.aggregate import (
    SUM_COLUMNS, combine_counts, empty_counts, finish_municipalities, hexagon_counts, municipality_counts,
)
from geodata.ingest.bundled import to_geodataframe
from geodata.ingest.validation import validate_incidents

_PATH_COLUMN = "_source_path"
#: Smallest block Dask is asked to read (smaller blocks cost more in overhead than they gain).
MIN_BLOCK_BYTES = 256 * 1024


class RejectedRow(TypedDict):
    """A rejected row of :func:`partition_csv_to_geoparquet`: a :class:`geodata.ingest.validation.RowIssue` and its file."""

    line: int
    column: str
    severity: str
    reason: str
    file: str


class _BlockResult(TypedDict):
    """What :func:`_validate_block` sends back from a worker."""

    written: str | None
    rows: int
    accepted: int
    warnings: int
    errors: list[RejectedRow]


@dataclass
class PartitionReport:
    """What :func:`partition_csv_to_geoparquet` wrote: counts and every rejected row's reason."""

    out_dir: Path
    files: list[Path]
    rows_read: int
    accepted: int
    errors: list[RejectedRow] = field(default_factory=list)
    warnings: int = 0

    @property
    def rejected(self) -> int:
        """Number of distinct rejected rows."""
        return len({(e["file"], e["line"]) for e in self.errors})


def _read_blocks(csv_paths: Sequence[Path], npartitions: int | None, split_files: bool = True) -> dd.DataFrame:
    total = sum(p.stat().st_size for p in csv_paths)
    blocksize: str | int | None = (
        "64MB" if not npartitions else max(MIN_BLOCK_BYTES, math.ceil(total / max(1, npartitions))))
    if not split_files:
        blocksize = None  # one partition per file
    return dd.read_csv(
        [str(p) for p in csv_paths], dtype=str, keep_default_na=False, encoding="utf-8-sig",
        blocksize=blocksize, include_path_column=_PATH_COLUMN,
    )


def _block_size(block: pd.DataFrame) -> tuple[str, int]:
    path = str(block[_PATH_COLUMN].iloc[0]) if len(block) else ""
    return path, len(block)


def _validate_block(block: pd.DataFrame, first_line: int, dest: str, source_name: str) -> _BlockResult:
    """Validate one block and write its valid rows as GeoParquet; return the issues (runs on a worker)."""
    raw = block.drop(columns=[_PATH_COLUMN]).reset_index(drop=True)
    result = validate_incidents(raw, range(first_line, first_line + len(raw)))
    gdf = to_geodataframe(result.valid, origin=f"file:{source_name}")
    gdf["line"] = result.valid["line"].to_numpy()
    if len(gdf):
        gdf.to_parquet(dest, index=False)
    return {
        "written": dest if len(gdf) else None,
        "rows": len(raw), "accepted": len(gdf), "warnings": len(result.warnings),
        "errors": [RejectedRow(line=e.line, column=e.column, severity=e.severity, reason=e.reason, file=source_name)
                   for e in result.errors],
    }


def partition_csv_to_geoparquet(
    csv_paths: Iterable[str | os.PathLike[str]], out_dir: str | os.PathLike[str], npartitions: int | None = None,
    *, split_files: bool = True,
) -> PartitionReport:
    """Validate incident CSVs on the Dask cluster and write them as a GeoParquet folder.

    Args:
        csv_paths: ACLED-column CSV files (UTF-8, with or without BOM; header row first).
        out_dir: folder to create (must not exist yet); one ``part.NNNNN.parquet`` per block.
        npartitions: about how many blocks to split the input into (at least one per file);
            ``None`` reads 64 MB blocks.
        split_files: ``False`` reads each file as one partition (needed when quoted fields
            contain line breaks; ``npartitions`` is then ignored).
    Returns:
        A :class:`PartitionReport` (rejected rows with file, line, column and reason).
    Raises:
        FileExistsError: if ``out_dir`` exists (nothing is overwritten).
        FileNotFoundError: if a CSV is missing.
        ValueError: if no CSV is given.
    Nothing half-written: blocks go to a temporary sibling folder renamed to ``out_dir`` only
    when every block succeeded.
    """
    paths = [Path(p) for p in csv_paths]
    if not paths:
        raise ValueError("no CSV files given")
    for p in paths:
        if not p.is_file():
            raise FileNotFoundError(p)
    out = Path(out_dir)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new folder")
    # dask leaves to_delayed and compute unannotated (dask 2026.8); their results are typed here.
    blocks: list[Delayed] = _read_blocks(paths, npartitions, split_files).to_delayed()  # type: ignore[no-untyped-call]
    # Pass 1 (cheap): rows per block, so every row gets its exact line in its own file.
    sizes: tuple[tuple[str, int], ...] = compute(  # type: ignore[no-untyped-call]
        *[delayed(_block_size)(b) for b in blocks])
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir(parents=True)
    try:
        tasks: list[Delayed] = []
        seen: dict[str, int] = {}
        for i, (block, (path, n)) in enumerate(zip(blocks, sizes)):
            first_line = seen.get(path, 2)  # line 1 is the header
            seen[path] = first_line + n
            tasks.append(delayed(_validate_block)(block, first_line, str(tmp / f"part.{i:05d}.parquet"),
                                                  Path(path).name))
        results: tuple[_BlockResult, ...] = compute(*tasks)  # type: ignore[no-untyped-call]
        tmp.replace(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    errors = sorted((e for r in results for e in r["errors"]), key=lambda e: (e["file"], e["line"]))
    return PartitionReport(
        out_dir=out,
        files=[out / Path(r["written"]).name for r in results if r["written"]],
        rows_read=sum(r["rows"] for r in results),
        accepted=sum(r["accepted"] for r in results),
        errors=errors,
        warnings=sum(r["warnings"] for r in results),
    )


def read_incident_parquet(parquet_dir: str | os.PathLike[str],
                          columns: list[str] | None = None) -> dask_geopandas.GeoDataFrame:
    """The GeoParquet folder as a lazy Dask-GeoPandas frame (one partition per file).

    Args:
        parquet_dir: output of :func:`partition_csv_to_geoparquet`.
        columns: incident columns to read (``geometry`` is always added); ``None`` for all.
    Returns:
        The lazy frame; nothing is read until it is computed.
    Raises:
        FileNotFoundError: if the folder holds no parquet file.
    """
    folder = Path(parquet_dir)
    if not any(folder.glob("*.parquet")):
        raise FileNotFoundError(f"no GeoParquet files in {folder}")
    cols = None if columns is None else list(dict.fromkeys([*columns, "geometry"]))
    return dask_geopandas.read_parquet(str(folder), columns=cols)


def _summed(partials: dd.DataFrame) -> pd.DataFrame:
    """Sum per-partition counts on the cluster; only the (small) totals come back."""
    flat = partials.reset_index()
    return flat.groupby("key")[list(SUM_COLUMNS)].sum().compute()


def aggregate_by_hexagon(parquet_dir: str | os.PathLike[str], resolution: int) -> pd.DataFrame:
    """Per-H3-hexagon counts over a GeoParquet folder, computed on the Dask cluster.

    Args:
        parquet_dir: output of :func:`partition_csv_to_geoparquet`.
        resolution: H3 resolution.
    Returns:
        Same table as :func:`geodata.query.aggregate.aggregate_by_hexagon` on the same rows.
    """
    gddf = read_incident_parquet(parquet_dir, ["event_type", "fatalities"])
    partials = gddf.map_partitions(hexagon_counts, resolution, meta=empty_counts())
    return combine_counts(_summed(partials), "h3")


def aggregate_by_municipality(parquet_dir: str | os.PathLike[str], municipalities: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per-municipality counts (located by coordinates) over a GeoParquet folder, on the cluster.

    Args:
        parquet_dir: output of :func:`partition_csv_to_geoparquet`.
        municipalities: boundary layer with ``municipality`` (small; sent to every worker once).
    Returns:
        Same table as :func:`geodata.query.aggregate.aggregate_by_municipality` on the same rows.
    """
    gddf = read_incident_parquet(parquet_dir, ["event_type", "fatalities"])
    boundaries = delayed(municipalities[["municipality", "geometry"]])
    partials = gddf.map_partitions(municipality_counts, boundaries, meta=empty_counts())
    return finish_municipalities(combine_counts(_summed(partials), "municipality"), municipalities)
