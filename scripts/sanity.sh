#!/usr/bin/env bash
# Run `ansible-test sanity` on the collection with the current Python, offline-friendly:
# the per-test virtual environments get pip from ensurepip instead of a download.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
collection="$root/collections/ansible_collections/lanying/im"
python=${PYTHON:-python3}
pyver=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')

pip_version=$("$python" - <<'PY'
import re, ansible_test._internal.python_requirements as pr, inspect
print(re.search(r"pip='([0-9.]+)'", inspect.getsource(pr.get_venv_packages)).group(1))
PY
)
cache="$HOME/.ansible/test/cache/get_pip_${pip_version//./_}.py"
if [ ! -f "$cache" ]; then
  mkdir -p "$(dirname "$cache")"
  cp "$root/scripts/offline-get-pip.py" "$cache"
fi

cd "$collection"
# ansible-test only looks at files git knows; run it on the work tree as it is.
exec ansible-test sanity --venv --python "$pyver" --color no "$@"
