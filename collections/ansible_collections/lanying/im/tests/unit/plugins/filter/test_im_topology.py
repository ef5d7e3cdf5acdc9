from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.filter.im_topology import FilterModule, im_topology

GROUPS = {"im_app": ["a"], "im_gateway": ["g"], "im_db": ["d"]}


def test_returns_the_model():
    model = im_topology(GROUPS, {"server_name": "chat.example.com"})
    assert [i["host"] for i in model["instances"]] == ["a", "g", "d", "d"]


def test_errors_become_filter_errors():
    with pytest.raises(AnsibleFilterError, match="inventory group im_db has no host"):
        im_topology({"im_app": ["a"], "im_gateway": ["g"]}, {"server_name": "chat.example.com"})


def test_registered():
    assert FilterModule().filters()["im_topology"] is im_topology
