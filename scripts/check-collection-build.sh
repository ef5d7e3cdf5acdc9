#!/usr/bin/env bash
# Build the collection artifact, check that no test or Molecule file is in it, install it offline
# into an empty collections path and load its role and plugin documentation from there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ansible-galaxy collection build "$root/collections/ansible_collections/lanying/im" --output-path "$out" >/dev/null
artifact=$(ls "$out"/lanying-im-*.tar.gz)
echo "[build] $(basename "$artifact"): $(tar tzf "$artifact" | grep -vc '/$') files, $(du -k "$artifact" | cut -f1) KiB"
if tar tzf "$artifact" | grep -E '^(tests|molecule)/|/__pycache__/|\.pyc$'; then
  echo "[build] the artifact carries test or cache files (above): fix build_ignore in galaxy.yml" >&2
  exit 1
fi
cd "$out"
# Dependencies come from the collections bundled with the ansible package; nothing is downloaded.
ANSIBLE_COLLECTIONS_PATH="$out/installed" ansible-galaxy collection install "$artifact" \
  -p "$out/installed" --offline >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$out/installed"
for role in "$out"/installed/ansible_collections/lanying/im/roles/*/; do
  ansible-doc -t role "lanying.im.$(basename "$role")" >/dev/null
done
for plugin in "$out"/installed/ansible_collections/lanying/im/plugins/filter/*.py; do
  ansible-doc -t filter "lanying.im.$(basename "$plugin" .py)" >/dev/null
done
for plugin in "$out"/installed/ansible_collections/lanying/im/plugins/modules/*.py; do
  ansible-doc -t module "lanying.im.$(basename "$plugin" .py)" >/dev/null
done
ansible-playbook --syntax-check lanying.im.site -i localhost, >/dev/null
echo "[build] installed offline; role, filter and module docs and lanying.im.site load from the artifact"
