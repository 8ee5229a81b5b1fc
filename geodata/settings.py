"""All configuration of conflictmap, in one place.

Every setting is an environment variable with a documented default; the dashboard, the
command line and the tests all read them through :func:`get_settings`.

=============================  ===============================================  ==========================
variable                       meaning                                          default
=============================  ===============================================  ==========================
CONFLICTMAP_DATA_DIR           folder for generated data (db, cache, downloads); the checkout's ``var/`` (git-
                               the same for ``conflictmap`` and ``python -m``    ignored) when run from a checkout,
                               ``geodata`` started in the same folder            else the user's data folder
                                                                                 (``platformdirs.user_data_dir``);
                                                                                 never inside the installed package
CONFLICTMAP_BOUNDARIES         ADM2 boundaries file the user names (GeoJSON/    unset: use the cache
                               GeoPackage); wins over the cache
CONFLICTMAP_BOUNDARIES_URL     where ``python -m geodata boundaries`` downloads  geoBoundaries 4.0.0 XKX ADM2
                               the official boundaries from                     (pinned commit)
CONFLICTMAP_BOUNDARIES_SHA256  expected SHA-256 of that download                 the pinned release's hash
CONFLICTMAP_COUNTRY_BOUNDARY   Kosovo outline (ADM0) file the user names;       unset: use the cache, filled by
                               wins over the cache                              ``python -m geodata boundaries``
CONFLICTMAP_COUNTRY_BOUNDARY_URL     where that command downloads the outline   geoBoundaries 4.0.0 XKX ADM0
CONFLICTMAP_COUNTRY_BOUNDARY_SHA256  expected SHA-256 of that download          the pinned release's hash
CONFLICTMAP_ROUTES             patrol routes file (GeoJSON/GeoPackage)           bundled illustrative routes
CONFLICTMAP_DB                 incident store URL: ``sqlite:///path`` or         ``sqlite:///<data dir>/incidents.sqlite``
                               ``postgresql://...`` (PostGIS)
CONFLICTMAP_TILES              basemap tile URL template (e.g. a local tile      unset: OpenStreetMap, falling back
                               server) — ``none`` for no tiles                   to the offline map
CONFLICTMAP_TILES_ATTRIBUTION  attribution shown for that tile URL               ``Map tiles: CONFLICTMAP_TILES``
CONFLICTMAP_MAX_UPLOAD_MB      largest CSV accepted in the dashboard             200
CONFLICTMAP_SERVE_ADDRESS      address ``scripts/start.sh`` serves the dashboard  ``127.0.0.1`` (this machine
                               on; another address (``0.0.0.0``: every network)  only)
                               lets anyone who reaches it upload and undo, and
                               the terminal and the page warn so
CONFLICTMAP_PUSHDOWN_ROWS      above this many stored incidents the dashboard    200000 (= the map's
                               filters in the store (SQL) per filter change      cluster limit)
                               instead of holding every incident in memory
CONFLICTMAP_ANALYTIC_ROWS      from this many stored incidents on, counts,        100000
                               filter choices and lean map reads come from an
                               in-process columnar copy (DuckDB) of the store
CONFLICTMAP_ACLED_URL          base URL of ACLED's API (``sync acled``)           ``https://acleddata.com``
CONFLICTMAP_UCDP_URL           base URL of UCDP's API (``sync ucdp``)             ``https://ucdpapi.pcr.uu.se``
CONFLICTMAP_SMTP_URL           mail server for ``digest --email``:               unset: ``--email`` is refused
                               ``smtp://host:port`` (``?starttls=1`` upgrades
                               the connection with STARTTLS)
CONFLICTMAP_SMTP_USER          user name for the mail server (with the password; unset: no login
                               also read from .streamlit/secrets.toml)
CONFLICTMAP_SMTP_PASSWORD      password for the mail server (idem)               unset
CONFLICTMAP_SMTP_FROM          sender address of digest mail                     ``conflictmap@localhost``
CONFLICTMAP_AUTH               dashboard sign-in: ``oidc`` (Streamlit's          ``none`` when the dashboard serves
                               ``st.login``, ``[auth]`` in                       on 127.0.0.1/localhost/::1,
                               .streamlit/secrets.toml) or ``none``              ``oidc`` on any other address
=============================  ===============================================  ==========================
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import platformdirs

REPO_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_DIR = Path(__file__).resolve().parent / "data"

#: geoBoundaries gbOpen release 4.0.0, Kosovo (XKX) ADM2 simplified; pinned to a commit so the
#: bytes can be checked against the SHA-256 below (see README, "Official boundaries").
GEOBOUNDARIES_COMMIT = "04ef2e25bb211fae00d30bd8a4074295841a5c23"
GEOBOUNDARIES_PATH = "releaseData/gbOpen/XKX/ADM2/geoBoundaries-XKX-ADM2_simplified.geojson"
DEFAULT_BOUNDARIES_URL = (
    f"https://raw.githubusercontent.com/wmgeolab/geoBoundaries/{GEOBOUNDARIES_COMMIT}/{GEOBOUNDARIES_PATH}"
)
DEFAULT_BOUNDARIES_SHA256 = "883faeb272d62f61532560151d7ca23e3bf90694d556e1c36342560e3894c367"
#: geoBoundaries gbOpen 4.0.0 Kosovo ADM0 (country outline), pinned like ADM2; the SHA-256 is the one
#: the 4.0.0 release archive records for this file.
GEOBOUNDARIES_ADM0_COMMIT = "07e7aebfb8f389fb8cae92d009d0d7c5aafec8db"
GEOBOUNDARIES_ADM0_PATH = "releaseData/gbOpen/XKX/ADM0/geoBoundaries-XKX-ADM0_simplified.geojson"
DEFAULT_COUNTRY_BOUNDARY_URL = (
    f"https://raw.githubusercontent.com/wmgeolab/geoBoundaries/{GEOBOUNDARIES_ADM0_COMMIT}/{GEOBOUNDARIES_ADM0_PATH}"
)
DEFAULT_COUNTRY_BOUNDARY_SHA256 = "1651409252e9adcb692c95d1735fd8c0887d6b81b00621e3dc885d73a45d30e2"
COUNTRY_BOUNDARY_ATTRIBUTION = (
    "Kosovo boundary: geoBoundaries gbOpen 4.0.0 (Runfola et al. 2020), © OpenStreetMap contributors"
)
BOUNDARIES_ATTRIBUTION = (
    "Municipal boundaries: geoBoundaries gbOpen 4.0.0 (Runfola et al. 2020), "
    "© OpenStreetMap contributors, CC BY-SA 2.0"
)

#: Metric CRS used for every distance and buffer (UTM zone 34N covers all of Kosovo).
METRIC_CRS = "EPSG:32634"
WGS84 = "EPSG:4326"
#: Default of CONFLICTMAP_PUSHDOWN_ROWS (see :attr:`Settings.pushdown_rows`).
DEFAULT_PUSHDOWN_ROWS = 200_000
#: Default of CONFLICTMAP_ANALYTIC_ROWS (see :attr:`Settings.analytic_rows`).
DEFAULT_ANALYTIC_ROWS = 100_000
#: Defaults of CONFLICTMAP_ACLED_URL and CONFLICTMAP_UCDP_URL (see :mod:`geodata.sync`).
DEFAULT_ACLED_URL = "https://acleddata.com"
DEFAULT_UCDP_URL = "https://ucdpapi.pcr.uu.se"


def _is_checkout(folder: Path) -> bool:
    """Whether ``folder`` is a conflictmap source checkout (not an installed copy of the package)."""
    pyproject = folder / "pyproject.toml"
    if not (pyproject.is_file() and (folder / "geodata" / "settings.py").is_file()):
        return False
    try:
        text = pyproject.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return 'name = "conflictmap"' in text


def find_checkout(start: Path) -> Path | None:
    """The conflictmap checkout containing ``start`` (``start`` itself or a parent), if any.

    Args:
        start: a folder, usually the current working directory.
    Returns:
        The checkout's root folder, or ``None``.
    """
    start = start.resolve()
    for folder in (start, *start.parents):
        if _is_checkout(folder):
            return folder
    return None


def default_data_dir(package_root: Path = REPO_ROOT, cwd: Path | None = None) -> Path:
    """The data folder used when ``CONFLICTMAP_DATA_DIR`` is unset.

    The checkout's ``var/`` when the code runs from a checkout, or (installed code) when it is run
    from inside one, so ``conflictmap info`` and ``python -m geodata info`` started in the same folder
    use the same store; else the user's data folder. Never a folder inside the installed package,
    which a reinstall may delete.

    Args:
        package_root: the folder holding the ``geodata`` package.
        cwd: the working directory (default: the current one).
    Returns:
        The folder (not created here).
    """
    if _is_checkout(package_root):
        return package_root / "var"
    try:
        here = Path.cwd() if cwd is None else cwd
    except OSError:  # the working directory was deleted
        here = None
    checkout = find_checkout(here) if here is not None else None
    if checkout is not None:
        return checkout / "var"
    return Path(platformdirs.user_data_dir("conflictmap", appauthor=False))


def adopt_legacy_store(settings: Settings, package_root: Path = REPO_ROOT) -> str | None:
    """Move a store left inside the installed package by older versions into the data folder.

    Versions before this one kept their data in ``<site-packages>/var``, which a reinstall deletes.
    The folder is moved when the data folder holds no store yet; otherwise it is left where it is and
    named, so it is never silently abandoned.

    Args:
        settings: the resolved settings (the data folder and store in use).
        package_root: the folder holding the ``geodata`` package.
    Returns:
        A one-line notice for the user, or ``None`` when there is no such store.
    Raises:
        OSError: if the move fails half-way (the files left are still named by the error).
    """
    legacy = package_root / "var"
    if _is_checkout(package_root) or not (legacy / "incidents.sqlite").is_file():
        return None
    target = settings.data_dir
    if legacy.resolve() == target.resolve():
        return None
    default_db = settings.db_url == f"sqlite:///{target / 'incidents.sqlite'}"
    if default_db and not (target / "incidents.sqlite").exists():
        target.mkdir(parents=True, exist_ok=True)
        for item in legacy.iterdir():
            if not (target / item.name).exists():
                shutil.move(str(item), str(target / item.name))
        if not any(legacy.iterdir()):
            legacy.rmdir()
        return (f"conflictmap: moved the store from {legacy} (inside the installed package) "
                f"to the data folder {target}")
    return (f"conflictmap: an older store is still at {legacy / 'incidents.sqlite'}; the store in use is "
            f"{settings.db_url} (move the old one into {target} or set CONFLICTMAP_DATA_DIR to keep using it)")


@dataclass(frozen=True)
class Settings:
    """Resolved configuration; build it with :func:`get_settings`."""

    data_dir: Path
    boundaries_file: Path | None
    boundaries_url: str
    boundaries_sha256: str
    routes_file: Path
    db_url: str
    tiles: str | None
    tiles_attribution: str
    max_upload_mb: int
    #: Above this many stored incidents the dashboard selects through the store per filter change
    #: (geodata.query.pushdown) instead of loading everything: in memory, 1,000,000 incidents peak at
    #: 3–4.5 GB (BENCHMARKS.md), 100,000 at about 0.5–0.8 GB; the default equals
    #: layers.incidents.CLUSTER_LIMIT, beyond which the map aggregates anyway.
    pushdown_rows: int = DEFAULT_PUSHDOWN_ROWS
    #: From this many stored incidents on, counts, filter choices and lean map reads are answered
    #: by an in-process columnar copy of the store (DuckDB, geodata.store.columnar): milliseconds
    #: instead of seconds at a million; below it the store's indexes are as fast and use no memory.
    analytic_rows: int = DEFAULT_ANALYTIC_ROWS
    country_boundary_file: Path | None = None
    country_boundary_url: str = DEFAULT_COUNTRY_BOUNDARY_URL
    country_boundary_sha256: str = DEFAULT_COUNTRY_BOUNDARY_SHA256
    #: Address the dashboard serves on (``scripts/start.sh``); loopback unless the user says otherwise.
    serve_address: str = "127.0.0.1"
    acled_url: str = DEFAULT_ACLED_URL
    ucdp_url: str = DEFAULT_UCDP_URL
    #: ``CONFLICTMAP_SYNC_MAX_ROWS`` (default 200,000): most rows one sync may pull (events, and
    #: deletions, each). A pull is kept in memory until it is applied in one transaction, so this
    #: bounds its memory (a server sending full pages forever stops here with a one-line error and
    #: nothing stored). ACLED holds a few thousand events for Kosovo.
    sync_max_rows: int = 200_000
    #: ``CONFLICTMAP_AUTH``: ``"oidc"``, ``"none"`` or ``""`` (unset: decided by the serving address,
    #: see :func:`auth_mode`).
    auth: str = ""

    @property
    def boundaries_cache(self) -> Path:
        """Where downloaded/imported official boundaries are cached."""
        return self.data_dir / "boundaries" / "XKX_ADM2.geojson"

    @property
    def country_boundary_cache(self) -> Path:
        """Where the downloaded Kosovo outline (geoBoundaries ADM0) is cached."""
        return self.data_dir / "boundaries" / "XKX_ADM0.geojson"


def get_settings(env: dict[str, str] | None = None) -> Settings:
    """Read the settings from the environment.

    Args:
        env: mapping to read instead of ``os.environ`` (for tests).
    Returns:
        A frozen :class:`Settings`.
    Raises:
        ValueError: if a numeric setting is not a number.
    """
    e = os.environ if env is None else env
    data_dir = Path(e.get("CONFLICTMAP_DATA_DIR") or default_data_dir()).expanduser()
    boundaries = e.get("CONFLICTMAP_BOUNDARIES")
    tiles = e.get("CONFLICTMAP_TILES") or None
    if tiles and tiles.lower() == "none":
        tiles = None
    try:
        max_mb = int(e.get("CONFLICTMAP_MAX_UPLOAD_MB", "200"))
    except ValueError as exc:
        raise ValueError("CONFLICTMAP_MAX_UPLOAD_MB must be a whole number of megabytes") from exc
    try:
        pushdown_rows = int(e.get("CONFLICTMAP_PUSHDOWN_ROWS") or DEFAULT_PUSHDOWN_ROWS)
    except ValueError as exc:
        raise ValueError("CONFLICTMAP_PUSHDOWN_ROWS must be a whole number of incidents") from exc
    try:
        analytic_rows = int(e.get("CONFLICTMAP_ANALYTIC_ROWS") or DEFAULT_ANALYTIC_ROWS)
    except ValueError as exc:
        raise ValueError("CONFLICTMAP_ANALYTIC_ROWS must be a whole number of incidents") from exc
    try:
        sync_max_rows = int(e.get("CONFLICTMAP_SYNC_MAX_ROWS") or 200_000)
    except ValueError as exc:
        raise ValueError("CONFLICTMAP_SYNC_MAX_ROWS must be a whole number of rows") from exc
    return Settings(
        data_dir=data_dir,
        boundaries_file=Path(boundaries).expanduser() if boundaries else None,
        boundaries_url=e.get("CONFLICTMAP_BOUNDARIES_URL") or DEFAULT_BOUNDARIES_URL,
        boundaries_sha256=(e.get("CONFLICTMAP_BOUNDARIES_SHA256") or DEFAULT_BOUNDARIES_SHA256).lower(),
        routes_file=Path(e.get("CONFLICTMAP_ROUTES") or BUNDLED_DIR / "patrol_routes.geojson").expanduser(),
        db_url=e.get("CONFLICTMAP_DB") or f"sqlite:///{data_dir / 'incidents.sqlite'}",
        tiles=tiles,
        tiles_attribution=e.get("CONFLICTMAP_TILES_ATTRIBUTION") or f"Map tiles: {tiles}",
        max_upload_mb=max_mb,
        pushdown_rows=pushdown_rows,
        analytic_rows=analytic_rows,
        serve_address=(e.get("CONFLICTMAP_SERVE_ADDRESS") or "127.0.0.1").strip(),
        country_boundary_file=Path(e["CONFLICTMAP_COUNTRY_BOUNDARY"]).expanduser()
        if e.get("CONFLICTMAP_COUNTRY_BOUNDARY") else None,
        country_boundary_url=e.get("CONFLICTMAP_COUNTRY_BOUNDARY_URL") or DEFAULT_COUNTRY_BOUNDARY_URL,
        country_boundary_sha256=(e.get("CONFLICTMAP_COUNTRY_BOUNDARY_SHA256") or DEFAULT_COUNTRY_BOUNDARY_SHA256).lower(),
        acled_url=(e.get("CONFLICTMAP_ACLED_URL") or DEFAULT_ACLED_URL).rstrip("/"),
        ucdp_url=(e.get("CONFLICTMAP_UCDP_URL") or DEFAULT_UCDP_URL).rstrip("/"),
        sync_max_rows=max(1, sync_max_rows),
        auth=(e.get("CONFLICTMAP_AUTH") or "").strip().lower(),
    )


#: Addresses only this machine can reach.
LOOPBACK_ADDRESSES = frozenset({"127.0.0.1", "localhost", "::1"})


def auth_mode(settings: Settings, serving_on: str) -> str:
    """Whether the dashboard asks people to sign in: ``"oidc"`` or ``"none"``.

    ``CONFLICTMAP_AUTH`` decides when set; unset, a dashboard served on a loopback address is one
    person's (``none``) and one served on any other address requires sign-in (``oidc``). A value other
    than the two is taken as ``oidc``: a typo never opens the dashboard to the network.
    """
    if settings.auth == "none":
        return "none"
    if settings.auth:
        return "oidc"
    return "none" if serving_on in LOOPBACK_ADDRESSES else "oidc"


@dataclass(frozen=True)
class SmtpSettings:
    """Where digest e-mail goes (``CONFLICTMAP_SMTP_*``, see the table above)."""

    url: str
    user: str
    password: str
    sender: str


def get_smtp_settings(env: dict[str, str] | None = None) -> SmtpSettings:
    """Read the mail settings (``url`` is "" when unset).

    The user name and password come from the environment, else from Streamlit's secrets files (as the
    sync credentials do: :func:`geodata.sync.credentials.get_secret`).

    Args:
        env: mapping to read instead of ``os.environ`` (then no secrets file is read).
    """
    from geodata.sync.credentials import get_secret

    e = os.environ if env is None else env
    files: list[Path] | None = None if env is None else []
    return SmtpSettings(url=e.get("CONFLICTMAP_SMTP_URL", "").strip(),
                        user=get_secret("CONFLICTMAP_SMTP_USER", e, files) or "",
                        password=get_secret("CONFLICTMAP_SMTP_PASSWORD", e, files) or "",
                        sender=e.get("CONFLICTMAP_SMTP_FROM", "").strip() or "conflictmap@localhost")
