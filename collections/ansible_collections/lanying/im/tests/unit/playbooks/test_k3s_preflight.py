"""lanying.im.k3s: the checks that run before any k3s host changes, through ansible-playbook on this machine.

The hosts are this machine (a local connection), so only the up-front checks run (--tags k3s_preflight, in
check mode): the cluster's shape, the release tag, the config.yaml keys, this host's cgroups. Installing k3s
needs the release's files, which the live scenario brings.
"""

import pytest
import yaml
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import local_host, run_playbook


def preflight(tmp_path, servers=("s1",), agents=(), playbook="lanying.im.k3s", **settings):
    hosts = {name: local_host(number) for number, name in enumerate(servers + agents, start=10)}
    inventory = {"all": {"vars": dict({"lanying_im_secrets_dir": str(tmp_path / ".secrets")}, **settings),
                         "children": {"k3s_server": {"hosts": {name: hosts[name] for name in servers}},
                                      "k3s_agent": {"hosts": {name: hosts[name] for name in agents}}}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    return run_playbook(tmp_path, playbook[len("lanying.im."):], "--check", "--tags", "k3s_preflight")


def test_one_server_and_an_agent_pass_the_checks(tmp_path):
    status, output = preflight(tmp_path, servers=("s1",), agents=("a1",),
                               k3s_server_config={"node-label": ["zone=a"]}, k3s_agent_config={"kubelet-arg": ["max-pods=150"]})
    assert status == 0, output
    assert "failed=0" in output
    # The cluster token is generated once on the controller (even in check mode, as every secret of the
    # platform, so that a check run and the real run agree), and never printed.
    token = (tmp_path / ".secrets" / "k3s-token").read_text().strip()
    assert len(token) == 48 and token not in output


@pytest.mark.parametrize("servers, settings, message", [
    (("s1", "s2"), {}, "k3s_server has 2 hosts: embedded etcd (k3s_cluster_init) needs an odd number"),
    (("s1",), {"k3s_version": "1.32.4"}, "k3s_version=1.32.4 is not a k3s release tag"),
    (("s1",), {"k3s_server_config": {"tls-sans": ["x"]}},
     "k3s_server_config has an unknown key 'tls-sans' (did you mean 'tls-san'?)"),
    (("s1",), {"k3s_disable": ["traefk"]}, "disable names 'traefk' (did you mean 'traefik'?)"),
])
def test_bad_settings_are_refused_before_any_change(tmp_path, servers, settings, message):
    status, output = preflight(tmp_path, servers=servers, **settings)
    assert status != 0
    assert message in " ".join(output.split()), output[-2000:]
    assert "changed=0" in output


def test_an_even_number_of_servers_is_allowed_when_asked(tmp_path):
    status, output = preflight(tmp_path, servers=("s1", "s2"), k3s_allow_even_servers=True)
    assert status == 0, output


def test_release_files_are_checked_against_the_list_before_use(tmp_path):
    """A binary the release's list does not describe stops the run (check mode: nothing is written here)."""
    airgap = tmp_path / "airgap"
    airgap.mkdir()
    (airgap / "k3s").write_text("not the k3s binary\n")
    listed = "0" * 64
    (airgap / "sha256sum-amd64.txt").write_text("%s  k3s\n%s  k3s-airgap-images-amd64.tar.zst\n" % (listed, "1" * 64))
    status, output = preflight(tmp_path, k3s_airgap_dir=str(airgap))
    flat = " ".join(output.split())
    assert status != 0
    assert "%s/k3s has sha256 " % airgap in flat and "says %s" % listed in flat, output[-2000:]
    assert "%s/k3s-airgap-images-amd64.tar.zst is missing" % airgap in flat
    assert "Nothing was installed" in flat


def test_an_airgap_directory_without_the_checksum_list_is_named(tmp_path):
    (tmp_path / "empty").mkdir()
    status, output = preflight(tmp_path, k3s_airgap_dir=str(tmp_path / "empty"))
    assert status != 0
    assert "k3s_airgap_dir=%s has no sha256sum-amd64.txt" % (tmp_path / "empty") in " ".join(output.split())


def test_a_reset_not_confirmed_for_this_cluster_is_refused(tmp_path):
    # In check mode, and refused before the role: nothing of this machine is touched either way.
    status, output = preflight(tmp_path, servers=("s1",), playbook="lanying.im.k3s_reset", k3s_reset_confirm="other")
    assert status != 0
    assert "To go on, name the cluster's first server: -e k3s_reset_confirm=s1" in " ".join(output.split())
    assert "Reset | " not in output
