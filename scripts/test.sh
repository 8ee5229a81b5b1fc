#!/usr/bin/env bash
# One command from a fresh clone to the full test suite: system packages (Chromium, PostgreSQL +
# PostGIS), the pinned Python requirements, lint (ruff) and types (mypy, settings in pyproject.toml),
# then pytest. Extra arguments go to pytest. In CI (CI=true) a test that would skip fails instead
# (tests/conftest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --system
echo "test: ruff check"
.venv/bin/ruff check --quiet .
echo "test: mypy"
.venv/bin/mypy
exec .venv/bin/python -m pytest -rsR "$@" tests
