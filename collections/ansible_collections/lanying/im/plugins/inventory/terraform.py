# -*- coding: utf-8 -*-
# Copyright: lanying.im maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory from the hosts a Terraform configuration made: its state file, or ``terraform output -json``."""

from __future__ import annotations

DOCUMENTATION = r"""
name: terraform
short_description: The lanying.im groups and addresses of hosts that Terraform made
version_added: 0.1.0
description:
  - Reads the hosts of a Terraform configuration from one of its outputs (O(output), C(lanying_im_hosts) by
    default), either in a Terraform state file (format version 4, Terraform 0.12 to 1.x) or in what
    C(terraform output -json) prints, from a path or an HTTP(S) URL (an HTTP backend, an object store).
  - The output is a list of hosts, each C({name, groups, public_address, private_address, vars, resource}),
    as the root modules under C(terraform/) of the lanying.im project write it. Each host joins its groups
    (the lanying.im groups C(im_app), C(im_gateway), C(im_db), C(im_build), C(im_registry), C(monitoring),
    C(logging), C(k3s_server), C(k3s_agent), and those of O(extra_groups)); C(ansible_host) is
    its public address (or private, see O(connect_to)) and C(lanying_im_address) its private address, the
    one the platform's services use between hosts.
  - Refuses, with a message naming the resource, a state file of another format version, a host without an
    address, an unknown group and a name used twice.
  - Trusts nothing it reads. A host's name must be a host name (letters, digits, C(.), C(_), C(-)), its
    private address an IP address (the platform's services bind to it and the firewall admits it), its public
    address an IP address or a DNS name; a host variable of the output must be a plain variable name, and
    connection variables (C(ansible_*), which can run commands on the controller, for example
    C(ansible_ssh_common_args) with a C(ProxyCommand)) only when O(allow_vars) lists them. The variables this
    plugin sets itself (C(ansible_host), C(lanying_im_address), C(lanying_im_public_address),
    C(lanying_im_terraform_resource)) cannot be replaced from the output. Values are never templated.
  - The configuration file's name must end in C(terraform.yml) or C(terraform.yaml).
options:
  plugin:
    description: The name of this plugin; C(lanying.im.terraform).
    required: true
    type: str
    choices: [lanying.im.terraform]
  source:
    description:
      - A Terraform state file (C(terraform.tfstate)), or a file with what C(terraform output -json) printed.
      - A path (relative to the configuration file's directory), or an C(https://) URL (C(http://) only with
        O(allow_http)).
    required: true
    type: str
  allow_http:
    description:
      - Read an C(http://) O(source). Anyone on the path can then read the state (with the credentials of
        O(url_headers)) and change the hosts this inventory lists. Use it only on a network you trust.
    type: bool
    default: false
  allow_vars:
    description:
      - Connection variables (C(ansible_*)) a host of the output may set, for example C(ansible_user) or
        C(ansible_port). Others are refused, naming the resource.
    type: list
    elements: str
    default: []
  output:
    description: The Terraform output that lists the hosts.
    type: str
    default: lanying_im_hosts
  connect_to:
    description:
      - Which address Ansible connects to (C(ansible_host)); C(private) when the controller sits inside the
        hosts' network (a bastion, a CI runner in the same VPC).
      - A host without the chosen address falls back to the other one.
    type: str
    choices: [public, private]
    default: public
  extra_groups:
    description: Group names allowed besides the lanying.im groups (your own, for example C(eu_west)).
    type: list
    elements: str
    default: []
  url_headers:
    description: HTTP headers for a URL O(source), for example an C(Authorization) header.
    type: dict
    default: {}
  validate_certs:
    description: Check the certificate of an C(https://) O(source).
    type: bool
    default: true
  ca_path:
    description: PEM file with the CA certificates that sign an C(https://) O(source)'s certificate.
    type: path
  timeout:
    description: Seconds to wait for a URL O(source).
    type: int
    default: 30
"""

EXAMPLES = r"""
# inventories/production/hosts.terraform.yml: the state of the root module in terraform/generic
plugin: lanying.im.terraform
source: ../../terraform/generic/terraform.tfstate
---
# What `terraform output -json > hosts.json` printed, connecting over the private network
plugin: lanying.im.terraform
source: hosts.json
connect_to: private
---
# A state file behind Terraform's HTTP backend; the hosts' output may set the SSH user
plugin: lanying.im.terraform
source: https://state.example.com/terraform/lanying-production
url_headers:
  Authorization: "Bearer {{ lookup('ansible.builtin.env', 'STATE_TOKEN') }}"
extra_groups: [eu_west]
allow_vars: [ansible_user]
"""

import ipaddress
import json
import os
import re

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.module_utils.urls import open_url
from ansible.plugins.inventory import BaseInventoryPlugin

