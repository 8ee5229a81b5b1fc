"""Checks shared by the layer loaders (routes, sites, boundaries): geometries present, not empty,
and inside the valid longitude/latitude range."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from geodata._errors import DataError


def check_lonlat(gdf: gpd.GeoDataFrame, path: Path | str, error: type[DataError], what: str) -> None:
    """Raise unless every geometry of ``gdf`` (in EPSG:4326) is non-empty and within -180..180, -90..90.

    A layer with a vertex at 1e300 would otherwise be drawn across the whole map and break
    every distance computed from it.

    Args:
        gdf: the layer, already in EPSG:4326.
        path: the file it came from (named in the message).
        error: the loader's :class:`DataError` subclass to raise.
        what: how a feature is called in the message, e.g. "route" or "boundary".
    Raises:
        error: naming the first offending feature (1-based, in file order).
    """
    empty = np.flatnonzero(gdf.geometry.is_empty.to_numpy())
    if len(empty):
        raise error(f"{path}: {what} {int(empty[0]) + 1} of {len(gdf)} has an empty geometry")
    # A NaN vertex slips past bounds (GEOS skips it) and later breaks make_valid and every distance.
    coords, index = shapely.get_coordinates(np.asarray(gdf.geometry.array), return_index=True)
    nan = np.flatnonzero(~np.isfinite(coords).all(axis=1))
    if len(nan):
        raise error(f"{path}: {what} {int(index[nan[0]]) + 1} of {len(gdf)} has a coordinate that is not a number")
    bounds = gdf.geometry.bounds.to_numpy(dtype=float)  # minx, miny, maxx, maxy per feature
    ok = (
        np.isfinite(bounds).all(axis=1)
        & (bounds[:, 0] >= -180) & (bounds[:, 2] <= 180)
        & (bounds[:, 1] >= -90) & (bounds[:, 3] <= 90)
    )
    bad = np.flatnonzero(~ok)
    if len(bad):
        i = int(bad[0])
        raise error(f"{path}: {what} {i + 1} of {len(gdf)} has coordinates outside the valid range "
                    f"(longitude -180..180, latitude -90..90)")
