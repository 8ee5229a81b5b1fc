"""Where the sync commands find their secrets: the environment first, then Streamlit's secrets file.

Secrets are returned to the caller and never printed, logged or put into an error message.
Streamlit's ``secrets.toml`` is read with :mod:`tomllib` from the places Streamlit itself looks
(``~/.streamlit/secrets.toml``, then ``./.streamlit/secrets.toml``, the latter winning), so the
command line needs no Streamlit import.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path

#: Names of the secrets the sources use.
ACLED_USERNAME = "ACLED_USERNAME"
ACLED_PASSWORD = "ACLED_PASSWORD"
UCDP_TOKEN = "UCDP_TOKEN"


def secrets_files(cwd: Path | None = None) -> list[Path]:
    """Streamlit secrets files in the order Streamlit reads them (later ones win)."""
    return [Path.home() / ".streamlit" / "secrets.toml", (cwd or Path.cwd()) / ".streamlit" / "secrets.toml"]


def _from_files(name: str, files: list[Path]) -> str | None:
    value: str | None = None
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
            continue  # a missing or broken secrets file is the same as none: the caller says what is missing
        found = data.get(name)
        if isinstance(found, str) and found.strip():
            value = found.strip()
    return value


def get_secret(name: str, env: Mapping[str, str] | None = None, files: list[Path] | None = None) -> str | None:
    """The secret ``name`` from the environment, else from Streamlit's secrets files.

    Args:
        name: e.g. :data:`ACLED_USERNAME`.
        env: mapping to read instead of ``os.environ``.
        files: secrets files to read instead of :func:`secrets_files`.
    Returns:
        The value, or ``None`` when it is set nowhere (empty counts as unset).
    """
    e = os.environ if env is None else env
    value = (e.get(name) or "").strip()
    if value:
        return value
    return _from_files(name, secrets_files() if files is None else files)


def configured_sources(env: Mapping[str, str] | None = None, files: list[Path] | None = None) -> dict[str, bool]:
    """Which sources have their secrets set: ``{"acled": bool, "ucdp": bool}``."""
    return {
        "acled": bool(get_secret(ACLED_USERNAME, env, files) and get_secret(ACLED_PASSWORD, env, files)),
        "ucdp": bool(get_secret(UCDP_TOKEN, env, files)),
    }