# The groups the lanying.im playbooks read.
KNOWN_GROUPS = (
    "im_app",
    "im_gateway",
    "im_db",
    "im_build",
    "im_registry",
    "monitoring",
    "logging",
    "k3s_server",
    "k3s_agent",
)
STATE_VERSION = 4
HOST_KEYS = ("name", "groups", "public_address", "private_address", "vars", "resource")
# The variables this plugin sets from the checked addresses and the resource: never from the output's vars.
OWN_VARS = ("ansible_host", "lanying_im_address", "lanying_im_public_address", "lanying_im_terraform_resource")
HOST_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")
DNS_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class TerraformHostsError(ValueError):
    """The Terraform data does not describe hosts the way this plugin needs."""


def outputs_of(document, source):
    """The outputs ({name: value}) of a state file or of ``terraform output -json``."""
    if not isinstance(document, dict):
        raise TerraformHostsError("%s is neither a Terraform state file nor the JSON of terraform output -json" % source)
    if "terraform_version" in document or "resources" in document or "version" in document and "outputs" in document:
        version = document.get("version")
        if version != STATE_VERSION:
            raise TerraformHostsError(
                "%s is a Terraform state file of format version %s; this plugin reads version %d (Terraform 0.12 "
                "to 1.x): upgrade the state with a current Terraform, or give the JSON of terraform output -json"
                % (source, version, STATE_VERSION)
            )
        outputs = document.get("outputs") or {}
    else:
        outputs = document
    values = {}
    for name, output in outputs.items():
        if not isinstance(output, dict) or "value" not in output:
            raise TerraformHostsError(
                "%s: output %s has no value; is this the JSON of terraform output -json (not -raw)?" % (source, name)
            )
        values[name] = output["value"]
    return values


def is_ip_address(value):
    """Whether value is an IPv4 or IPv6 address (no network, no port)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_dns_name(value):
    """Whether value is a DNS name: labels of letters, digits and '-', at most 253 characters, not all digits."""
    labels = value[:-1].split(".") if value.endswith(".") else value.split(".")
    return (0 < len(value) <= 253 and all(DNS_LABEL.match(label) for label in labels)
            and not all(label.isdigit() for label in labels))


def check_address(where, key, value):
    """The address, or TerraformHostsError: private_address an IP address, public_address one or a DNS name."""
    if not isinstance(value, str):
        raise TerraformHostsError("%s: %s must be a string, got %r" % (where, key, value))
    if is_ip_address(value) or (key == "public_address" and is_dns_name(value)):
        return value
    raise TerraformHostsError(
        "%s: %s=%r is not %s" % (where, key, value, "an IP address or a DNS name" if key == "public_address"
                                 else "an IP address (the platform's services bind to it and the firewall admits it)")
    )


def check_vars(where, host_vars, allowed_vars):
    """The host's variables, or TerraformHostsError for a bad name, a connection variable not allowed or one of ours."""
    if not isinstance(host_vars, dict):
        raise TerraformHostsError("%s: vars must be an object of host variables, got %r" % (where, host_vars))
    for key in host_vars:
        if not isinstance(key, str) or not VAR_NAME.match(key):
            raise TerraformHostsError("%s: vars has %r, which is not a variable name (letters, digits and _)" % (where, key))
        if key in OWN_VARS:
            raise TerraformHostsError(
                "%s: vars sets %s, which this plugin sets from the host's checked addresses and resource; remove it "
                "(connect_to chooses the address Ansible connects to)" % (where, key)
            )
        if key.startswith("ansible_") and key not in allowed_vars:
            raise TerraformHostsError(
                "%s: vars sets the connection variable %s, refused: a connection variable from the state can run "
                "commands on the controller. List it in allow_vars if your Terraform configuration sets it on purpose "
                "(allowed now: %s)" % (where, key, ", ".join(allowed_vars) or "none")
            )
    return host_vars


