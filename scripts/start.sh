#!/usr/bin/env bash
# One command from a fresh clone to a running dashboard: set up, fetch the official boundaries
# if the network allows (the dashboard starts without them, with a notice, if not), run Streamlit.
#
#   bash scripts/start.sh             serve on this machine only (http://127.0.0.1:8501)
#   bash scripts/start.sh --network   serve on every network interface: anyone who reaches this
#                                     machine can upload incidents and undo uploads
# CONFLICTMAP_SERVE_ADDRESS=ADDRESS picks another address (see geodata/settings.py). Other arguments
# go to `streamlit run`.
set -euo pipefail
cd "$(dirname "$0")/.."
network=0
args=()
for a in "$@"; do
  if [ "$a" = "--network" ]; then network=1; else args+=("$a"); fi
done
bash scripts/setup.sh
PYBIN=.venv/bin/python
if ! "$PYBIN" -c 'from geodata.settings import get_settings; from geodata.geo.boundaries import find_boundaries; import sys; sys.exit(0 if find_boundaries(get_settings()) else 1)'; then
  echo "start: fetching official municipal boundaries (geoBoundaries 4.0.0, SHA-256 pinned)…"
  "$PYBIN" -m geodata boundaries || echo "start: boundaries not installed (no network?). The map runs without municipality polygons; see README, 'Official boundaries'."
fi
# Streamlit refuses uploads above its own limit before the app sees them: keep it at least as
# large as conflictmap's CONFLICTMAP_MAX_UPLOAD_MB (whose clear message then applies).
max_mb=$("$PYBIN" -c 'from geodata.settings import get_settings; print(get_settings().max_upload_mb)')
address=$("$PYBIN" -c 'from geodata.settings import get_settings; print(get_settings().serve_address)')
if [ "$network" = 1 ]; then address=0.0.0.0; fi
case "$address" in
  127.0.0.1|localhost|::1) ;;
  *) echo "start: WARNING: serving on $address — anyone who can reach this machine on the network can open the" \
          "dashboard, upload incidents and undo uploads. Without --network it serves on 127.0.0.1 only." >&2 ;;
esac
exec "$PYBIN" -m streamlit run dashboard/app.py --browser.gatherUsageStats false --server.address "$address" \
  --server.maxUploadSize "$((max_mb + 1))" "${args[@]+"${args[@]}"}"
