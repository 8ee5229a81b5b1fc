#!/usr/bin/env bash
# Set up conflictmap on a fresh machine: Python virtualenv with the pinned requirements, and —
# with --system — the Debian packages the tests need (Chromium for browser tests,
# PostgreSQL + PostGIS for the store tests). Safe to run repeatedly; does nothing already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${PYTHON:-python3}"
VENV="${CONFLICTMAP_VENV:-.venv}"

if [[ "${1:-}" == "--system" ]]; then
  need=()
  [[ -x /usr/bin/chromium ]] || need+=(chromium)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || need+=(postgis)
  if ((${#need[@]})); then
    if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
    echo "setup: installing Debian packages: ${need[*]}"
    $SUDO apt-get update -qq
    # Recommends stay on: `postgis` pulls the server extension (postgresql-N-postgis-3) through them.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

if [[ ! -x "$VENV/bin/python" ]]; then
  echo "setup: creating virtualenv $VENV"
  "$PY" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
  echo "setup: installing Python requirements (pinned)"
  # grep: hide pip's notices about optional local package indexes that some machines lack
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r requirements.txt \
    2> >(grep -v "is ignored: it is neither" >&2)
  echo "$want" > "$stamp"
fi