def hosts_of(outputs, output_name, allowed_groups, source, allowed_vars=()):
    """Check the hosts listed in one output; returns them as dicts with every key set.

    allowed_vars: the connection variables (``ansible_*``) a host's vars may set.
    """
    if output_name not in outputs:
        raise TerraformHostsError(
            "%s has no output %s (outputs: %s); add it to the root module (see terraform/generic/outputs.tf)"
            % (source, output_name, ", ".join(sorted(outputs)) or "none")
        )
    listed = outputs[output_name]
    if isinstance(listed, dict):
        listed = [dict(value, name=value.get("name", key)) if isinstance(value, dict) else value for key, value in listed.items()]
    if not isinstance(listed, list):
        raise TerraformHostsError("%s: output %s must be a list of hosts, not %s" % (source, output_name, type(listed).__name__))
    hosts = []
    seen = {}
    for index, host in enumerate(listed):
        where = "%s: output %s, host %d" % (source, output_name, index)
        if not isinstance(host, dict):
            raise TerraformHostsError("%s is not an object with name, groups and addresses" % where)
        resource = host.get("resource") or ""
        name = host.get("name")
        if isinstance(name, str) and name:
            where = "%s: host %s%s" % (source, name, " (resource %s)" % resource if resource else "")
        elif resource:
            where = "%s: resource %s" % (source, resource)
        unknown_keys = sorted(set(host) - set(HOST_KEYS))
        if unknown_keys:
            raise TerraformHostsError("%s has unknown keys %s (known: %s)" % (where, ", ".join(unknown_keys), ", ".join(HOST_KEYS)))
        if not isinstance(name, str) or not name:
            raise TerraformHostsError("%s has no name" % where)
        if not HOST_NAME.match(name):
            raise TerraformHostsError(
                "%s: the name %r is not a host name (letters, digits, '.', '_' and '-', starting and ending with a "
                "letter or a digit, at most 253 characters)" % (where, name)
            )
        if name in seen:
            raise TerraformHostsError("%s: the name %s is used twice (also by %s)" % (where, name, seen[name]))
        seen[name] = resource or "host %d" % index
        groups = host.get("groups") or []
        if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
            raise TerraformHostsError("%s: groups must be a list of group names, got %r" % (where, groups))
        unknown = [group for group in groups if group not in allowed_groups]
        if unknown:
            raise TerraformHostsError(
                "%s is in unknown group %s; groups are %s (extra_groups adds your own)"
                % (where, ", ".join(unknown), ", ".join(allowed_groups))
            )
        addresses = {}
        for key in ("public_address", "private_address"):
            value = host.get(key)
            if value in (None, ""):
                continue
            addresses[key] = check_address(where, key, value)
        if not addresses:
            raise TerraformHostsError(
                "%s has no address: set public_address or private_address (an instance still being created has none; "
                "run terraform apply again)" % where
            )
        host_vars = check_vars(where, host.get("vars") or {}, list(allowed_vars))
        hosts.append(
            {
                "name": name,
                "groups": groups,
                "public_address": addresses.get("public_address", ""),
                "private_address": addresses.get("private_address", ""),
                "vars": host_vars,
                "resource": resource,
            }
        )
    return hosts


class InventoryModule(BaseInventoryPlugin):
    """Hosts, groups and addresses from a Terraform state file or ``terraform output -json``."""

    NAME = "lanying.im.terraform"

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("terraform.yml", "terraform.yaml"))

    def _read_source(self, source, config_dir):
        if source.startswith("http://") and not self.get_option("allow_http"):
            raise AnsibleParserError(
                "lanying.im.terraform: source %s is plain HTTP: anyone on the path can read the state and change the "
                "hosts it lists. Use https://, or set allow_http: true on a network you trust" % source
            )
        if source.startswith(("http://", "https://")):
            try:
                response = open_url(
                    source,
                    headers=self.get_option("url_headers"),
                    validate_certs=self.get_option("validate_certs"),
                    ca_path=self.get_option("ca_path"),
                    timeout=self.get_option("timeout"),
                )
                return to_text(response.read()), source
            except Exception as error:  # pylint: disable=broad-except
                raise AnsibleParserError("lanying.im.terraform: cannot read %s: %s" % (source, to_native(error))) from error
        path = source if os.path.isabs(source) else os.path.join(config_dir, source)
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read(), path
        except OSError as error:
            raise AnsibleParserError("lanying.im.terraform: cannot read %s: %s" % (path, to_native(error))) from error

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        text, source = self._read_source(self.get_option("source"), os.path.dirname(os.path.abspath(path)))
        allowed = list(KNOWN_GROUPS) + [group for group in self.get_option("extra_groups") if group not in KNOWN_GROUPS]
        try:
            document = json.loads(text)
            hosts = hosts_of(outputs_of(document, source), self.get_option("output"), allowed, source,
                             self.get_option("allow_vars"))
        except ValueError as error:
            raise AnsibleParserError("lanying.im.terraform: %s" % to_native(error)) from error
        connect_to = self.get_option("connect_to")
        for host in hosts:
            self.inventory.add_host(host["name"])
            for group in host["groups"]:
                self.inventory.add_group(group)
                self.inventory.add_child(group, host["name"])
            chosen = host["%s_address" % connect_to] or host["public_address"] or host["private_address"]
            self.inventory.set_variable(host["name"], "ansible_host", chosen)
            if host["private_address"]:
                self.inventory.set_variable(host["name"], "lanying_im_address", host["private_address"])
            if host["public_address"]:
                self.inventory.set_variable(host["name"], "lanying_im_public_address", host["public_address"])
            if host["resource"]:
                self.inventory.set_variable(host["name"], "lanying_im_terraform_resource", host["resource"])
            for key, value in host["vars"].items():
                self.inventory.set_variable(host["name"], key, value)
