#!/usr/bin/env bash
# Build systemd test-host images from Debian's own packages (no container registry needed).
#
#   molecule/testhost/build.sh [SUITE...]     default suites: bookworm trixie
#
# Each image is tagged lanying-testhost:<suite>-<hash>, where the hash covers every input
# (this script, the in-root setup script, the package list, the suite and the mirror), and
# lanying-testhost:<suite> points at the newest build. An image whose inputs did not change
# is reused, not rebuilt.
#
# Environment:
#   LANYING_DEBIAN_MIRROR   Debian mirror (default http://deb.debian.org/debian)
#   LANYING_TESTHOST_FORCE  set to 1 to rebuild even when the tagged image exists
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mirror=${LANYING_DEBIAN_MIRROR:-http://deb.debian.org/debian}
packages=$(grep -v '^#' "$here/packages.txt" | xargs | tr ' ' ',')
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(bookworm trixie)

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
  { cat "$here/build.sh" "$here/setup-rootfs.sh" "$here/packages.txt"; echo "$suite $mirror"; } \
    | sha256sum | cut -c1-12
}

build_one() {
  local suite=$1 tag hash rootfs start
  hash=$(inputs_hash "$suite")
  tag="lanying-testhost:${suite}-${hash}"
  if [ "${LANYING_TESTHOST_FORCE:-0}" != 1 ] && docker image inspect "$tag" >/dev/null 2>&1; then
    log "$tag is up to date (inputs unchanged), reusing it"
    docker tag "$tag" "lanying-testhost:${suite}"
    return 0
  fi
  start=$(date +%s)
  rootfs=$(mktemp -d "/var/tmp/lanying-testhost-${suite}.XXXXXX")
  # shellcheck disable=SC2064
  trap "rm -rf '$rootfs'" RETURN
  log "building $tag from $mirror (debootstrap, a few minutes)"
  debootstrap --variant=minbase --include="$packages" "$suite" "$rootfs" "$mirror" >"$rootfs.log" 2>&1 || {
    log "debootstrap of $suite failed; last lines of its log:"; tail -20 "$rootfs.log" >&2; rm -f "$rootfs.log"; return 1; }
  rm -f "$rootfs.log"
  cp "$here/setup-rootfs.sh" "$rootfs/tmp/setup-rootfs.sh"
  chroot "$rootfs" /bin/sh /tmp/setup-rootfs.sh "$suite" "$mirror" || { log "setting up the $suite root failed"; return 1; }
  rm -f "$rootfs/tmp/setup-rootfs.sh"
  # Functions called with || run without errexit: check every step explicitly.
  tar -C "$rootfs" --numeric-owner -c . | docker import \
    --change 'CMD ["/lib/systemd/systemd"]' \
    --change 'ENV container=docker' \
    --message "lanying.im test host: Debian $suite from $mirror" \
    - "$tag" >/dev/null || { log "docker import of $tag failed"; return 1; }
  docker tag "$tag" "lanying-testhost:${suite}" || return 1
  log "built $tag in $(( $(date +%s) - start ))s ($(docker image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1/1e6}'))"
}

status=0
for suite in "${suites[@]}"; do
  build_one "$suite" || status=1
done
exit $status
