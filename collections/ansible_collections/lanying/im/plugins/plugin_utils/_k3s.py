# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""k3s settings in the lanying.im collection (private to this collection; no stable API).

What k3s reads from /etc/rancher/k3s/config.yaml (the long names of its command-line flags, for
``k3s server`` and ``k3s agent`` as the k3s 1.32 documentation lists them) and from registries.yaml, so
that a misspelt key is refused before any host changes, with the closest known key. Used by the
``im_k3s_config`` and ``im_k3s_registries`` filters.
"""

from __future__ import annotations

import difflib

# Flags both k3s server and k3s agent take (the agent's whole set).
AGENT_KEYS = frozenset("""
    token token-file server data-dir node-name with-node-id node-label node-taint
    image-credential-provider-bin-dir image-credential-provider-config docker container-runtime-endpoint
    default-runtime disable-default-registry-endpoint nonroot-devices pause-image snapshotter private-registry
    system-default-registry node-ip node-external-ip node-internal-dns node-external-dns resolv-conf
    flannel-iface flannel-conf flannel-cni-conf-dir flannel-cni-bin-dir kubelet-arg kube-proxy-arg
    protect-kernel-defaults selinux lb-server-port rootless prefer-bundled-bin vpn-auth vpn-auth-file
    airgap-extra-registry bind-address enable-pprof disable-apiserver-lb
    debug v vmodule log alsologtostderr
""".split())

# Flags only k3s server takes.
SERVER_ONLY_KEYS = frozenset("""
    write-kubeconfig write-kubeconfig-mode write-kubeconfig-group tls-san tls-san-security
    advertise-address advertise-port https-listen-port supervisor-port apiserver-port apiserver-bind-address
    cluster-cidr service-cidr service-node-port-range cluster-dns cluster-domain
    flannel-backend flannel-ipv6-masq flannel-external-ip egress-selector-mode servicelb-namespace
    agent-token agent-token-file cluster-init cluster-reset cluster-reset-restore-path
    kube-apiserver-arg etcd-arg kube-controller-manager-arg kube-scheduler-arg kube-cloud-controller-manager-arg
    datastore-endpoint datastore-cafile datastore-certfile datastore-keyfile kine-tls
    etcd-expose-metrics etcd-disable-snapshots etcd-snapshot-name etcd-snapshot-schedule-cron
    etcd-snapshot-retention etcd-snapshot-dir etcd-snapshot-compress etcd-s3 etcd-s3-endpoint
    etcd-s3-endpoint-ca etcd-s3-skip-ssl-verify etcd-s3-access-key etcd-s3-secret-key etcd-s3-bucket
    etcd-s3-region etcd-s3-folder etcd-s3-proxy etcd-s3-config-secret etcd-s3-insecure etcd-s3-timeout
    etcd-s3-bucket-lookup-type
    default-local-storage-path disable disable-scheduler disable-cloud-controller disable-kube-proxy
    disable-network-policy disable-helm-controller disable-apiserver disable-controller-manager disable-etcd
    secrets-encryption secrets-encryption-provider embedded-registry supervisor-metrics helm-job-image
    tls-min-version tls-cipher-suites
""".split())

SERVER_KEYS = AGENT_KEYS | SERVER_ONLY_KEYS

# The bundled components `disable` may name.
DISABLE_CHOICES = ("coredns", "servicelb", "traefik", "local-storage", "metrics-server", "runtimes")

REGISTRY_MIRROR_KEYS = frozenset(["endpoint", "rewrite"])
REGISTRY_CONFIG_KEYS = frozenset(["auth", "tls"])
REGISTRY_AUTH_KEYS = frozenset(["username", "password", "auth", "identity_token"])
REGISTRY_TLS_KEYS = frozenset(["cert_file", "key_file", "ca_file", "insecure_skip_verify"])


class K3sConfigError(ValueError):
    """A k3s setting k3s would not take."""


def _suggest(value, choices):
    close = difflib.get_close_matches(str(value), sorted(choices), n=1)
    return " (did you mean %r?)" % close[0] if close else ""


def _unknown(where, mapping, known):
    if not isinstance(mapping, dict):
        raise K3sConfigError("%s must be a mapping, not %r" % (where, mapping))
    for key in mapping:
        # "node-label+:" appends to what an earlier file set; the flag is the same.
        name = str(key)[:-1] if str(key).endswith("+") else str(key)
        if name not in known:
            raise K3sConfigError("%s has an unknown key %r%s; k3s would refuse to start"
                                 % (where, str(key), _suggest(name, known)))


def check_config(config, role, where="k3s config", extra_keys=()):
    """Check a config.yaml mapping for ``role`` (server or agent); returns it unchanged."""
    if role not in ("server", "agent"):
        raise K3sConfigError("%s: the role must be server or agent, not %r" % (where, role))
    known = (SERVER_KEYS if role == "server" else AGENT_KEYS) | frozenset(extra_keys)
    _unknown(where, config, known)
    disabled = config.get("disable", config.get("disable+", []))
    for item in ([disabled] if isinstance(disabled, str) else disabled or []):
        for name in str(item).split(","):
            if name.strip() not in DISABLE_CHOICES:
                raise K3sConfigError("%s: disable names %r%s; k3s can disable %s"
                                     % (where, name.strip(), _suggest(name.strip(), DISABLE_CHOICES),
                                        ", ".join(DISABLE_CHOICES)))
    return config


def check_registries(registries, where="k3s registries"):
    """Check a registries.yaml mapping (mirrors and configs); returns it unchanged."""
    _unknown(where, registries, frozenset(["mirrors", "configs"]))
    for name, mirror in (registries.get("mirrors") or {}).items():
        _unknown("%s: mirrors[%s]" % (where, name), mirror, REGISTRY_MIRROR_KEYS)
        endpoints = mirror.get("endpoint", [])
        if not isinstance(endpoints, list) or not all(str(e).startswith(("http://", "https://")) for e in endpoints):
            raise K3sConfigError("%s: mirrors[%s].endpoint must be a list of http(s) URLs, not %r"
                                 % (where, name, endpoints))
    for host, config in (registries.get("configs") or {}).items():
        _unknown("%s: configs[%s]" % (where, host), config, REGISTRY_CONFIG_KEYS)
        _unknown("%s: configs[%s].auth" % (where, host), config.get("auth") or {}, REGISTRY_AUTH_KEYS)
        _unknown("%s: configs[%s].tls" % (where, host), config.get("tls") or {}, REGISTRY_TLS_KEYS)
    return registries


def parse_checksums(text):
    """A release's sha256sum-<arch>.txt: file name -> digest; each line ``<64 hex>  <name>``."""
    sums = {}
    for number, line in enumerate(str(text).splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        digest = parts[0].lower() if parts else ""
        if len(parts) != 2 or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise K3sConfigError("line %d of the checksum list is not '<sha256>  <file>': %r" % (number, line))
        sums[parts[1].lstrip("*")] = digest
    return sums
