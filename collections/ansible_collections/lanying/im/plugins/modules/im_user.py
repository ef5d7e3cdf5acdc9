#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: im_user
short_description: Ensure a chat user exists (or is deactivated), with its admin flag and display name
version_added: 0.1.0
author: lanying.im maintainers (@lanying-im)
description:
  - Manages one user of a Synapse homeserver through Synapse's admin API, working as O(admin_user).
  - When O(admin_user) cannot log in and O(shared_secret) is given, the admin account is first created
    through shared-secret registration (Synapse's C(registration_shared_secret)), so the first run on a new
    server needs nothing else.
  - The user is read first and only what differs is changed (idempotent). A password cannot be read back;
    with O(update_password=always) it is checked by logging in with it and set only when that fails.
  - Every session the module opens (and so every device it creates) is logged out before it returns.
  - Rate limits (HTTP 429) are waited out for up to a minute in total.
extends_documentation_fragment:
  - lanying.im.http_client
options:
  url:
    description: Base URL of the homeserver's client API, for example V(http://127.0.0.1:8008).
    type: str
    required: true
  server_name:
    description: The server name user IDs end in; O(name) C(alice) becomes C(@alice:<server_name>).
    type: str
    required: true
  name:
    description: The user's localpart (C(alice)) or full user ID (C(@alice:chat.example.com)).
    type: str
    required: true
  password:
    description:
      - The user's password. Required to create the user or to reactivate a deactivated one.
    type: str
  update_password:
    description:
      - V(on_create) sets the password only when the user is created; V(always) also resets it when
        logging in with it fails.
    type: str
    choices: [always, on_create]
    default: on_create
  admin:
    description: Whether the user is a server administrator. Unset leaves it as it is (new users are not).
    type: bool
  displayname:
    description: The user's display name. Unset leaves it as it is.
    type: str
  ratelimit:
    description:
      - Override of the message rate limit for this user (bots, bridges, load tests). C(messages_per_second)
        and C(burst_count) of V(0) mean no limit. An empty mapping removes the override; unset leaves it as it is.
    type: dict
    suboptions:
      messages_per_second:
        description: Messages per second the user may send; V(0) means no limit.
        type: int
        default: 0
      burst_count:
        description: Messages the user may send at once; V(0) means no limit.
        type: int
        default: 0
  state:
    description: V(present) makes sure the user exists and is active; V(absent) deactivates the user.
    type: str
    choices: [absent, present]
    default: present
  admin_user:
    description: Localpart or user ID of the administrator account the module works as.
    type: str
    required: true
  admin_password:
    description: Password of O(admin_user).
    type: str
    required: true
  shared_secret:
    description:
      - Synapse's C(registration_shared_secret). Used only to create O(admin_user) when it does not exist.
    type: str
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing anything.
    support: full
    details: Reads the user and reports what would change. An admin account that does not exist yet is
      reported as to be created, and the user then as to be created too.
  diff_mode:
    description: Returns what changed (or would change in check mode) in diff mode.
    support: full
notes:
  - Deactivation is what Synapse offers instead of deletion; the user ID can never be registered again.
"""

EXAMPLES = r"""
- name: The first administrator (created through the registration shared secret)
  lanying.im.im_user:
    url: http://127.0.0.1:8008
    server_name: chat.example.com
    name: admin
    password: "{{ admin_password }}"
    admin: true
    admin_user: admin
    admin_password: "{{ admin_password }}"
    shared_secret: "{{ registration_shared_secret }}"
  no_log: true

- name: A user with a display name
  lanying.im.im_user:
    url: http://127.0.0.1:8008
    server_name: chat.example.com
    name: alice
    password: "{{ alice_password }}"
    displayname: Alice Liu
    admin_user: admin
    admin_password: "{{ admin_password }}"
  no_log: true

- name: A bot that may send without rate limit
  lanying.im.im_user:
    url: http://127.0.0.1:8008
    server_name: chat.example.com
    name: alerts-bot
    password: "{{ bot_password }}"
    ratelimit: {messages_per_second: 0, burst_count: 0}
    admin_user: admin
    admin_password: "{{ admin_password }}"
  no_log: true

- name: Someone who left
  lanying.im.im_user:
    url: http://127.0.0.1:8008
    server_name: chat.example.com
    name: bob
    state: absent
    admin_user: admin
    admin_password: "{{ admin_password }}"
"""

RETURN = r"""
user_id:
  description: The full user ID.
  returned: always
  type: str
  sample: "@alice:chat.example.com"
created:
  description: Whether the user was (or in check mode would be) created.
  returned: always
  type: bool
admin_created:
  description: Whether O(admin_user) was (or would be) created through the shared secret.
  returned: always
  type: bool
diff:
  description: The user's admin flag, display name, deactivation (and rate-limit override when managed) before and after.
  returned: when the user could be read
  type: dict
  sample: {"before": {"exists": false}, "after": {"exists": true, "admin": false, "displayname": "Alice", "deactivated": false}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lanying.im.plugins.module_utils._im_user import UserError, ensure_user
from ansible_collections.lanying.im.plugins.module_utils._matrix import (
    MatrixClient, MatrixError, MatrixUnreachable, open_url_transport)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            server_name=dict(type="str", required=True),
            name=dict(type="str", required=True),
            password=dict(type="str", no_log=True),
            update_password=dict(type="str", choices=["always", "on_create"], default="on_create", no_log=False),
            admin=dict(type="bool"),
            displayname=dict(type="str"),
            ratelimit=dict(type="dict", options=dict(messages_per_second=dict(type="int", default=0),
                                                     burst_count=dict(type="int", default=0))),
            state=dict(type="str", choices=["absent", "present"], default="present"),
            admin_user=dict(type="str", required=True),
            admin_password=dict(type="str", required=True, no_log=True),
            shared_secret=dict(type="str", no_log=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            timeout=dict(type="int", default=30),
        ),
        supports_check_mode=True,
    )
    params = module.params
    transport = open_url_transport(validate_certs=params["validate_certs"], ca_path=params["ca_path"])

    def make_client():
        return MatrixClient(params["url"], transport, timeout=params["timeout"])

    try:
        result = ensure_user(make_client, params, module.check_mode)
    except MatrixUnreachable as err:
        module.fail_json(msg="the homeserver at %s cannot be reached: %s" % (params["url"], err))
    except (MatrixError, UserError) as err:
        module.fail_json(msg=str(err))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
