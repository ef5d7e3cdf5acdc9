#!/usr/bin/env bash
# Build the collection artifact, check that no test or Molecule file is in it, install it offline
# into an empty collections path and load its role and plugin documentation from there; install it
# from git as the README shows (from this clone, offline); render the execution environment's build
# context and check what ansible-builder's own introspection finds in the collection.
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
for plugin in "$out"/installed/ansible_collections/lanying/im/plugins/inventory/*.py; do
  ansible-doc -t inventory "lanying.im.$(basename "$plugin" .py)" >/dev/null
done
ansible-playbook --syntax-check lanying.im.site -i localhost, >/dev/null
echo "[build] installed offline; role, filter and module docs and lanying.im.site load from the artifact"

# From git, as README.md shows: the committed collection of this clone, built by ansible-galaxy.
if git -C "$root" rev-parse --git-dir >/dev/null 2>&1; then
  ANSIBLE_COLLECTIONS_PATH="$out/from-git" ansible-galaxy collection install \
    "git+file://$root/.git#/collections/ansible_collections/lanying/im" -p "$out/from-git" --offline >/dev/null
  ANSIBLE_COLLECTIONS_PATH="$out/from-git" ansible-doc -t inventory lanying.im.terraform >/dev/null
  if [ -d "$out/from-git/ansible_collections/lanying/im/tests" ]; then
    echo "[build] the git install carries the tests: fix build_ignore in galaxy.yml" >&2
    exit 1
  fi
  echo "[build] installed from git (git+file://$root/.git#/collections/ansible_collections/lanying/im), offline"
fi

# The execution environment: its build context, and what ansible-builder's introspection (the script the
# image build runs) reads from the installed collection's meta/execution-environment.yml.
"$root/scripts/ee.sh" "$out/ee" >/dev/null
grep -q 'ansible-core==2.19.14' "$out/ee/Containerfile"
test -f "$out/ee/_build/collections/lanying-im.tar.gz"
needs=$(python "$out/ee/_build/scripts/introspect.py" introspect "$out/installed")
for need in 'cryptography>=3.4  # from collection lanying.im' 'openssh-client [platform:dpkg]  # from collection lanying.im'; do
  if ! grep -qF -- "$need" <<< "$needs"; then
    echo "[build] the execution environment would miss '$need'; introspection found: $needs" >&2
    exit 1
  fi
done
echo "[build] execution environment context rendered (ansible-builder create); introspection finds lanying.im's Python and system needs"
