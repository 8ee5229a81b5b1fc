"""Shared fixtures: the real boundaries in ../shared (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_GEODATA = REPO.parent / "shared" / "geodata"
ADM2_FILE = SHARED_GEODATA / "geoBoundaries-XKX-ADM2_simplified.geojson"


@pytest.fixture(scope="session")
def adm2_path() -> Path:
    """Path of the real geoBoundaries ADM2 file kept in ../shared (never copied into the repo)."""
    if not ADM2_FILE.is_file():
        pytest.skip(f"real boundaries not available: {ADM2_FILE} is absent (../shared/geodata is provided in development and CI)")
    return ADM2_FILE


@pytest.fixture(scope="session")
def municipalities(adm2_path):
    """The real municipality layer."""
    from geodata.boundaries import read_municipalities

    return read_municipalities(adm2_path)


@pytest.fixture
def isolated_settings(tmp_path, monkeypatch):
    """Settings pointing at an empty data folder (no boundaries, no store)."""
    from geodata.settings import get_settings

    monkeypatch.setenv("CONFLICTMAP_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("CONFLICTMAP_BOUNDARIES", raising=False)
    monkeypatch.delenv("CONFLICTMAP_DB", raising=False)
    return get_settings()
