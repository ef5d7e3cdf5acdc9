#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine (the test hosts are containers).
#
# A running engine is used as it is. Otherwise, when this runs as root on a Debian-family system,
# Debian's docker.io package is installed if needed and the engine is started (through systemd
# when systemd runs this machine, else as a background dockerd). In every other case it stops
# with a message that says what to do.
set -euo pipefail

log() { printf '[docker] %s\n' "$*" >&2; }
engine_up() { docker info >/dev/null 2>&1; }

if command -v docker >/dev/null && engine_up; then
  log "engine running: $(docker version -f 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null)"
  exit 0
fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  log "no Docker engine answers, and this is not a root shell on a Debian-family system, so it cannot be"
  log "installed here. Install and start Docker (for example: sudo apt-get install docker.io &&"
  log "sudo systemctl start docker), make sure '$(id -un)' may use it, then run the command again."
  exit 1
fi

if ! command -v dockerd >/dev/null; then
  log "no Docker engine is installed: installing Debian's docker.io package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null && engine_up; then
  log "started the engine with systemd: $(docker version -f '{{.Server.Version}}')"
  exit 0
fi

log "starting dockerd in the background (no systemd here); log: /var/log/lanying-dockerd.log"
# systemd would give the engine LimitNOFILE=infinity; come as close as this shell allows.
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"
nohup dockerd >>/var/log/lanying-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if engine_up; then
    log "engine running: $(docker version -f '{{.Server.Version}}')"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; last lines of /var/log/lanying-dockerd.log:"
tail -20 /var/log/lanying-dockerd.log >&2
exit 1
