# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: im_k3s_registries
short_description: Check a k3s registries.yaml mapping
version_added: 0.2.0
author: lanying.im maintainers
description:
  - Returns the mapping unchanged when it has only C(mirrors) (each with C(endpoint), a list of http(s) URLs,
    and C(rewrite)) and C(configs) (each with C(auth) - username, password, auth, identity_token - and C(tls) -
    cert_file, key_file, ca_file, insecure_skip_verify).
  - Fails on an unknown key, naming where it is and the closest known key.
options:
  _input:
    description: The registries.yaml mapping.
    type: dict
    required: true
  where:
    description: How the error names the mapping.
    type: str
    default: k3s registries
"""

EXAMPLES = r"""
- name: Check the registry settings k3s will read
  ansible.builtin.set_fact:
    registries: >-
      {{ {'mirrors': {'registry.example.com:5000': {'endpoint': ['https://registry.example.com:5000']}}}
         | lanying.im.im_k3s_registries }}
"""

RETURN = r"""
_value:
  description: The mapping, unchanged.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.plugin_utils._k3s import K3sConfigError, check_registries


def im_k3s_registries(registries, where="k3s registries"):
    try:
        return check_registries(registries, where=where)
    except K3sConfigError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"im_k3s_registries": im_k3s_registries}
