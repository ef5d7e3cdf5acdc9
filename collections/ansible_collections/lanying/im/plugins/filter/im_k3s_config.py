# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: im_k3s_config
short_description: Check a k3s config.yaml mapping against the keys k3s takes
version_added: 0.2.0
author: lanying.im maintainers
description:
  - Returns the mapping unchanged when every key is a long flag name of C(k3s server) or C(k3s agent) (as the
    k3s 1.32 documentation lists them; a trailing C(+), which appends to a list another file set, is allowed).
  - Fails before any host is touched on an unknown key, naming it and the closest known key, and on a
    C(disable) entry that is not a bundled component (coredns, servicelb, traefik, local-storage,
    metrics-server, runtimes).
options:
  _input:
    description: The config.yaml mapping.
    type: dict
    required: true
  role:
    description: V(server) or V(agent); an agent takes fewer keys.
    type: str
    required: true
  extra_keys:
    description: Keys to accept besides the known ones (the flags of a newer k3s).
    type: list
    elements: str
    default: []
  where:
    description: How the error names the mapping (the variable it came from).
    type: str
    default: k3s config
"""

EXAMPLES = r"""
- name: Check the server settings before any host changes
  ansible.builtin.set_fact:
    k3s_config: "{{ {'cluster-init': true, 'tls-san': ['k3s.example.com']} | lanying.im.im_k3s_config('server') }}"
"""

RETURN = r"""
_value:
  description: The mapping, unchanged.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.plugin_utils._k3s import K3sConfigError, check_config


def im_k3s_config(config, role, extra_keys=None, where="k3s config"):
    try:
        return check_config(config, role, where=where, extra_keys=extra_keys or ())
    except K3sConfigError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"im_k3s_config": im_k3s_config}
