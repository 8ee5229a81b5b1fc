"""Official municipal (ADM2) boundaries: find, load, download and import them.

Boundaries are never bundled and never made up. They come, in this order, from
(a) the file named by ``CONFLICTMAP_BOUNDARIES``, (b) the cache in the data folder, filled by
(c) ``python -m geodata boundaries`` — which downloads the pinned geoBoundaries 4.0.0 file and
checks its SHA-256, and with it the pinned ADM0 outline of Kosovo (:func:`load_country_boundary`) — or ``python -m geodata boundaries --from PATH``, which imports a local file.
"""

from __future__ import annotations

from geodata._errors import DataError

import hashlib
import os
from functools import lru_cache
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from geodata.geo.layer_checks import check_lonlat
from geodata.geo.municipalities import canonical_municipality
from geodata.settings import BOUNDARIES_ATTRIBUTION, COUNTRY_BOUNDARY_ATTRIBUTION, WGS84, Settings

HOW_TO_GET_BOUNDARIES = (
    "Official municipal boundaries are not installed. Run `python -m geodata boundaries` to download "
    "geoBoundaries 4.0.0 (Kosovo ADM2, checked against its pinned SHA-256), or "
    "`python -m geodata boundaries --from FILE` to import a GeoJSON/GeoPackage you have, or set "
    "CONFLICTMAP_BOUNDARIES=FILE. Until then the map shows no municipality polygons."
)

MUNICIPALITY_COLUMNS = ("municipality", "shape_name", "shape_id", "geometry")


class BoundaryError(DataError, RuntimeError):
    """Boundaries could not be downloaded, verified or read."""


@dataclass(frozen=True)
class BoundarySource:
    """Where the boundaries in use come from: ``origin`` is "settings" or "cache"."""

    path: Path
    origin: str
    attribution: str = BOUNDARIES_ATTRIBUTION


def find_boundaries(settings: Settings) -> BoundarySource | None:
    """Locate the boundaries file to use, or ``None`` when none is installed.

    Args:
        settings: gives ``CONFLICTMAP_BOUNDARIES`` (a user's file, used first) and the cache path.
    Returns:
        The file and its origin ("settings" or "cache"), or ``None``.
    Raises:
        BoundaryError: if ``CONFLICTMAP_BOUNDARIES`` names a file that does not exist.
    """
    if settings.boundaries_file is not None:
        if not settings.boundaries_file.is_file():
            raise BoundaryError(f"CONFLICTMAP_BOUNDARIES names {settings.boundaries_file}, which does not exist")
        return BoundarySource(settings.boundaries_file, "settings")
    if settings.boundaries_cache.is_file():
        return BoundarySource(settings.boundaries_cache, "cache")
    return None


