#!/usr/bin/env bash
# Time from a chat process stopping to its alert in Alertmanager, and from its start to the alert's
# end, on the local platform of `make demo` with the settings in force (production defaults unless the
# inventory changes them). Also prints the scrape targets, rules and scrape durations Prometheus reports.
# Usage: benchmarks/alerting.sh [process] (default synapse-main; a worker name with a worker preset).
set -euo pipefail
process=${1:-synapse-main}
app_host=${APP_HOST:-lanying-app}
monitor=${MONITOR_ADDRESS:-172.30.0.13}
monitor_host=${MONITOR_HOST:-lanying-gw}
secrets=${SECRETS_DIR:-inventories/local/.secrets}
prometheus=https://$monitor:9090
alertmanager=https://$monitor:9093

# Prometheus and Alertmanager answer their own host only (host firewall), over TLS, to an account:
# ask from there, with the administrator's password on curl's standard input (not its command line).
curl() {
  { printf 'user = "admin:%s"\n' "$(cat "$secrets/monitoring-admin")"; } |
    docker exec -i "$monitor_host" curl -K - --cacert /etc/lanying-im/monitoring/prometheus/ca.crt "$@"
}

json() { python3 -c "import json, sys; data = json.load(sys.stdin); print($1)"; }
firing() {
  curl -fsS "$alertmanager/api/v2/alerts?active=true&silenced=false&inhibited=false" |
    json "sum(1 for a in data if a['labels'].get('alertname') == 'LanyingChatProcessDown' and a['labels'].get('process') == '$process')"
}

curl -fsS "$prometheus/api/v1/targets?state=active" | json "'targets: %d (%d up) in %d jobs; scrape duration max %.3f s, median %.3f s' % (
  len(data['data']['activeTargets']), sum(t['health'] == 'up' for t in data['data']['activeTargets']),
  len({t['labels']['job'] for t in data['data']['activeTargets']}),
  max(t['lastScrapeDuration'] for t in data['data']['activeTargets']),
  sorted(t['lastScrapeDuration'] for t in data['data']['activeTargets'])[len(data['data']['activeTargets']) // 2])"
curl -fsS "$prometheus/api/v1/rules" | json "'rules: %d alerting, %d recording; LanyingChatProcessDown for: %ss' % (
  sum(r['type'] == 'alerting' for g in data['data']['groups'] for r in g['rules']),
  sum(r['type'] == 'recording' for g in data['data']['groups'] for r in g['rules']),
  [r['duration'] for g in data['data']['groups'] for r in g['rules'] if r['name'] == 'LanyingChatProcessDown'][0])"
curl -fsS "$prometheus/api/v1/status/config" | json "'global: ' + ', '.join(dict.fromkeys(l.strip() for l in data['data']['yaml'].split('scrape_configs:')[0].splitlines() if l.strip().startswith(('scrape_interval', 'evaluation_interval'))))"

[ "$(firing)" = 0 ] || { echo "LanyingChatProcessDown is already firing for $process" >&2; exit 1; }
start=$(date +%s.%N)
docker exec "$app_host" docker stop "lanying-$process" >/dev/null
trap 'docker exec "$app_host" docker start "lanying-$process" >/dev/null' EXIT
until [ "$(firing)" = 1 ]; do sleep 1; done
alerted=$(date +%s.%N)
docker exec "$app_host" docker start "lanying-$process" >/dev/null
trap - EXIT
until [ "$(firing)" = 0 ]; do sleep 1; done
resolved=$(date +%s.%N)
python3 -c "print('$process stopped -> alert in Alertmanager: %.1f s; started -> alert gone: %.1f s' % ($alerted - $start, $resolved - $alerted))"
