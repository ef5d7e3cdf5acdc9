#!/usr/bin/env bash
# Build images from Debian's own packages (no container registry needed).
#
#   molecule/testhost/build.sh [SUITE...]          systemd test hosts; default suites: bookworm trixie
#   molecule/testhost/build.sh --base [SUITE...]   plain base images for image builds (default: bookworm),
#                                                  also saved as .cache/images/lanying-base-<suite>.tar
#   molecule/testhost/build.sh --all [SUITE...]    test hosts of the suites (default: both) and the base image
#
# Images build side by side: debootstrap waits on the network and the disk more than on the CPU.
# Each image is tagged <name>:<suite>-<hash>, where the hash covers every input (this script, the
# in-root setup script, the package list, the suite and the mirror), and <name>:<suite> points at
# the newest build. An image whose inputs did not change is reused, not rebuilt.
#
# Environment:
#   LANYING_DEBIAN_MIRROR   Debian mirror (default http://deb.debian.org/debian)
#   LANYING_TESTHOST_FORCE  set to 1 to rebuild even when the tagged image exists
#   LANYING_APT_CACHE_PORT  port of a package cache on this machine (scripts/ensure-apt-cache.sh) that
#                           debootstrap downloads through; the images do not depend on it
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${LANYING_IMAGE_CACHE:-$(cd "$here/../.." && pwd)/.cache/images}
mirror=${LANYING_DEBIAN_MIRROR:-http://deb.debian.org/debian}
select_kind() {
  kind=$1
  if [ "$kind" = testhost ]; then
    name=lanying-testhost
    packages=$(grep -v '^#' "$here/packages.txt" | xargs | tr ' ' ',')
  else
    name=lanying-base
    packages=ca-certificates
  fi
}
jobs=()
case "${1:-}" in
  --base)
    shift
    for suite in "${@:-bookworm}"; do jobs+=("base $suite"); done ;;
  --all)
    shift
    [ $# -gt 0 ] || set -- bookworm trixie
    for suite in "$@"; do jobs+=("testhost $suite"); done
    jobs+=("base bookworm") ;;
  *)
    [ $# -gt 0 ] || set -- bookworm trixie
    for suite in "$@"; do jobs+=("testhost $suite"); done ;;
esac

log() { printf '[testhost] %s\n' "$*" >&2; }

if ! command -v debootstrap >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  log "debootstrap is missing: installing Debian's debootstrap package"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null; }
fi
for tool in docker debootstrap; do
  command -v "$tool" >/dev/null || { log "missing '$tool': install it (apt-get install $tool) and retry"; exit 2; }
done

inputs_hash() {
  local suite=$1
  { cat "$here/build.sh" "$here/setup-rootfs.sh" "$here/packages.txt"; echo "$kind $suite $mirror"; } \
    | sha256sum | cut -c1-12
}

build_one() {
  select_kind "$1"
  local suite=$2 tag hash rootfs start
  hash=$(inputs_hash "$suite")
  tag="${name}:${suite}-${hash}"
  if [ "${LANYING_TESTHOST_FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag is up to date (inputs unchanged), reusing it"
    docker tag "$tag" "${name}:${suite}"
    save_archive "$suite" "$hash"
    return 0
  fi
  start=$(date +%s)
  rootfs=$(mktemp -d "/var/tmp/${name}-${suite}.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" RETURN
  log "building $tag from $mirror (debootstrap, a few minutes)"
  http_proxy=${LANYING_APT_CACHE_PORT:+http://127.0.0.1:$LANYING_APT_CACHE_PORT} \
    debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    log "debootstrap of $suite failed; last lines of its log:"; tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; return 1; }
  rm -f "$rootfs.log"
  cp "$here/setup-rootfs.sh" "$rootfs/tmp/setup-rootfs.sh"
  chroot "$rootfs" /bin/sh /tmp/setup-rootfs.sh "$kind" "$suite" "$mirror" || { log "setting up the $suite root failed"; return 1; }
  rm -f "$rootfs/tmp/setup-rootfs.sh"
  # Functions called with || run without errexit: check every step explicitly.
  local changes=(--change 'CMD ["/bin/bash"]')
  [ $kind = testhost ] && changes=(--change 'CMD ["/lib/systemd/systemd"]' --change 'ENV container=docker')
  tar -C "$rootfs" --numeric-owner -c . | docker import "${changes[@]}" \
    --message "lanying.im $kind image: Debian $suite from $mirror" \
    - "$tag" >/dev/null || { log "docker import of $tag failed"; return 1; }
  docker tag "$tag" "${name}:${suite}" || return 1
  save_archive "$suite" "$hash" || return 1
  log "built $tag in $(( $(date +%s) - start ))s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

# Base images also go to an archive that roles load on hosts without registry access.
save_archive() {
  local suite=$1 hash=$2 archive="$cache/${name}-$1.tar"
  [ $kind = base ] || return 0
  if [ -f "$archive" ] && [ "$(cat "$archive.inputs" 2>/dev/null)" = "$hash" ]; then
    return 0
  fi
  mkdir -p "$cache"
  docker save "${name}:${suite}" -o "$archive.tmp" && mv "$archive.tmp" "$archive" && echo "$hash" > "$archive.inputs" \
    || { log "saving $archive failed"; return 1; }
  log "saved ${name}:${suite} to $archive"
}

pids=()
for job in "${jobs[@]}"; do
  # shellcheck disable=SC2086 # kind and suite
  build_one $job &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || status=1
done
exit $status
