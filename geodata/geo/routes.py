"""Patrol routes: line layer, bundled (illustrative) or from the user's own file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd

from geodata._errors import DataError
from geodata.geo.layer_checks import check_lonlat
from geodata.settings import WGS84

ROUTE_COLUMNS = ("route_id", "name", "illustrative", "geometry")


class RouteDataError(DataError):
    """The routes file cannot be read or holds no lines."""


def load_routes(path: Path) -> gpd.GeoDataFrame:
    """Load patrol routes (GeoJSON or GeoPackage) as a line layer.

    The bundled routes are illustrative — real patrol routes are not public — and say so in their
    ``illustrative`` property; a user's own file may omit the column (taken as not illustrative).

    Args:
        path: GeoJSON or GeoPackage of (Multi)LineStrings, ideally with ``route_id`` and ``name``.
    Returns:
        GeoDataFrame in EPSG:4326 with at least :data:`ROUTE_COLUMNS`.
    Raises:
        RouteDataError: if the file cannot be read, has no line geometries, or a line is empty
            or lies outside the valid longitude/latitude range.
    """
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio error types vary by driver
        raise RouteDataError(f"cannot read routes file {path}: {exc}") from exc
    gdf = gdf[gdf.geom_type.isin(["LineString", "MultiLineString"])].copy()  # None has no type
    if gdf.empty:
        raise RouteDataError(f"{path} holds no line geometries")
    try:
        gdf = gdf.to_crs(WGS84) if gdf.crs is not None else gdf.set_crs(WGS84)
    except Exception as exc:  # pyproj errors on coordinates it cannot transform
        raise RouteDataError(f"cannot bring {path} to longitude/latitude: {exc}") from exc
    check_lonlat(gdf, path, RouteDataError, "route")
    if "route_id" not in gdf.columns:
        gdf["route_id"] = [f"ROUTE-{i + 1}" for i in range(len(gdf))]
    if "name" not in gdf.columns:
        gdf["name"] = gdf["route_id"]
    gdf["illustrative"] = gdf["illustrative"].fillna(False).astype(bool) if "illustrative" in gdf.columns else False
    gdf["route_id"] = gdf["route_id"].astype(str)
    gdf["name"] = gdf["name"].astype(str)
    gdf["geometry"] = gdf.geometry.make_valid()
    return gdf.reset_index(drop=True)
