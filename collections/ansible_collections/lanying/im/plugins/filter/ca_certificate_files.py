# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: ca_certificate_files
short_description: Split PEM bundles into one file per CA certificate
version_added: 0.1.0
author: lanying.im maintainers
description:
  - Takes the text of one or more PEM files, keyed by where each came from, and returns one entry per
    certificate, named so that C(update-ca-certificates) can install it.
  - Fails with a message naming the source when a source holds no certificate, a truncated or corrupt
    certificate, or a private key (a key must never be spread to every host as a trusted CA).
options:
  _input:
    description:
      - Mapping of source name (usually the controller path of the PEM file) to its text.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: One file per certificate, from PEM files on the controller
  ansible.builtin.set_fact:
    ca_files: >-
      {{ dict(pem_paths | zip(query('ansible.builtin.file', *pem_paths)))
         | lanying.im.ca_certificate_files }}
  vars:
    pem_paths:
      - files/corporate-root.pem
      - files/proxy-bundle.pem
"""

RETURN = r"""
_value:
  description:
    - One entry per certificate, in source order. C(name) is the source's file name without its
      extension, followed by the certificate's position in the source (C(corporate-root-1.crt)).
      C(content) is the certificate in PEM, ending with a newline.
  type: list
  elements: dict
"""

import base64
import binascii
import os
import re

from ansible.errors import AnsibleFilterError

_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \1-----", re.DOTALL)
_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def _stem(source):
    stem = os.path.splitext(os.path.basename(str(source).rstrip("/")))[0]
    stem = _SAFE_NAME.sub("-", stem).strip("-.")
    return stem or "ca"


def _certificates(source, text):
    if not isinstance(text, str):
        raise AnsibleFilterError(
            "ca_certificate_files: the content of %r must be text, got %s" % (source, type(text).__name__)
        )
    blocks = _BLOCK.findall(text)
    if len(_BEGIN.findall(text)) != len(blocks):
        raise AnsibleFilterError(
            "ca_certificate_files: %r has a PEM block without its END line (truncated file?)" % source
        )
    certificates = []
    for label, body in blocks:
        if "PRIVATE KEY" in label:
            raise AnsibleFilterError(
                "ca_certificate_files: %r contains a %s; list only CA certificates "
                "(never keys) in the CA certificate variables" % (source, label)
            )
        if label != "CERTIFICATE":
            continue
        der_text = "".join(body.split())
        try:
            der = base64.b64decode(der_text, validate=True)
        except (binascii.Error, ValueError):
            raise AnsibleFilterError(
                "ca_certificate_files: certificate %d in %r is not valid base64" % (len(certificates) + 1, source)
            )
        if not der.startswith(b"\x30"):
            raise AnsibleFilterError(
                "ca_certificate_files: certificate %d in %r is not a DER certificate" % (len(certificates) + 1, source)
            )
        lines = [der_text[i:i + 64] for i in range(0, len(der_text), 64)]
        certificates.append("-----BEGIN CERTIFICATE-----\n%s\n-----END CERTIFICATE-----\n" % "\n".join(lines))
    if not certificates:
        raise AnsibleFilterError(
            "ca_certificate_files: %r holds no PEM certificate (expected '-----BEGIN CERTIFICATE-----')" % source
        )
    return certificates


def ca_certificate_files(sources):
    """Return [{'name': '<stem>-<n>.crt', 'content': PEM}] for every certificate in ``sources``."""
    if not isinstance(sources, dict):
        raise AnsibleFilterError(
            "ca_certificate_files: expects a mapping of source name to PEM text, got %s" % type(sources).__name__
        )
    files = []
    stems = {}
    for source, text in sources.items():
        stem = _stem(source)
        if stem in stems:
            raise AnsibleFilterError(
                "ca_certificate_files: %r and %r would both install as %r; rename one of the files"
                % (stems[stem], source, stem)
            )
        stems[stem] = source
        for index, pem in enumerate(_certificates(source, text), start=1):
            files.append({"name": "%s-%d.crt" % (stem, index), "content": pem})
    return files


class FilterModule(object):
    def filters(self):
        return {"ca_certificate_files": ca_certificate_files}
