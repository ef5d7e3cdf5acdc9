"""lanying.im.k3s, entry point media_volume: which host holds the media store's volume, from the API's answers.

The answers are shaped as k3s's local-path provisioner makes them (a hostPath volume with a node affinity to
one node's hostname) and as another storage class makes them (no node directory). Reading them from a
running cluster is the k3s scenario's.
"""

import json
import re

import yaml
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import ROLES, local_host, role_vars_play, run_playbook

PLAYBOOK = role_vars_play("Find the media store's node from the API's answers", "k3s-1", "k3s", """
    - name: Answer as the API does
      ansible.builtin.set_fact:
        __k3s_media_objects: {results: "{{ answers }}"}
    - name: Place the backups as the entry point does, once the API answered
      ansible.builtin.include_tasks: %s/k3s/tasks/media_volume_place.yml
    - name: Show what was found
      ansible.builtin.debug:
        msg: >-
          FOUND {{ {'host': _k3s_media_host, 'path': _k3s_media_path, 'node': _k3s_media_node,
                    'group': groups[k3s_media_group] | default([]),
                    'dir': hostvars[_k3s_media_host].backup_media_dir | default('') if _k3s_media_host else ''}
                   | to_json }}
""" % ROLES)

CLAIM = {"metadata": {"name": "synapse-media"}, "spec": {"volumeName": "pvc-7f3a"}}
NODES = [{"metadata": {"name": "node-a"}, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.11"},
                                                                   {"type": "Hostname", "address": "node-a"}]}},
         {"metadata": {"name": "node-b"}, "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.12"},
                                                                   {"type": "Hostname", "address": "node-b"}]}}]
LOCAL_PATH = {"metadata": {"name": "pvc-7f3a"}, "spec": {
    "hostPath": {"path": "/var/lib/rancher/k3s/storage/pvc-7f3a_lanying-im_synapse-media", "type": "DirectoryOrCreate"},
    "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [
        {"key": "kubernetes.io/hostname", "operator": "In", "values": ["node-b"]}]}]}},
    "storageClassName": "local-path"}}
NFS = {"metadata": {"name": "pvc-7f3a"},
       "spec": {"nfs": {"server": "10.0.0.50", "path": "/exports/media"}, "storageClassName": "nfs"}}


def found(tmp_path, volumes, required=False):
    hosts = {"db-1": local_host(10), "k3s-1": local_host(11), "k3s-2": local_host(12)}
    settings = {"lanying_im_server_name": "chat.example.com", "lanying_im_runtime": "k3s",
                "lanying_im_secrets_dir": str(tmp_path / ".secrets"), "lanying_im_pki_dir": str(tmp_path / ".pki")}
    groups = {"im_db": ["db-1"], "im_build": ["db-1"], "k3s_server": ["k3s-1"], "k3s_agent": ["k3s-2"]}
    inventory = {"all": {"vars": settings, "hosts": hosts, "children": {
        group: {"hosts": {name: {} for name in members}} for group, members in groups.items()}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "media.yml").write_text(PLAYBOOK)
    answers = [{"resources": [CLAIM]}, {"resources": volumes}, {"resources": NODES}]
    status, output = run_playbook(tmp_path, str(tmp_path / "media.yml"), "--extra-vars",
                                  json.dumps({"answers": answers, "k3s_media_required": required}))
    if required and status != 0:
        return output
    assert status == 0, output[-3000:]
    return json.loads(re.search(r'"FOUND (\{.*\})"', output).group(1).replace('\\"', '"'))


def test_a_local_path_volume_is_backed_up_on_its_node(tmp_path):
    # The node's name is not the inventory's: the host is the one at the node's address.
    path = "/var/lib/rancher/k3s/storage/pvc-7f3a_lanying-im_synapse-media"
    expected = {"host": "k3s-2", "node": "node-b", "path": path, "group": ["k3s-2"], "dir": path}
    assert found(tmp_path, [LOCAL_PATH]) == expected
    # A backup (the media store required) goes on the same way.
    assert found(tmp_path, [LOCAL_PATH], required=True) == expected


def test_a_volume_without_a_node_directory_is_not(tmp_path):
    nothing = {"host": "", "node": "", "path": "", "group": [], "dir": ""}
    assert found(tmp_path, [NFS]) == nothing
    # Nothing bound yet.
    assert found(tmp_path, []) == nothing


def test_a_backup_stops_when_the_media_store_has_no_node_directory(tmp_path):
    output = found(tmp_path, [NFS], required=True)
    assert "Stop, the media store cannot be backed up from a node" in output
    assert "pvc-7f3a, storage class nfs" in output and "-e backup_media=false" in output
    assert "FOUND" not in output