def read_municipalities(path: Path) -> gpd.GeoDataFrame:
    """Read an ADM2 boundaries file into the municipality layer's schema.

    Args:
        path: GeoJSON or GeoPackage with a ``shapeName`` (geoBoundaries) or ``name`` column.
    Returns:
        GeoDataFrame in EPSG:4326 with ``municipality`` (canonical name), ``shape_name``,
        ``shape_id`` and valid (multi)polygon geometries.
    Raises:
        BoundaryError: if the file cannot be read, holds no polygons with names, or a polygon is
            empty or lies outside the valid longitude/latitude range.
    """
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; the user needs one message
        raise BoundaryError(f"cannot read boundaries file {path}: {exc}") from exc
    name_col = next((c for c in ("shapeName", "name", "NAME_2", "municipality") if c in gdf.columns), None)
    if name_col is None or gdf.empty:
        raise BoundaryError(f"{path} has no municipality names (expected a shapeName or name column)")
    gdf = gdf[gdf.geometry.notna() & gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if gdf.empty:
        raise BoundaryError(f"{path} holds no polygons")
    try:
        gdf = gdf.to_crs(WGS84) if gdf.crs is not None else gdf.set_crs(WGS84)
    except Exception as exc:  # pyproj errors on coordinates it cannot transform
        raise BoundaryError(f"cannot bring {path} to longitude/latitude: {exc}") from exc
    check_lonlat(gdf, path, BoundaryError, "boundary")
    names = gdf[name_col].astype(str)
    out = gpd.GeoDataFrame(
        {
            "municipality": [canonical_municipality(n) or n.replace("Municipality of ", "") for n in names],
            "shape_name": names.to_numpy(),
            "shape_id": gdf["shapeID"].astype(str).to_numpy() if "shapeID" in gdf.columns else names.to_numpy(),
        },
        geometry=gdf.geometry.make_valid().to_numpy(),
        crs=WGS84,
    )
    return out.reset_index(drop=True)


def load_municipalities(settings: Settings) -> tuple[gpd.GeoDataFrame | None, BoundarySource | None]:
    """Load the installed boundaries, if any.

    Args:
        settings: gives the configured boundaries file and the cache path.
    Returns:
        ``(layer, source)``, or ``(None, None)`` when no boundaries are installed.
    Raises:
        BoundaryError: if the configured file is missing or unreadable.
    """
    src = find_boundaries(settings)
    if src is None:
        return None, None
    return read_municipalities(src.path), src


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _atomic_install(tmp: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)  # atomic on one file system: the cache is never half-written


def _download_verified(url: str, sha256: str, dest: Path, check: Callable[[Path], object], timeout: float) -> Path:
    """Download ``url`` to ``dest`` atomically after checking its SHA-256 and parsing it with ``check``.

    Raises:
        BoundaryError: on network failure, checksum mismatch or an unreadable file (cache untouched).
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while chunk := resp.read(1 << 16):
                out.write(chunk)
        digest = _sha256(tmp)
        if digest != sha256:
            raise BoundaryError(f"downloaded file has SHA-256 {digest}, expected {sha256}; not installed")
        check(tmp)  # refuse a file that does not parse, even with the right hash
        _atomic_install(tmp, dest)
        return dest
    except BoundaryError:
        raise
    except OSError as exc:
        raise BoundaryError(f"could not download boundaries from {url}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def read_country_boundary(path: Path) -> gpd.GeoDataFrame:
    """Read a country outline file (geoBoundaries ADM0 GeoJSON/GeoPackage).

    Args:
        path: the outline file.
    Returns:
        GeoDataFrame in EPSG:4326 with ``name`` and valid (multi)polygon geometry (a copy: the
        parsed file is cached per path and modification time, as every map draws it).
    Raises:
        BoundaryError: if the file cannot be read or holds no polygon.
    """
    path = Path(path)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise BoundaryError(f"cannot read country boundary file {path}: {exc}") from exc
    return _read_country_boundary(path, stamp).copy()


@lru_cache(maxsize=4)
def _read_country_boundary(path: Path, _stamp: int) -> gpd.GeoDataFrame:
    try:
        gdf = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types; the user needs one message
        raise BoundaryError(f"cannot read country boundary file {path}: {exc}") from exc
    gdf = gdf[gdf.geometry.notna() & gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    if gdf.empty:
        raise BoundaryError(f"{path} holds no polygons")
    gdf = gdf.to_crs(WGS84) if gdf.crs is not None else gdf.set_crs(WGS84)
    names = gdf["shapeName"].astype(str) if "shapeName" in gdf.columns else ["Kosovo"] * len(gdf)
    return gpd.GeoDataFrame({"name": list(names)}, geometry=gdf.geometry.make_valid().to_numpy(), crs=WGS84)


def load_country_boundary(settings: Settings) -> tuple[gpd.GeoDataFrame | None, BoundarySource | None]:
    """The Kosovo outline from ``CONFLICTMAP_COUNTRY_BOUNDARY`` or the cache, if installed.

    Args:
        settings: gives the configured outline file and the cache path.
    Returns:
        ``(layer, source)`` or ``(None, None)`` when not installed.
    Raises:
        BoundaryError: if the configured file is missing or unreadable.
    """
    if settings.country_boundary_file is not None:
        if not settings.country_boundary_file.is_file():
            raise BoundaryError(f"CONFLICTMAP_COUNTRY_BOUNDARY names {settings.country_boundary_file}, "
                                "which does not exist")
        src = BoundarySource(settings.country_boundary_file, "settings", COUNTRY_BOUNDARY_ATTRIBUTION)
    elif settings.country_boundary_cache.is_file():
        src = BoundarySource(settings.country_boundary_cache, "cache", COUNTRY_BOUNDARY_ATTRIBUTION)
    else:
        return None, None
    return read_country_boundary(src.path), src


def download_country_boundary(settings: Settings, *, timeout: float = 60.0) -> Path:
    """Download the pinned geoBoundaries ADM0 outline of Kosovo, verify its SHA-256 and cache it.

    Args:
        settings: gives the URL, the expected SHA-256 and the cache path.
        timeout: seconds before the download gives up.
    Returns:
        The cached file's path.
    Raises:
        BoundaryError: on network failure or a checksum mismatch (the cache is left untouched).
    """
    return _download_verified(settings.country_boundary_url, settings.country_boundary_sha256,
                              settings.country_boundary_cache, read_country_boundary, timeout)


def download_boundaries(settings: Settings, *, timeout: float = 60.0) -> Path:
    """Download the official boundaries, verify the pinned SHA-256 and cache them.

    Args:
        settings: gives the URL, the expected SHA-256 and the cache path.
        timeout: seconds before the download gives up.
    Returns:
        The cached file's path.
    Raises:
        BoundaryError: on network failure or a checksum mismatch (the cache is left untouched).
    """
    return _download_verified(settings.boundaries_url, settings.boundaries_sha256, settings.boundaries_cache,
                              read_municipalities, timeout)


def import_boundaries(settings: Settings, source: Path) -> Path:
    """Import a local boundaries file (GeoJSON/GeoPackage) into the cache as GeoJSON.

    Args:
        settings: gives the cache path.
        source: the file to import (``shapeName``/``name`` column, polygons).
    Returns:
        The cached file's path (replaced atomically).
    Raises:
        BoundaryError: if the file cannot be read or has no named polygons.
    """
    layer = read_municipalities(Path(source))
    dest = settings.boundaries_cache
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, suffix=".geojson")
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        layer.rename(columns={"shape_name": "shapeName", "shape_id": "shapeID"}).drop(columns="municipality").to_file(
            tmp, driver="GeoJSON"
        )
        _atomic_install(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
