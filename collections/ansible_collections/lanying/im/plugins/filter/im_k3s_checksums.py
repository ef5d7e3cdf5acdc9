# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: im_k3s_checksums
short_description: Read a k3s release's sha256 checksum list
version_added: 0.2.0
author: lanying.im maintainers
description:
  - Reads the text of a release's C(sha256sum-<arch>.txt) (lines of a sha256 digest and a file name) into a
    mapping of file name to digest, to check the binary and the images archive against before they are used.
  - Fails on a line that is not a digest and a name.
options:
  _input:
    description: The text of the checksum list.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Read the release's checksums
  ansible.builtin.set_fact:
    k3s_sums: "{{ lookup('ansible.builtin.file', k3s_airgap_dir ~ '/sha256sum-amd64.txt') | lanying.im.im_k3s_checksums }}"
"""

RETURN = r"""
_value:
  description: File name to lower-case sha256 digest.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.plugin_utils._k3s import K3sConfigError, parse_checksums


def im_k3s_checksums(text):
    try:
        return parse_checksums(text)
    except K3sConfigError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"im_k3s_checksums": im_k3s_checksums}
