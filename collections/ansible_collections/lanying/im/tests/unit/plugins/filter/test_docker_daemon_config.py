from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.filter.docker_daemon_config import FilterModule, docker_daemon_config

GOOD = {
    "log-driver": "json-file",
    "log-opts": {"max-size": "50m", "max-file": "5"},
    "live-restore": True,
    "registry-mirrors": ["https://mirror.example.com"],
    "insecure-registries": ["10.0.0.0/8", "registry.lan:5000"],
    "data-root": "/srv/docker",
    "default-address-pools": [{"base": "10.210.0.0/16", "size": 24}],
    "exec-opts": ["native.cgroupdriver=systemd"],
    "max-concurrent-downloads": 6,
    "log-level": "warn",
    "features": {"buildkit": True},
}


@pytest.mark.parametrize("options", [GOOD, {}, {"debug": False}, {"mtu": 1450, "proxies": {"http-proxy": "http://p:3128"}}])
def test_valid_configs_pass_unchanged(options):
    assert docker_daemon_config(options) is options


@pytest.mark.parametrize(
    "options, message",
    [
        ([], "must be a mapping"),
        ({"live-restor": True}, "'live-restor' is not a daemon.json option of the Docker engine (did you mean 'live-restore'?)"),
        ({"zzz": 1}, "'zzz' is not a daemon.json option of the Docker engine"),
        ({"live-restore": "yes"}, "'live-restore' is 'yes' (a string); it must be true or false"),
        ({"log-opts": {"max-file": 5}}, "log-opts 'max-file' is 5 (an integer); the engine takes only strings here, write '5'"),
        ({"log-opts": "max-size=10m"}, "'log-opts' is 'max-size=10m' (a string); it must be a mapping"),
        ({"registry-mirrors": "https://m"}, "'registry-mirrors' is 'https://m' (a string); it must be a list"),
        ({"registry-mirrors": ["mirror.example.com"]}, "'registry-mirrors' entries are URLs"),
        ({"insecure-registries": ["http://reg:5000"]}, "'insecure-registries' entries are host:port or CIDR without a scheme"),
        ({"mtu": True}, "'mtu' is True (a boolean); it must be an integer"),
        ({"data-root": 5}, "'data-root' is 5 (an integer); it must be a string"),
        ({"log-level": "verbose"}, "'log-level' is 'verbose'; it must be one of debug, info, warn, error, fatal"),
        ({"default-address-pools": [{"base": "10.0.0.0/8"}]}, "each of 'default-address-pools' must be {base: CIDR, size: prefix length}"),
        ({"exec-opts": ["native.cgroupdriver=cgroupv2"]}, "'exec-opts' sets the cgroup driver as ['native.cgroupdriver=cgroupv2']"),
    ],
)
def test_invalid_configs_name_key_value_and_fix(options, message):
    with pytest.raises(AnsibleFilterError) as err:
        docker_daemon_config(options, source="docker_daemon_options")
    assert str(err.value).startswith("docker_daemon_options: ")
    assert message in str(err.value)


class TaggedInt(int):
    """Stands for the int subclasses templated values arrive as."""


def test_subclassed_values_are_named_by_their_base_type():
    with pytest.raises(AnsibleFilterError, match=r"log-opts 'max-file' is 3 \(an integer\)"):
        docker_daemon_config({"log-opts": {"max-file": TaggedInt(3)}})


def test_registered():
    assert FilterModule().filters()["docker_daemon_config"] is docker_daemon_config
