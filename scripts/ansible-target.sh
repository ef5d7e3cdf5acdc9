#!/usr/bin/env bash
# The site playbook against the inventory of a CI job's environment (.gitlab-ci.yml, Jenkinsfile).
# The SSH key, the vault password and known_hosts come as files, never on a command line or in output:
#   LANYING_INVENTORY         the inventory (a path in the repository)
#   LANYING_SSH_PRIVATE_KEY   the operator's private key
#   LANYING_SSH_USER          optional: the user to log in as (else the inventory's)
#   LANYING_VAULT_PASSWORD    optional: a file with the Ansible Vault password
#   LANYING_SSH_KNOWN_HOSTS   known_hosts for the hosts: required for production; elsewhere, without it,
#                             this run trusts the host keys it first sees (and says so)
#   LANYING_ENVIRONMENT       the environment's name (default: GitLab's CI_ENVIRONMENT_NAME); production
#                             runs refuse to start without LANYING_SSH_KNOWN_HOSTS
# Arguments go to ansible-playbook: --check --diff for a plan, --tags self-check.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
: "${LANYING_INVENTORY:?set LANYING_INVENTORY to the environment's inventory}"
: "${LANYING_SSH_PRIVATE_KEY:?set LANYING_SSH_PRIVATE_KEY to a file with the operator's private key}"
[ -e "$LANYING_INVENTORY" ] || { echo "LANYING_INVENTORY=$LANYING_INVENTORY does not exist" >&2; exit 2; }
environment=${LANYING_ENVIRONMENT:-${CI_ENVIRONMENT_NAME:-}}
if [ -n "${LANYING_SSH_KNOWN_HOSTS:-}" ] && [ ! -s "$LANYING_SSH_KNOWN_HOSTS" ]; then
  echo "LANYING_SSH_KNOWN_HOSTS=$LANYING_SSH_KNOWN_HOSTS is missing or empty" >&2
  exit 2
fi
if [ -z "${LANYING_SSH_KNOWN_HOSTS:-}" ]; then
  if [ "$environment" = production ]; then
    echo "LANYING_ENVIRONMENT=production and no LANYING_SSH_KNOWN_HOSTS: a production run checks every host's key" \
         "against known_hosts (ssh-keyscan the hosts once, check the keys, store the file as that variable)" >&2
    exit 2
  fi
  echo "[ansible-target] no LANYING_SSH_KNOWN_HOSTS for ${environment:-this environment}: trusting the host keys first seen" >&2
fi
"$root/scripts/venv.sh" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
install -m 0600 "$LANYING_SSH_PRIVATE_KEY" "$work/id"
export ANSIBLE_PRIVATE_KEY_FILE="$work/id"
[ -z "${LANYING_SSH_USER:-}" ] || export ANSIBLE_REMOTE_USER="$LANYING_SSH_USER"
if [ -n "${LANYING_SSH_KNOWN_HOSTS:-}" ]; then
  export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$LANYING_SSH_KNOWN_HOSTS -o StrictHostKeyChecking=yes"
else
  export ANSIBLE_SSH_COMMON_ARGS="-o UserKnownHostsFile=$work/known_hosts -o StrictHostKeyChecking=accept-new"
fi
[ -z "${LANYING_VAULT_PASSWORD:-}" ] || export ANSIBLE_VAULT_PASSWORD_FILE="$LANYING_VAULT_PASSWORD"
status=0
"$root/.venv/bin/ansible-playbook" -i "$LANYING_INVENTORY" "$root/playbooks/site.yml" "$@" || status=$?
exit $status
