#!/usr/bin/env bash
# One command from a fresh clone to a running dashboard: set up, fetch the official boundaries
# if the network allows (the dashboard starts without them, with a notice, if not), run Streamlit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
PYBIN=.venv/bin/python
if ! "$PYBIN" -c 'from geodata.settings import get_settings; from geodata.boundaries import find_boundaries; import sys; sys.exit(0 if find_boundaries(get_settings()) else 1)'; then
  echo "start: fetching official municipal boundaries (geoBoundaries 4.0.0, SHA-256 pinned)…"
  "$PYBIN" -m geodata boundaries || echo "start: boundaries not installed (no network?). The map runs without municipality polygons; see README, 'Official boundaries'."
fi
# Streamlit refuses uploads above its own limit before the app sees them: keep it at least as
# large as conflictmap's CONFLICTMAP_MAX_UPLOAD_MB (whose clear message then applies).
max_mb=$("$PYBIN" -c 'from geodata.settings import get_settings; print(get_settings().max_upload_mb)')
exec "$PYBIN" -m streamlit run dashboard/app.py --browser.gatherUsageStats false --server.maxUploadSize "$((max_mb + 1))" "$@"
