#!/usr/bin/env bash
# Make sure a Debian package cache (apt-cacher-ng) answers on this machine, so that the local hosts of
# make demo and of the test suite download each package once, however many hosts and runs need it.
#
# Prints the port on standard output when the cache answers (the hosts reach it at their network's
# gateway address); prints nothing and exits 0 when it cannot be had, and the hosts then fetch from
# the mirror directly. LANYING_APT_CACHE=0 turns it off.
set -euo pipefail

port=${LANYING_APT_CACHE_PORT:-3142}
mirror=${LANYING_DEBIAN_MIRROR:-http://deb.debian.org/debian}
log() { printf '[apt-cache] %s\n' "$*" >&2; }
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }

if [ "${LANYING_APT_CACHE:-1}" = 0 ]; then
  log "turned off (LANYING_APT_CACHE=0): hosts fetch packages from the mirror"
  exit 0
fi
if answers; then
  log "package cache answers on port $port"
  echo "$port"
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  log "no package cache on port $port, and this is not a root shell on Debian: hosts fetch packages from the mirror"
  exit 0
fi
if ! command -v apt-cacher-ng >/dev/null && [ ! -x /usr/sbin/apt-cacher-ng ]; then
  log "installing Debian's apt-cacher-ng"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends apt-cacher-ng >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends apt-cacher-ng >/dev/null; } \
    || { log "apt-cacher-ng could not be installed: hosts fetch packages from the mirror"; exit 0; }
fi
# Hosts are containers on this machine's bridges: the cache listens where they can reach it. It only
# serves package repositories (no CONNECT tunnels: HTTPS sources go direct). Requests for any Debian
# mirror are served from one cache, filled from the mirror this machine uses (the package's default
# backend, ftp.debian.org, may be out of reach).
if [ -d /run/systemd/system ] && systemctl start apt-cacher-ng 2>/dev/null; then
  :
else
  install -d -o apt-cacher-ng -g apt-cacher-ng /run/apt-cacher-ng
  runuser -u apt-cacher-ng -- /usr/sbin/apt-cacher-ng -c /etc/apt-cacher-ng "Port=$port" ForeGround=0 \
    PidFile=/run/apt-cacher-ng/pid SocketPath=/run/apt-cacher-ng/socket \
    LogDir=/var/log/apt-cacher-ng CacheDir=/var/cache/apt-cacher-ng \
    "Remap-debrep=file:deb_mirror*.gz /debian ; ${mirror%/}/" >/dev/null 2>&1 || true
fi
for _ in $(seq 1 20); do
  if answers; then
    log "package cache started on port $port (/var/cache/apt-cacher-ng)"
    echo "$port"
    exit 0
  fi
  sleep 0.5
done
log "apt-cacher-ng did not answer on port $port: hosts fetch packages from the mirror"
