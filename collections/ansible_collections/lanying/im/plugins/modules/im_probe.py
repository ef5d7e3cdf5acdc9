#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: im_probe
short_description: Prove that the chat platform delivers messages, and time it
version_added: 0.1.0
author: lanying.im maintainers (@lanying-im)
description:
  - Logs in two probe users through the gateway, sends a message from one and waits until the other
    receives it through sync, then returns the delivery latency.
  - The probe room (O(room_alias_name)) is created by the sender on first use, with the receiver invited.
  - Fails with the step and the reason when the gateway cannot be reached, a login is refused, or the
    message is not delivered within O(timeout).
  - Both sessions are logged out before the module returns.
options:
  url:
    description: The platform's public base URL (the gateway), for example V(https://chat.example.com/).
    type: str
    required: true
  sender_user:
    description: Localpart or user ID of the probe user that sends.
    type: str
    required: true
  sender_password:
    description: Password of O(sender_user).
    type: str
    required: true
  receiver_user:
    description: Localpart or user ID of the probe user that receives.
    type: str
    required: true
  receiver_password:
    description: Password of O(receiver_user).
    type: str
    required: true
  room_alias_name:
    description: Localpart of the probe room's alias.
    type: str
    default: lanying-probe
  timeout:
    description: Seconds the message has to arrive, counted from the moment it is sent.
    type: int
    default: 30
  validate_certs:
    description: Verify the gateway's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA that signed the gateway's certificate (the internal CA).
    type: path
attributes:
  check_mode:
    description: Can run in check mode and return the changed status it predicts without changing anything.
    support: full
    details: Logs both users in (and out) to prove the gateway and the logins work, and sends nothing.
  diff_mode:
    description: Returns what changed in diff mode.
    support: none
notes:
  - The probe never changes configuration, so it always reports C(changed=false).
"""

EXAMPLES = r"""
- name: Deliver a message through the gateway
  lanying.im.im_probe:
    url: https://chat.example.com/
    ca_path: /usr/local/share/ca-certificates/lanying-im-ca.crt
    sender_user: probe-sender
    sender_password: "{{ probe_sender_password }}"
    receiver_user: probe-receiver
    receiver_password: "{{ probe_receiver_password }}"
  register: probe

- name: Show the delivery latency
  ansible.builtin.debug:
    msg: "Delivered in {{ probe.latency_ms }} ms"
"""

RETURN = r"""
latency_ms:
  description: Milliseconds from sending the message to its arrival in the receiver's sync.
  returned: success, not in check mode
  type: float
  sample: 42.7
room_id:
  description: The probe room.
  returned: success, not in check mode
  type: str
room_alias:
  description: The probe room's alias.
  returned: success
  type: str
  sample: "#lanying-probe:chat.example.com"
event_id:
  description: The delivered message.
  returned: success, not in check mode
  type: str
sender:
  description: User ID of the sender.
  returned: success
  type: str
receiver:
  description: User ID of the receiver.
  returned: success
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.lanying.im.plugins.module_utils._im_probe import ProbeFailure, run_probe
from ansible_collections.lanying.im.plugins.module_utils._matrix import MatrixClient, open_url_transport


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            sender_user=dict(type="str", required=True),
            sender_password=dict(type="str", required=True, no_log=True),
            receiver_user=dict(type="str", required=True),
            receiver_password=dict(type="str", required=True, no_log=True),
            room_alias_name=dict(type="str", default="lanying-probe"),
            timeout=dict(type="int", default=30),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    transport = open_url_transport(validate_certs=params["validate_certs"], ca_path=params["ca_path"])
    sender = MatrixClient(params["url"], transport, timeout=30)
    receiver = MatrixClient(params["url"], transport, timeout=30)
    try:
        result = run_probe(sender, receiver, params, module.check_mode)
    except ProbeFailure as err:
        module.fail_json(msg=str(err))
    finally:
        sender.logout()
        receiver.logout()
    module.exit_json(**result)


if __name__ == "__main__":
    main()
