"""lanying.im.site with lanying_im_runtime k3s, through ansible-playbook on this machine.

Every host is this machine (a local connection), in check mode and with --tags k3s_preflight: the first
play checks every setting of every host and computes the model, and each later play shows which hosts it
runs on - the cluster's on its servers and agents, the containers' on none. Installing k3s and applying
the objects need the release's files and a cluster, which the live k3s scenario brings.
"""

import json
import re
import sys

import yaml
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import local_host, run_playbook


# lanying.im.site, then the groups its first play made (lanying_im_<component>), on one line.
SITE_AND_GROUPS = """
- name: The platform
  ansible.builtin.import_playbook: lanying.im.site

- name: Show the groups of the model's placement
  hosts: localhost
  gather_facts: false
  tags: [always]
  tasks:
    - name: Print them
      ansible.builtin.debug:
        msg: "GROUPS {{ groups | dict2items | selectattr('key', 'match', 'lanying_im_') | items2dict | to_json }}"
"""


def plays(output):
    """{play name: [hosts that ran a task in it]}, in the order of the output."""
    found = {}
    for block in re.split(r"^PLAY ", output, flags=re.M)[1:]:
        name = re.match(r"\[(.*?)\]", block)
        if name is None:  # PLAY RECAP
            continue
        name = name.group(1)
        found[name] = sorted(set(re.findall(r"^(?:ok|changed|skipping|included): \[([^\]]+)\]", block, re.M))
                             | set(re.findall(r"^included: .* for (.+)$", block, re.M)))
    return found


def test_the_cluster_plays_run_on_the_nodes_and_the_container_plays_nowhere(tmp_path):
    hosts = {"one": local_host(10), "k3s-1": local_host(11), "k3s-2": local_host(12)}
    settings = {"lanying_im_server_name": "chat.example.com", "lanying_im_runtime": "k3s",
                "lanying_im_topology": {"workers": "small"}, "lanying_im_secrets_dir": str(tmp_path / ".secrets"),
                "lanying_im_pki_dir": str(tmp_path / ".pki"), "ansible_python_interpreter": sys.executable,
                # This machine's own open-file ceiling may be low (a container).
                "common_nofile_limit": 4096}
    groups = {"im_db": ["one"], "im_registry": ["one"], "im_build": ["one"], "monitoring": ["one"],
              "k3s_server": ["k3s-1"], "k3s_agent": ["k3s-2"]}
    inventory = {"all": {"vars": settings, "hosts": hosts, "children": {
        group: {"hosts": {name: {} for name in members}} for group, members in groups.items()}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "site.yml").write_text(SITE_AND_GROUPS)
    status, output = run_playbook(tmp_path, str(tmp_path / "site.yml"), "--check", "--tags", "k3s_preflight")
    assert status == 0, output[-3000:]
    found = plays(output)
    assert found["Cluster, first server"] == ["k3s-1"]
    assert found["Cluster, the other servers one at a time"] == []
    assert found["Cluster, the agents one at a time"] == ["k3s-2"]
    # The other plays run on the groups the first play made from the model (a play whose tasks this run's tags
    # leave out prints no host).
    made = json.loads(json.loads(re.search(r'"msg": ("GROUPS .*")$', output, re.M).group(1))[len("GROUPS "):])
    assert made["lanying_im_chat_cluster"] == ["k3s-1"]
    # The images are built by the Docker engine outside the cluster; no container of the chat platform.
    assert made["lanying_im_docker"] == ["one"] and made["lanying_im_build"] == ["one"]
    for name in ("synapse", "gateway", "media_store", "nginx_exporter"):
        assert "lanying_im_" + name not in made, name
    # The delivery probe: a client of the load balancer from the monitoring host, outside the cluster.
    assert made["lanying_im_probe"] == ["one"]
    # The cluster's own checks ran in the first play, on the nodes only.
    first = re.split(r"^PLAY ", output, flags=re.M)[1]
    check = re.search(r"Preflight \| Check this host runs no Docker engine of the platform\] \*+\n((?:(?:ok|skipping): .*\n)+)",
                      first)
    assert check and sorted(re.findall(r"^ok: \[(.*?)\]", check.group(1), re.M)) == ["k3s-1", "k3s-2"], first[-3000:]
    assert "failed=0" in output and not re.search(r"^fatal:", output, re.M)
