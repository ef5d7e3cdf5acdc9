#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: es_object
short_description: Manage an index template, retention policy or ingest pipeline of Elasticsearch or OpenSearch
version_added: 0.1.0
author: lanying.im maintainers (@lanying-im)
description:
  - Reads one object of a cluster through its REST API, compares it with O(body) and writes it only when
    they differ (idempotent); deletes it with O(state=absent).
  - The server adds fields of its own (versions, dates, defaults); the object is up to date when everything
    in O(body) is there with the same value. Index settings are compared the way the server keeps them
    (dotted names without the C(index.) prefix, values as strings).
  - Kinds and their APIs - V(index_template) C(_index_template), V(component_template)
    C(_component_template), V(ilm_policy) Elasticsearch's C(_ilm/policy), V(ism_policy) OpenSearch's
    C(_plugins/_ism/policies), V(ingest_pipeline) C(_ingest/pipeline).
extends_documentation_fragment:
  - lanying.im.http_client
options:
  url:
    description: Base URL of the cluster's REST API, for example V(https://es1.example.com:9200).
    type: str
    required: true
  kind:
    description: What the object is.
    type: str
    required: true
    choices: [index_template, component_template, ilm_policy, ism_policy, ingest_pipeline]
  name:
    description: The object's name.
    type: str
    required: true
  body:
    description:
      - The definition, as the API's PUT takes it. A policy is a mapping with one key, C(policy).
      - Required with O(state=present).
    type: dict
  state:
    description: V(present) creates or updates the object; V(absent) deletes it.
    type: str
    choices: [absent, present]
    default: present
  username:
    description: Basic-auth user. Leave out with O(api_key) or for a cluster without authentication.
    type: str
  password:
    description: Basic-auth password of O(username).
    type: str
  api_key:
    description: An API key (base64 of C(id:key)), sent in an C(Authorization) header of the C(ApiKey) scheme, instead of basic auth.
    type: str
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing anything.
    support: full
  diff_mode:
    description: Returns the object before and after (what is asked for) in diff mode.
    support: full
notes:
  - One request to read, and one to write when something differs.
"""

EXAMPLES = r"""
- name: Index template of the platform's logs
  lanying.im.es_object:
    url: https://es1.example.com:9200
    kind: index_template
    name: lanying
    body:
      index_patterns: [lanying-*]
      priority: 100
      template:
        settings: {number_of_replicas: 1}
        mappings:
          properties:
            component: {type: keyword}
            message: {type: text}
    username: lanying-shipper
    password: "{{ lanying_im_logging_password }}"
    ca_path: /etc/lanying-im/log-shipper/ca.crt

- name: Logs kept 30 days (Elasticsearch)
  lanying.im.es_object:
    url: https://es1.example.com:9200
    kind: ilm_policy
    name: lanying-logs
    body:
      policy:
        phases:
          hot: {actions: {}}
          delete: {min_age: 30d, actions: {delete: {}}}
    api_key: "{{ es_api_key }}"
"""

RETURN = r"""
kind:
  description: The kind of object.
  returned: always
  type: str
  sample: index_template
name:
  description: The object's name.
  returned: always
  type: str
  sample: lanying
path:
  description: The API path of the object.
  returned: always
  type: str
  sample: /_index_template/lanying
diff:
  description: The object as the server had it, and as asked for (the same when nothing changed).
  returned: always
  type: dict
  sample: {"before": {}, "after": {"index_patterns": ["lanying-*"]}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lanying.im.plugins.module_utils._es_object import (
    EsClient, EsObjectError, KINDS, auth_headers, ensure_object)
from ansible_collections.lanying.im.plugins.module_utils._matrix import MatrixUnreachable, open_url_transport


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            kind=dict(type="str", required=True, choices=list(KINDS)),
            name=dict(type="str", required=True),
            body=dict(type="dict"),
            state=dict(type="str", choices=["absent", "present"], default="present"),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            api_key=dict(type="str", no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            timeout=dict(type="int", default=30),
        ),
        mutually_exclusive=[("api_key", "username")],
        required_if=[("state", "present", ["body"])],
        supports_check_mode=True,
    )
    params = module.params
    transport = open_url_transport(validate_certs=params["validate_certs"], ca_path=params["ca_path"])
    client = EsClient(params["url"], transport,
                      headers=auth_headers(params["username"], params["password"], params["api_key"]),
                      timeout=params["timeout"])
    try:
        result = ensure_object(client, params["kind"], params["name"], params["body"], params["state"],
                               module.check_mode)
    except MatrixUnreachable as err:
        module.fail_json(msg="the cluster at %s cannot be reached: %s" % (params["url"], err))
    except EsObjectError as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
