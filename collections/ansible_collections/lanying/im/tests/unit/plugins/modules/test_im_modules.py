"""The modules' thin main(): arguments in, one JSON result out, secrets kept out of it."""

from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.lanying.im.plugins.module_utils._matrix import MatrixUnreachable

from ansible_collections.lanying.im.plugins.modules import es_object, im_probe, im_user
from ansible_collections.lanying.im.tests.unit.plugins.module_utils.matrix_exchange import (
    BASE, LOGIN_REFUSED, LOGOUT_OK, Exchange, login_ok)

USER_ARGS = {"url": BASE, "server_name": "chat.test", "name": "alice", "password": "pw-alice-1234",
             "admin_user": "admin", "admin_password": "pw-admin-5678"}
PROBE_ARGS = {"url": BASE, "sender_user": "s", "sender_password": "pw-sender-1234",
              "receiver_user": "r", "receiver_password": "pw-receiver-5678"}


def run_module(module, monkeypatch, capsys, args, script):
    exchange = Exchange(script)
    monkeypatch.setattr(module, "open_url_transport", lambda **kwargs: exchange)
    with patch_module_args(args), pytest.raises(SystemExit) as exit_info:
        module.main()
    output = capsys.readouterr().out
    return exit_info.value.code, json.loads(output), output


def test_im_user_creates_and_keeps_passwords_out_of_the_result(monkeypatch, capsys):
    code, result, output = run_module(im_user, monkeypatch, capsys, USER_ARGS, [
        login_ok("@admin:chat.test"), ("GET", "/_synapse/admin/v2/users/", 404, {}),
        ("PUT", "/_synapse/admin/v2/users/", 201, {}), LOGOUT_OK])
    assert code == 0 and result["changed"] and result["user_id"] == "@alice:chat.test"
    assert "pw-alice-1234" not in output and "pw-admin-5678" not in output


def test_im_user_failure_says_why(monkeypatch, capsys):
    code, result, _output = run_module(im_user, monkeypatch, capsys, USER_ARGS, [LOGIN_REFUSED])
    assert code == 1 and result["failed"]
    assert result["msg"].startswith("the admin account admin cannot log in")


def test_im_probe_check_mode(monkeypatch, capsys):
    args = dict(PROBE_ARGS, _ansible_check_mode=True)
    code, result, output = run_module(im_probe, monkeypatch, capsys, args, [
        login_ok("@s:chat.test", "S"), login_ok("@r:chat.test", "R"), LOGOUT_OK, LOGOUT_OK])
    assert code == 0 and not result["changed"] and result["room_alias"] == "#lanying-probe:chat.test"
    assert "pw-sender-1234" not in output and "pw-receiver-5678" not in output


def test_im_probe_refused_login_fails(monkeypatch, capsys):
    code, result, _output = run_module(im_probe, monkeypatch, capsys, PROBE_ARGS, [LOGIN_REFUSED])
    assert code == 1 and result["msg"].startswith("login refused for the sender s")


ES_ARGS = {"url": "https://es.test:9200", "kind": "index_template", "name": "lanying",
           "body": {"index_patterns": ["lanying-*"]}, "username": "shipper", "password": "pw-es-1234"}


def test_es_object_writes_the_difference_and_keeps_the_password_out(monkeypatch, capsys):
    sent = []

    def cluster(method, url, body, headers, timeout):
        sent.append((method, url))
        return (404, None) if method == "GET" else (200, {"acknowledged": True})

    monkeypatch.setattr(es_object, "open_url_transport", lambda **kwargs: cluster)
    with patch_module_args(ES_ARGS), pytest.raises(SystemExit) as exit_info:
        es_object.main()
    output = capsys.readouterr().out
    result = json.loads(output)
    assert exit_info.value.code == 0 and result["changed"]
    assert sent == [("GET", "https://es.test:9200/_index_template/lanying"),
                    ("PUT", "https://es.test:9200/_index_template/lanying")]
    assert "pw-es-1234" not in output


def test_es_object_unreachable_cluster_fails_clearly(monkeypatch, capsys):
    def cluster(method, url, body, headers, timeout):
        raise MatrixUnreachable("connection refused")

    monkeypatch.setattr(es_object, "open_url_transport", lambda **kwargs: cluster)
    with patch_module_args(ES_ARGS), pytest.raises(SystemExit) as exit_info:
        es_object.main()
    result = json.loads(capsys.readouterr().out)
    assert exit_info.value.code == 1
    assert result["msg"] == "the cluster at https://es.test:9200 cannot be reached: connection refused"
