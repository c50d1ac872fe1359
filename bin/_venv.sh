# Sourced by bin/demo and bin/test: create (or reuse) a virtual environment and install
# the project into it from this checkout. Needs only Python 3.11+ on PATH.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LEDGER_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
  echo "error: Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)" >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true

# install_project [EXTRA]: install this checkout (not editable) into the venv; pip's output
# goes to a log that is shown only if the install fails.
install_project() {
  local spec="$ROOT${1:+[$1]}" log="$VENV/install.log"
  rm -rf "$ROOT/build"  # a stale setuptools staging dir would leak old files into the wheel
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check "$spec" >"$log" 2>&1; then
    cat "$log" >&2
    echo "error: installing $spec failed (log: $log)" >&2
    exit 2
  fi
  rm -rf "$ROOT/build"
}
