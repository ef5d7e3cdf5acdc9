#!/usr/bin/env bash
# Create or refresh the project's virtual environment (.venv) from requirements.txt, pinned by
# constraints.txt. A stamp holding the hash of both files skips the install when nothing changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$root/.venv}
python=${PYTHON:-python3}
want=$(cat "$root/requirements.txt" "$root/constraints.txt" | sha256sum | cut -c1-16)
stamp="$venv/.lanying-requirements"

if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "[venv] $venv is up to date"
  exit 0
fi
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (ansible-core 2.19)")'
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
echo "[venv] installing requirements.txt into $venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -r "$root/requirements.txt" -c "$root/constraints.txt"
echo "$want" > "$stamp"
# Read the whole output: closing the pipe early (head -1) makes Python print a BrokenPipeError.
version=$("$venv/bin/ansible" --version)
echo "[venv] ready: ${version%%$'\n'*}"
