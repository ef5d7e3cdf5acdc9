#!/usr/bin/env bash
# Messages per second and delivery latency through the gateway of the local platform (make demo's
# hosts), for the worker presets given (default: none and small), side by side. Each preset is deployed
# with site.yml first (the time is printed too), then the same workload runs: PAIRS sender/receiver
# pairs, MESSAGES messages per sender. This is a measurement, not a test; figures depend on the machine.
#   benchmarks/throughput.sh [preset...]      PAIRS=8 MESSAGES=50
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(none small)
pairs=${PAIRS:-8}
messages=${MESSAGES:-50}
"$root/scripts/venv.sh" >/dev/null
# shellcheck disable=SC1091
source "$root/.venv/bin/activate"
scripts/ensure-docker.sh
molecule/testhost/build.sh --all bookworm >/dev/null

inventory=inventories/local
gateway=$(ansible-inventory -i "$inventory/hosts.yml" --host lanying-gw | python3 -c 'import json,sys; print(json.load(sys.stdin)["ansible_host"])')
declare -A results deploy
for preset in "${presets[@]}"; do
  echo "[bench] deploying preset $preset"
  start=$SECONDS
  ansible-playbook playbooks/demo.yml -e "{\"lanying_im_topology\": {\"workers\": \"$preset\"}}" >".cache/bench-deploy-$preset.log" 2>&1
  deploy[$preset]=$((SECONDS - start))
  ansible-playbook -e bench_users=$((2 * pairs)) benchmarks/users.yml >".cache/bench-users-$preset.log" 2>&1
  echo "[bench] running $pairs pairs x $messages messages against preset $preset"
  results[$preset]=$(python benchmarks/chat_load.py --url "https://$gateway/" --ca-file "$inventory/.pki/ca.crt" \
    --secrets "$inventory/.secrets" --pairs "$pairs" --messages "$messages")
done

printf '\n%-10s %10s %10s %12s %10s %10s %9s\n' preset "deploy s" delivered "messages/s" "p50 ms" "p99 ms" lost
for preset in "${presets[@]}"; do
  python3 - "$preset" "${deploy[$preset]}" "${results[$preset]}" <<'PY'
import json, sys
preset, deploy, result = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
print("%-10s %10s %10d %12.1f %10s %10s %9d" % (preset, deploy, result["messages_delivered"], result["messages_per_second"],
      result["p50_ms"], result["p99_ms"], result["messages_sent"] - result["messages_delivered"]))
PY
done
echo "(the local hosts keep the last preset; make demo returns them to the inventory's settings)"
