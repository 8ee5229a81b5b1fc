#!/usr/bin/env bash
# One command from a fresh clone to the full test suite: system packages (Chromium, PostgreSQL +
# PostGIS), the pinned Python requirements, then pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --system
exec .venv/bin/python -m pytest -rs "$@" tests
