"""Shared fixtures: real boundaries from ../shared, the ingest corpus, and a PostgreSQL/PostGIS server for the
store tests; and the test markers (unit, apptest, browser, postgis, slow), assigned here so no test file
has to carry them.

Outside CI a missing ../shared, PostgreSQL/PostGIS or Chromium skips the tests that need it, with the
reason. In CI (``CI=true``) nothing may be skipped: a skip becomes a failure naming what is missing, so a
green run means every test ran.
"""

from __future__ import annotations

import functools
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parent / "data" / "ingest"


def in_ci() -> bool:
    """True when running under CI (``CI=true``, as .ci/run is started), where no test may be skipped."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    """Skip the current test for ``reason`` — or, in CI, fail it: CI must run every test."""
    if in_ci():
        pytest.fail(f"required in CI: {reason}", pytrace=False)
    pytest.skip(reason)


#: Test files whose tests take more than a few seconds (subprocesses, large data, property search, Dask).
SLOW_FILES = frozenset({
    "test_benchmarks_smoke.py", "test_incident_scale.py", "test_scaleout.py", "test_properties.py",
    "test_ingest_cli.py", "test_files.py", "test_hostile_corpus.py",
})
POSTGIS_FIXTURES = frozenset({"pg_url", "pg_server_url"})


@functools.cache
def _source_names_playwright(file_name: str) -> bool:
    return "playwright" in Path(file_name).read_text(encoding="utf-8")


def _drives_chromium(module: object) -> bool:
    """True for a test file that drives headless Chromium (Playwright), directly or through imported fixtures."""
    file_name = getattr(module, "__file__", None)
    names = vars(module) if module is not None else {}
    return bool(file_name and _source_names_playwright(file_name)) or "open_map" in names


def _kinds(item: pytest.Item) -> set[str]:
    """The markers a test gets from its file, its module's imports and the fixtures it uses."""
    module = getattr(item, "module", None)
    names = vars(module) if module is not None else {}
    file_name = Path(str(item.fspath)).name
    kinds: set[str] = set()
    if "browser" in file_name or "sync_playwright" in names or _drives_chromium(module):
        kinds |= {"browser", "slow"}
    if "AppTest" in names:
        kinds.add("apptest")
    fixtures = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    if fixtures & POSTGIS_FIXTURES or (callspec is not None and callspec.params.get("store_url") == "postgis"):
        kinds.add("postgis")
    if file_name in SLOW_FILES:
        kinds.add("slow")
    if not kinds:
        kinds.add("unit")
    return kinds


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test unit/apptest/browser/postgis/slow (select with ``-m``, e.g. ``-m "unit"``).

    A headless-Chromium test that fails is run once more (pytest-rerunfailures; "1 rerun" in the summary):
    a live Streamlit page reruns on its own (the map reporting its view, a phone's sidebar animating) and a
    click can land in such a rerun, a race of the test's timing, not of what the page does. A test that fails
    twice fails the run; every other kind is never retried.
    """
    for item in items:
        kinds = _kinds(item)
        for kind in sorted(kinds):
            item.add_marker(getattr(pytest.mark, kind))
        if "browser" in kinds:
            item.add_marker(pytest.mark.flaky(reruns=1, reruns_delay=2))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """In CI, a skip anywhere (a test file's own ``pytest.skip``/``importorskip`` included) is a failure."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """In CI, a whole test file skipped at import (``pytest.importorskip`` at module level) is a failure."""
    outcome = yield
    report = outcome.get_result()
    if in_ci() and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"test file skipped in CI, where every test must run: {reason}"


def _newest_postgres() -> tuple[Path, Path]:
    """(bin folder, extension folder) of the newest Debian PostgreSQL installed (15 on bookworm, 17 on trixie)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    version = found[-1].parts[-3] if found else "15"
    return Path(f"/usr/lib/postgresql/{version}/bin"), Path(f"/usr/share/postgresql/{version}/extension")


PG_BIN, PG_EXTENSIONS = _newest_postgres()


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The folder of synthetic ingest fixtures."""
    return CORPUS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    """Run a server binary as the ``postgres`` OS user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + args
    return args


@pytest.fixture(scope="session")
def pg_server_url():
    """URL of a PostgreSQL server with PostGIS available, or skip (fail in CI).

    Uses ``CONFLICTMAP_TEST_PG_URL`` when set; otherwise starts a throwaway cluster (initdb +
    pg_ctl, trust auth, loopback only, free port) in a temporary folder and stops it afterwards.
    """
    url = os.environ.get("CONFLICTMAP_TEST_PG_URL")
    if url:
        yield url
        return
    if not (PG_BIN / "initdb").exists():
        unavailable(f"no PostgreSQL server: set CONFLICTMAP_TEST_PG_URL or install postgresql ({PG_BIN} missing)")
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        unavailable("running as root without runuser: cannot start PostgreSQL as a non-root user")
    if not (PG_EXTENSIONS / "postgis.control").exists():
        unavailable(f"PostGIS is not installed for {PG_BIN.parent.name} (apt-get install postgresql-{PG_BIN.parent.name}-postgis-3)")
    base = Path(tempfile.mkdtemp(prefix="conflictmap-pg-"))
    os.chmod(base, 0o777)  # the postgres user must be able to write its data folder here
    data, sock = base / "data", base / "sock"
    sock.mkdir()
    os.chmod(sock, 0o777)
    port = _free_port()
    try:
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
                                     "-E", "UTF8", "--locale=C.UTF-8"]), check=True, capture_output=True)
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l", str(base / "log"),
                                     "-o", f"-c listen_addresses=127.0.0.1 -p {port} -k {sock} -c fsync=off",
                                     "start"]), check=True, capture_output=True)
    except (subprocess.CalledProcessError, OSError) as exc:
        shutil.rmtree(base, ignore_errors=True)
        out = getattr(exc, "stderr", b"") or b""
        unavailable(f"could not start a throwaway PostgreSQL: {exc} {out.decode(errors='replace')[:300]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server_url):
    """A fresh, empty database on the test server (dropped afterwards)."""
    import psycopg

    name = "cm_test_" + uuid.uuid4().hex[:10]
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    base, _, _ = pg_server_url.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgis"])
def store_url(request, tmp_path):
    """Store URL for each back-end: a SQLite file in tmp_path, and a fresh PostGIS database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'incidents.sqlite'}"
    return request.getfixturevalue("pg_url")

REPO = Path(__file__).resolve().parents[1]
SHARED_GEODATA = REPO.parent / "shared" / "geodata"
ADM2_FILE = SHARED_GEODATA / "geoBoundaries-XKX-ADM2_simplified.geojson"


@pytest.fixture(scope="session")
def adm2_path() -> Path:
    """Path of the real geoBoundaries ADM2 file kept in ../shared (never copied into the repo)."""
    if not ADM2_FILE.is_file():
        unavailable(f"real boundaries not available: {ADM2_FILE} is absent (../shared/geodata is provided in development and CI)")
    return ADM2_FILE


@pytest.fixture(scope="session")
def municipalities(adm2_path):
    """The real municipality layer."""
    from geodata.geo.boundaries import read_municipalities

    return read_municipalities(adm2_path)


@pytest.fixture
def clean_env(tmp_path, monkeypatch):
    """No CONFLICTMAP_* setting from the caller's shell, and an empty data folder: bundled data only."""
    for name in [n for n in os.environ if n.startswith("CONFLICTMAP_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CONFLICTMAP_DATA_DIR", str(tmp_path / "var"))
    return monkeypatch


@pytest.fixture
def no_bundled_curation(monkeypatch, tmp_path):
    """Tests that count statuses/sources/sequences start from none: the bundled curation files are hidden."""
    import geodata.curation.sequences
    import geodata.curation.sources
    import geodata.curation.verification

    absent = tmp_path / "no-bundled-curation"
    monkeypatch.setattr(geodata.curation.sources, "BUNDLED_SOURCES", absent / "incident_sources.csv")
    monkeypatch.setattr(geodata.curation.verification, "BUNDLED_VERIFICATION", absent / "verification.csv")
    monkeypatch.setattr(geodata.curation.sequences, "BUNDLED_SEQUENCES", absent / "sequences.csv")
    return absent


@pytest.fixture
def curation_env(clean_env, no_bundled_curation):
    """An empty data folder and no bundled curation: every status, source and sequence comes from the test."""
    return clean_env
