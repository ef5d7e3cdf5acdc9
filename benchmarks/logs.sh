#!/usr/bin/env bash
# Log shipping on the local platform of `make demo`: a container on the app host prints EVENTS lines
# (default 20000) as fast as it can; prints how many events per second reached the receiver on the
# logging host (from the first line printed to the last document found), and the CPU time and memory
# syslog-ng used on the app host meanwhile. Then an outage drill: the receiver's TLS front stops, the app
# host's container prints OUTAGE_EVENTS numbered lines (default 200) and syslog-ng restarts there meanwhile,
# the receiver comes back; prints how many arrived, how many were lost and how many came twice.
# Usage: benchmarks/logs.sh   (EVENTS, OUTAGE_EVENTS, APP_HOST, LOG_HOST, LOG_ADDRESS, SECRETS_DIR to
# change it; OUTAGE_EVENTS=0 skips the drill)
set -euo pipefail
events=${EVENTS:-20000}
outage_events=${OUTAGE_EVENTS:-200}
app_host=${APP_HOST:-lanying-app}
log_host=${LOG_HOST:-lanying-db}
log_address=${LOG_ADDRESS:-172.30.0.11}
secrets=${SECRETS_DIR:-inventories/local/.secrets}
run="bench-$(date +%s)"

# The receiver answers the platform's hosts only, over TLS, to the shippers' account: ask from its own
# host, with the password on standard input.
# ask <path> <query as JSON>: the answer's JSON, or nothing when the receiver does not answer.
ask() {
  cat "$secrets/logging-lanying-shipper" | docker exec -i "$log_host" python3 -c "
import base64, json, ssl, sys, urllib.request
auth = base64.b64encode(('lanying-shipper:' + sys.stdin.read().strip()).encode()).decode()
request = urllib.request.Request('https://$log_address:9200/$1', sys.argv[1].encode(),
                                 {'Authorization': 'Basic ' + auth, 'Content-Type': 'application/json'})
context = ssl.create_default_context(cafile='/etc/lanying-im/log-receiver/ca.crt')
try:
    print(urllib.request.urlopen(request, context=context, timeout=10).read().decode())
except Exception:
    pass
" "$2"
}
count() {
  ask 'lanying-container-*/_count' "{\"query\": {\"bool\": {\"filter\": [{\"term\": {\"process\": \"$run\"}}]}}}" \
    | python3 -c "import json, sys; text = sys.stdin.read(); print(json.loads(text)['count'] if text else 0)"
}
shipper_usage() {
  docker exec "$app_host" sh -c 'pid=$(pidof syslog-ng); set -- $(cut -d" " -f14,15 /proc/$pid/stat);
    echo $(( $1 + $2 )) $(awk "/VmRSS/ {print \$2}" /proc/$pid/status)'
}

image=$(docker exec "$app_host" docker ps --filter label=lanying.im/instance=synapse-main --format '{{.Image}}' | head -1)
[ -n "$image" ] || { echo "no Synapse container on $app_host: run make demo first" >&2; exit 1; }
ticks=$(docker exec "$app_host" getconf CLK_TCK)
read -r cpu_before _ < <(shipper_usage)
start=$(date +%s.%N)
# Kept until its lines are shipped (removing a container removes its log file).
trap 'docker exec "$app_host" docker rm -f "$run" >/dev/null 2>&1 || true' EXIT
docker exec "$app_host" docker run --name "$run" --network none --label "lanying.im/instance=$run" --entrypoint /opt/synapse/bin/python \
  "$image" -c "
import sys
for i in range($events):
    sys.stdout.write('{\"msg\": \"benchmark event %d of $events\", \"n\": %d}\n' % (i, i))
" >/dev/null
printed=$(date +%s.%N)
until [ "$(count)" -ge "$events" ]; do
  sleep 0.5
  if python3 -c "import sys; sys.exit(0 if $(date +%s.%N) - $start > 300 else 1)"; then
    echo "only $(count) of $events events arrived within 300 s" >&2
    exit 1
  fi
done
arrived=$(date +%s.%N)
read -r cpu_after rss_kb < <(shipper_usage)
python3 -c "
events, start, printed, arrived = $events, $start, $printed, $arrived
cpu = ($cpu_after - $cpu_before) / $ticks
print('%d events printed in %.1f s, all in the receiver after %.1f s: %.0f events/s shipped' % (
    events, printed - start, arrived - start, events / (arrived - start)))
print('syslog-ng on $app_host: %.1f s CPU (%.0f %% of one core over the run), %.0f MiB resident' % (
    cpu, 100 * cpu / (arrived - start), $rss_kb / 1024))
"

[ "$outage_events" -gt 0 ] || exit 0
# The receiver comes back whatever happens.
trap 'docker exec "$app_host" docker rm -f "$run" "$run-outage" >/dev/null 2>&1 || true; docker exec "$log_host" systemctl start nginx' EXIT
docker exec "$log_host" systemctl stop nginx
docker exec "$app_host" docker run --name "$run-outage" --network none --label "lanying.im/instance=$run-outage" \
  --entrypoint /opt/synapse/bin/python "$image" -c "
for i in range(1, $outage_events + 1):
    print('$run outage event %d' % i, flush=True)
" >/dev/null
sleep "${OUTAGE_RESTART_AFTER:-5}"
docker exec "$app_host" systemctl restart syslog-ng
docker exec "$log_host" systemctl start nginx
back=$(date +%s)
search="{\"size\": $((outage_events * 2)), \"query\": {\"bool\": {\"filter\": [{\"term\": {\"process\": \"$run-outage\"}}]}}}"
# Numbers found, one per line; the last answer is kept once all arrived or after 60 s.
while true; do
  numbers=$(ask 'lanying-*/_search' "$search" | python3 -c "
import json, sys
text = sys.stdin.read()
for hit in (json.loads(text)['hits']['hits'] if text else []):
    print(hit['_source']['message'].rsplit(' ', 1)[-1])")
  distinct=$(printf '%s\n' "$numbers" | { grep . || true; } | sort -u | wc -l)
  { [ "$distinct" -ge "$outage_events" ] || [ $(($(date +%s) - back)) -ge 60 ]; } && break
  sleep 2
done
found=$(printf '%s\n' "$numbers" | grep -c . || true)
echo "outage with syslog-ng restarted on $app_host: $distinct of $outage_events events arrived ($((outage_events - distinct)) lost, $((found - distinct)) twice) within $(($(date +%s) - back)) s of the receiver's return"
