# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: docker_daemon_config
short_description: Check a Docker daemon.json mapping before it reaches a host
version_added: 0.1.0
author: lanying.im maintainers
description:
  - Returns the mapping unchanged when every key is a daemon.json option of the Docker engine on Linux
    and every value has the type the engine expects.
  - Fails with a message naming the offending key, its value and what is allowed (with the closest known
    option for a misspelt key), so that a bad option is refused before the file is written and the
    engine is restarted. Engines of version 23 and newer also check the file themselves
    (C(dockerd --validate)); older ones would only fail at restart.
options:
  _input:
    description: The daemon.json content as a mapping.
    type: dict
    required: true
  source:
    description: Name of the variable the mapping came from, used in error messages.
    type: str
    default: daemon.json
"""

EXAMPLES = r"""
- name: Render daemon.json only from a checked mapping
  ansible.builtin.copy:
    content: "{{ options | lanying.im.docker_daemon_config(source='docker_daemon_options') | to_nice_json }}"
    dest: /etc/docker/daemon.json
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The input mapping, unchanged.
  type: dict
"""

import difflib

from ansible.errors import AnsibleFilterError

_LISTS = {
    "allow-nondistributable-artifacts", "authorization-plugins", "cdi-spec-dirs", "default-address-pools", "dns",
    "dns-opts", "dns-search", "exec-opts", "hosts", "insecure-registries", "labels", "node-generic-resources",
    "registry-mirrors", "storage-opts",
}
_DICTS = {
    "builder", "default-network-opts", "default-ulimits", "features", "log-opts", "proxies", "runtimes",
    "cluster-store-opts",
}
_BOOLS = {
    "debug", "experimental", "icc", "init", "ip-forward", "ip-forward-no-drop", "ip-masq", "ip6tables", "iptables",
    "ipv6", "live-restore", "no-new-privileges", "raw-logs", "selinux-enabled", "tls", "tlsverify", "userland-proxy",
    "allow-direct-routing",
}
_INTS = {
    "max-concurrent-downloads", "max-concurrent-uploads", "max-download-attempts", "mtu", "oom-score-adjust",
    "shutdown-timeout", "cpu-rt-period", "cpu-rt-runtime",
}
_STRINGS = {
    "api-cors-header", "bip", "bip6", "bridge", "cgroup-parent", "cluster-advertise", "cluster-store", "containerd",
    "containerd-namespace", "containerd-plugins-namespace", "data-root", "default-cgroupns-mode", "default-gateway",
    "default-gateway-v6", "default-ipc-mode", "default-runtime", "default-shm-size", "exec-root", "firewall-backend",
    "fixed-cidr", "fixed-cidr-v6", "group", "host-gateway-ip", "init-path", "ip", "log-driver", "log-format",
    "log-level", "metrics-addr", "min-api-version", "pidfile", "seccomp-profile", "storage-driver",
    "swarm-default-advertise-addr", "tlscacert", "tlscert", "tlskey", "userland-proxy-path", "userns-remap",
    "bridge-accept-fwmark",
}
KNOWN = _LISTS | _DICTS | _BOOLS | _INTS | _STRINGS
_LOG_LEVELS = ("debug", "info", "warn", "error", "fatal")
_CGROUP_DRIVERS = ("native.cgroupdriver=systemd", "native.cgroupdriver=cgroupfs")


def _fail(source, message):
    raise AnsibleFilterError("%s: %s" % (source, message))


_TYPE_NAMES = ((bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
               (list, "a list"), (dict, "a mapping"))


def _type_name(value):
    # isinstance, not type(): templated values arrive as subclasses (tagged int, tagged str...).
    for kind, name in _TYPE_NAMES:
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _check_value(source, key, value):
    expected = None
    if key in _LISTS and not isinstance(value, list):
        expected = "a list"
    elif key in _DICTS and not isinstance(value, dict):
        expected = "a mapping"
    elif key in _BOOLS and not isinstance(value, bool):
        expected = "true or false"
    elif key in _INTS and (isinstance(value, bool) or not isinstance(value, int)):
        expected = "an integer"
    elif key in _STRINGS and not isinstance(value, str):
        expected = "a string"
    if expected:
        _fail(source, "%r is %r (%s); it must be %s" % (key, value, _type_name(value), expected))
    if key == "log-opts":
        for opt, opt_value in value.items():
            if not isinstance(opt_value, str):
                _fail(source, "log-opts %r is %r (%s); the engine takes only strings here, write %r"
                      % (opt, opt_value, _type_name(opt_value), str(opt_value)))
    if key == "log-level" and value not in _LOG_LEVELS:
        _fail(source, "'log-level' is %r; it must be one of %s" % (value, ", ".join(_LOG_LEVELS)))
    if key == "default-address-pools":
        for pool in value:
            if not isinstance(pool, dict) or set(pool) != {"base", "size"}:
                _fail(source, "each of 'default-address-pools' must be {base: CIDR, size: prefix length}, got %r"
                      % (pool,))
    if key == "exec-opts":
        drivers = [opt for opt in value if str(opt).startswith("native.cgroupdriver=")]
        if any(opt not in _CGROUP_DRIVERS for opt in drivers) or len(drivers) > 1:
            _fail(source, "'exec-opts' sets the cgroup driver as %r; use one of %s" % (drivers, ", ".join(_CGROUP_DRIVERS)))


def docker_daemon_config(options, source="daemon.json"):
    """Return ``options`` when it is a valid daemon.json mapping for Linux; raise AnsibleFilterError otherwise."""
    if not isinstance(options, dict):
        _fail(source, "daemon.json must be a mapping of option to value, got %s" % _type_name(options))
    for key in sorted(options):
        if key not in KNOWN:
            close = difflib.get_close_matches(str(key), sorted(KNOWN), n=1)
            hint = " (did you mean %r?)" % close[0] if close else ""
            _fail(source, "%r is not a daemon.json option of the Docker engine%s" % (key, hint))
        _check_value(source, key, options[key])
    mirrors = set(options.get("registry-mirrors", []))
    insecure = set(options.get("insecure-registries", []))
    if not all(isinstance(m, str) and m.startswith(("http://", "https://")) for m in mirrors):
        _fail(source, "'registry-mirrors' entries are URLs (https://mirror.example.com), got %r" % sorted(mirrors, key=str))
    if any("://" in str(registry) for registry in insecure):
        _fail(source, "'insecure-registries' entries are host:port or CIDR without a scheme, got %r" % sorted(insecure, key=str))
    return options


class FilterModule(object):
    def filters(self):
        return {"docker_daemon_config": docker_daemon_config}
