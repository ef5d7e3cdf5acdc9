#!/usr/bin/env bash
# Deploy time of the local platform, cold and warm, on one host and on three, in one run:
#   cold  the hosts are new (removed first); the controller's caches are as they are, or emptied
#         first with --empty-caches (image archives, wheels, the package cache, test-host images)
#   warm  make demo again at once: nothing to change (the run must report changed=0)
#   linear  (with --linear) the warm run again with Ansible's own strategy instead of Mitogen's
# For each run: wall time, and tasks per host (ok= of the play recap). Then the ratios.
#
#   benchmarks/deploy.sh [--empty-caches] [--linear]
# The local platforms are removed at the end. Logs: .cache/logs/deploy-<inventory>-<cold|warm>.log
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
empty_caches=0 linear=0
for arg in "$@"; do
  case $arg in
    --empty-caches) empty_caches=1 ;;
    --linear) linear=1 ;;
    *) echo "usage: $0 [--empty-caches] [--linear]" >&2; exit 2 ;;
  esac
done
phases=(cold warm)
[ $linear = 1 ] && phases+=(linear)
mkdir -p .cache/logs
declare -A seconds tasks changed

run() {  # inventory label phase
  local inventory=$1 label=$2 phase=$3 log=".cache/logs/deploy-$2-$3.log" start
  start=$(date +%s.%N)
  INVENTORY=$inventory scripts/demo.sh >"$log" 2>&1 || { echo "make demo on $inventory ($phase) failed: see $log" >&2; exit 1; }
  seconds[$label-$phase]=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {printf "%.1f", a - b}')
  # The recap of the last playbook run (demo.yml): ok= and changed= per host.
  tasks[$label-$phase]=$(awk '/PLAY RECAP/ {n++} n && /ok=/ {sub(/ok=/, "", $3); printf "%s%s=%s", sep, $1, $3; sep=" "}' "$log")
  changed[$label-$phase]=$(awk '/PLAY RECAP/ {n++} n && /changed=/ {sub(/changed=/, "", $4); s += $4} END {print s + 0}' "$log")
}

if [ $empty_caches = 1 ]; then
  echo "[deploy] emptying the controller's caches"
  rm -rf "${HOME}/.cache/lanying-im/images" .cache/images
  [ -d /var/cache/apt-cacher-ng ] && find /var/cache/apt-cacher-ng -mindepth 1 -maxdepth 1 -exec rm -rf {} +
  docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^lanying-(testhost|base):' | xargs -r docker image rm >/dev/null
fi

for pair in local-one:inventories/local-one three:inventories/local; do
  label=${pair%%:*} inventory=${pair#*:}
  echo "[deploy] $label: removing its hosts, then a cold and a warm make demo"
  INVENTORY=$inventory scripts/demo.sh down >/dev/null 2>&1 || true
  run "$inventory" "$label" cold
  run "$inventory" "$label" warm
  [ $linear = 1 ] && ANSIBLE_STRATEGY=linear run "$inventory" "$label" linear
  [ "${changed[$label-warm]}" = 0 ] || echo "[deploy] warning: the warm run on $label changed ${changed[$label-warm]} task(s)" >&2
  INVENTORY=$inventory scripts/demo.sh down >/dev/null 2>&1 || true
done

echo
printf '%-10s %-5s %9s  %s\n' platform run seconds "tasks per host (ok=)"
for label in local-one three; do
  for phase in "${phases[@]}"; do
    printf '%-10s %-5s %9.1f  %s\n' "$label" "$phase" "${seconds[$label-$phase]}" "${tasks[$label-$phase]}"
  done
done
echo
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "warm, three hosts / one host: $(ratio "${seconds[three-warm]}" "${seconds[local-one-warm]}")"
echo "cold, three hosts / one host: $(ratio "${seconds[three-cold]}" "${seconds[local-one-cold]}")"
echo "three hosts, warm / cold:     $(ratio "${seconds[three-warm]}" "${seconds[three-cold]}")"
if [ $linear = 1 ]; then
  echo "warm, Mitogen / linear, one host:    $(ratio "${seconds[local-one-warm]}" "${seconds[local-one-linear]}")"
  echo "warm, Mitogen / linear, three hosts: $(ratio "${seconds[three-warm]}" "${seconds[three-linear]}")"
fi
