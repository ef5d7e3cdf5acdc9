#!/usr/bin/env bash
# make demo: the platform on local containers, from a fresh machine.
#   scripts/demo.sh        create or update the local hosts and deploy on them (idempotent)
#   scripts/demo.sh down   remove the local hosts
# INVENTORY=inventories/local-one puts the whole platform on one local host instead of three.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
inventory=${INVENTORY:-inventories/local}
"$root/scripts/venv.sh"
# shellcheck disable=SC1091
source "$root/.venv/bin/activate"

if [ "${1:-up}" = down ]; then
  docker info >/dev/null 2>&1 || { echo "[demo] no Docker engine answers: nothing to remove"; exit 0; }
  exec ansible-playbook -i "$inventory" playbooks/local/down.yml
fi

start=$SECONDS
scripts/ensure-docker.sh
LANYING_APT_CACHE_PORT=$(scripts/ensure-apt-cache.sh)
export LANYING_APT_CACHE_PORT
molecule/testhost/build.sh --all bookworm
ansible-playbook -i "$inventory" playbooks/demo.yml
echo "[demo] done in $((SECONDS - start))s"
