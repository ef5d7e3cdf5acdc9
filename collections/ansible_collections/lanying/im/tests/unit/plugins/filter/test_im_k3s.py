"""The k3s checks: config.yaml keys, registries.yaml, the release's checksum list (filters and plugin_utils)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.filter.im_k3s_checksums import im_k3s_checksums
from ansible_collections.lanying.im.plugins.filter.im_k3s_config import im_k3s_config
from ansible_collections.lanying.im.plugins.filter.im_k3s_registries import im_k3s_registries
from ansible_collections.lanying.im.plugins.plugin_utils import _k3s


def test_known_server_keys_pass_unchanged():
    config = {"cluster-init": True, "tls-san": ["k3s.example.com"], "node-label+": ["zone=a"],
              "disable": ["traefik", "servicelb"], "kube-apiserver-arg": ["audit-log-maxage=30"]}
    assert im_k3s_config(config, "server") is config


def test_an_unknown_key_is_refused_with_the_closest_one():
    with pytest.raises(AnsibleFilterError, match=r"k3s_server_config has an unknown key 'cluster-int' \(did you mean 'cluster-init'\?\)"):
        im_k3s_config({"cluster-int": True}, "server", where="k3s_server_config")


def test_an_agent_takes_no_server_flags():
    with pytest.raises(AnsibleFilterError, match=r"unknown key 'cluster-init'"):
        im_k3s_config({"cluster-init": True}, "agent")
    assert im_k3s_config({"node-ip": "10.0.0.5", "kubelet-arg": ["max-pods=200"]}, "agent")


def test_extra_keys_admit_a_newer_flag():
    assert im_k3s_config({"some-new-flag": 1}, "agent", extra_keys=["some-new-flag"]) == {"some-new-flag": 1}


@pytest.mark.parametrize("disabled", ["traefk", ["coredns,treafik"]])
def test_disable_names_only_bundled_components(disabled):
    with pytest.raises(AnsibleFilterError, match=r"disable names 'tr\w+' \(did you mean 'traefik'\?\)"):
        im_k3s_config({"disable": disabled}, "server")


def test_the_role_must_be_server_or_agent():
    with pytest.raises(AnsibleFilterError, match="must be server or agent"):
        im_k3s_config({}, "worker")


def test_every_agent_key_is_a_server_key():
    assert _k3s.AGENT_KEYS <= _k3s.SERVER_KEYS


def test_registries_with_mirrors_and_configs_pass():
    registries = {"mirrors": {"registry.lanying.test:5000": {"endpoint": ["https://registry.lanying.test:5000"]}},
                  "configs": {"registry.lanying.test:5000": {"auth": {"username": "u", "password": "p"},
                                                             "tls": {"ca_file": "/etc/ca.crt"}}}}
    assert im_k3s_registries(registries) is registries


@pytest.mark.parametrize("registries, message", [
    ({"mirror": {}}, r"unknown key 'mirror' \(did you mean 'mirrors'\?\)"),
    ({"mirrors": {"r": {"endpoints": []}}}, r"mirrors\[r\] has an unknown key 'endpoints' \(did you mean 'endpoint'\?\)"),
    ({"mirrors": {"r": {"endpoint": ["registry:5000"]}}}, r"endpoint must be a list of http\(s\) URLs"),
    ({"configs": {"r": {"tls": {"ca": "/x"}}}}, r"configs\[r\].tls has an unknown key 'ca'"),
    ({"configs": {"r": {"auth": {"user": "u"}}}}, r"configs\[r\].auth has an unknown key 'user'"),
])
def test_registries_mistakes_are_named(registries, message):
    with pytest.raises(AnsibleFilterError, match=message):
        im_k3s_registries(registries)


def test_checksums_are_read_by_file_name():
    text = ("a" * 64 + "  k3s\n" + "B" * 64 + " *k3s-airgap-images-amd64.tar.zst\n\n")
    assert im_k3s_checksums(text) == {"k3s": "a" * 64, "k3s-airgap-images-amd64.tar.zst": "b" * 64}


@pytest.mark.parametrize("line", ["deadbeef  k3s", "a" * 64, "z" * 64 + "  k3s"])
def test_a_bad_checksum_line_is_named(line):
    with pytest.raises(AnsibleFilterError, match="line 1 of the checksum list"):
        im_k3s_checksums(line + "\n")
