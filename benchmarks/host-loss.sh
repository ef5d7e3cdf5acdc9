#!/usr/bin/env bash
# Host loss on the local platform (make demo, three hosts): the app host's container and its volumes are
# destroyed, then make demo runs once: it creates a fresh host with the same name and site.yml deploys it
# (engine, images from the registry, Synapse), and its last play delivers a message through the gateway.
# The media store lived on that host: playbooks/restore.yml -e restore_database=false puts back its newest
# snapshot from the backup host (the local inventory's backup group). Prints the minutes from the destruction to the first delivered message, and the media restore.
#
#   benchmarks/host-loss.sh            (the local platform must be up: make demo)
# Logs: .cache/logs/host-loss-*.log
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
host=${HOST_LOSS_HOST:-lanying-app}
mkdir -p .cache/logs
docker inspect "$host" >/dev/null 2>&1 || { echo "no container $host: run make demo first" >&2; exit 2; }
# shellcheck disable=SC1091
source .venv/bin/activate
seconds() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN {printf "%.1f", a - b}'; }

echo "[host-loss] destroying $host (container and volumes)"
start=$(date +%s.%N)
docker rm --force --volumes "$host" >/dev/null
scripts/demo.sh >.cache/logs/host-loss-demo.log 2>&1 || { echo "make demo failed: see .cache/logs/host-loss-demo.log" >&2; exit 1; }
delivered=$(seconds "$start")
probe=$(grep -o 'Delivery probe: delivered in [0-9.]* ms' .cache/logs/host-loss-demo.log | tail -1)
[ -n "$probe" ] || { echo "no delivery in the run: see .cache/logs/host-loss-demo.log" >&2; exit 1; }

media_start=$(date +%s.%N)
ansible-playbook -i inventories/local playbooks/restore.yml -e restore_database=false \
  >.cache/logs/host-loss-media.log 2>&1 || { echo "media restore failed: see .cache/logs/host-loss-media.log" >&2; exit 1; }
media=$(seconds "$media_start")

echo
echo "destroyed -> first delivered message: ${delivered} s ($(awk -v s="$delivered" 'BEGIN {printf "%.1f", s / 60}') min); ${probe#Delivery probe: }"
echo "media store restored from its newest snapshot: ${media} s"
if grep -rqs 'backup_repository: *path' inventories/local/; then
  echo "note: this platform keeps its backups on a path of each host (backup_repository: path), so the media"
  echo "repository went with the lost host and this restored the fresh host's own first snapshot; with a backup"
  echo "host (the local inventory's default), S3 or a share mounted at backup_media_path the files come back."
fi
