"""lanying.im.backup, restore on k3s: the replicas each Synapse workload is scaled back to, from the API's answers.

A restore notes each workload's replicas on it before scaling it to none; one run again after a restore that
failed half-way finds the workloads at none and must scale them back to the noted replicas. Scaling through a
running cluster is the k3s scenario's.
"""

import json
import re

import yaml
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import local_host, role_vars_play, run_playbook

PLAYBOOK = role_vars_play("Read the Synapse workloads as a restore does", "k3s-1", "backup", """
    - name: Answer as the API does
      ansible.builtin.set_fact:
        __restore_workloads: {results: "{{ answers }}"}
    - name: Show what a restore scales back to
      ansible.builtin.debug:
        msg: "FOUND {{ _backup_synapse_workloads | to_json }}"
""")

NOTE = "lanying.im/replicas-before-restore"


def workload(name, replicas, noted=None):
    meta = {"name": name}
    if noted is not None:
        meta["annotations"] = {NOTE: str(noted)}
    return {"metadata": meta, "spec": {"replicas": replicas}}


def scaled_back(tmp_path, deployments, statefulsets):
    hosts = {"db-1": local_host(10), "k3s-1": local_host(11)}
    settings = {"lanying_im_server_name": "chat.example.com", "lanying_im_runtime": "k3s",
                "lanying_im_secrets_dir": str(tmp_path / ".secrets"), "lanying_im_pki_dir": str(tmp_path / ".pki")}
    groups = {"im_db": ["db-1"], "im_build": ["db-1"], "k3s_server": ["k3s-1"]}
    inventory = {"all": {"vars": settings, "hosts": hosts, "children": {
        group: {"hosts": {name: {} for name in members}} for group, members in groups.items()}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "restore.yml").write_text(PLAYBOOK)
    answers = [{"item": "Deployment", "resources": deployments}, {"item": "StatefulSet", "resources": statefulsets}]
    status, output = run_playbook(tmp_path, str(tmp_path / "restore.yml"), "--extra-vars",
                                  json.dumps({"answers": answers}))
    assert status == 0, output[-3000:]
    found = json.loads(re.search(r'"FOUND (\[.*\])"', output).group(1).replace('\\"', '"'))
    return {(item["kind"], item["name"]): item["replicas"] for item in found}


def test_a_restore_scales_back_to_the_replicas_the_workloads_had(tmp_path):
    assert scaled_back(tmp_path, [workload("synapse-main", 1), workload("synapse-client-reader", 3)],
                       [workload("synapse-sync", 2)]) == {
        ("Deployment", "synapse-main"): 1, ("Deployment", "synapse-client-reader"): 3,
        ("StatefulSet", "synapse-sync"): 2}


def test_a_restore_run_again_after_a_failed_one_scales_back_to_the_noted_replicas(tmp_path):
    # The failed run scaled them to none after noting their replicas; a workload someone scaled by hand
    # since counts as it is.
    assert scaled_back(tmp_path, [workload("synapse-main", 0, noted=1), workload("synapse-client-reader", 4, noted=3)],
                       [workload("synapse-sync", 0, noted=2)]) == {
        ("Deployment", "synapse-main"): 1, ("Deployment", "synapse-client-reader"): 4,
        ("StatefulSet", "synapse-sync"): 2}
