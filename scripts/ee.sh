#!/usr/bin/env bash
# The execution environment's build context (execution-environment.yml): the collection artifact in
# ee/lanying-im.tar.gz, then `ansible-builder create` into ee/context (or the directory given). Build
# the image from there with Podman or Docker, or run `ansible-builder build` instead where the base image
# can be pulled.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
context=${1:-$root/ee/context}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
ansible-galaxy collection build "$root/collections/ansible_collections/lanying/im" --output-path "$out" >/dev/null
cp "$out"/lanying-im-*.tar.gz "$root/ee/lanying-im.tar.gz"
cd "$root"
ansible-builder create --file execution-environment.yml --context "$context" --output-filename Containerfile >/dev/null
echo "[ee] build context in $context (Containerfile, _build/); the collection: ee/lanying-im.tar.gz"
