# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment(object):
    # How the collection's modules reach an HTTPS API: the same three options everywhere.
    DOCUMENTATION = r"""
options:
  validate_certs:
    description: Verify the server's TLS certificate for an C(https) URL.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA that signed the server's certificate (the internal CA).
    type: path
  timeout:
    description: Seconds to wait for each answer.
    type: int
    default: 30
"""
