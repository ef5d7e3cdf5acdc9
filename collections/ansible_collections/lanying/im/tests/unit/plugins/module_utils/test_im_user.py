from __future__ import annotations

import pytest

from ansible_collections.lanying.im.plugins.module_utils._im_user import UserError, ensure_user
from ansible_collections.lanying.im.tests.unit.plugins.module_utils.matrix_exchange import (
    LOGIN_REFUSED, LOGOUT_OK, Exchange, client_factory, login_ok)

USER = "/_synapse/admin/v2/users/%40alice%3Achat.test"
ALICE = {"name": "@alice:chat.test", "admin": False, "displayname": "Alice", "deactivated": False}


def params(**overrides):
    base = {"server_name": "chat.test", "name": "alice", "password": "pw-alice", "update_password": "on_create",
            "admin": None, "displayname": None, "state": "present", "admin_user": "admin",
            "admin_password": "pw-admin", "shared_secret": None}
    base.update(overrides)
    return base


def run(script, check_mode=False, **overrides):
    exchange = Exchange(script)
    result = ensure_user(client_factory(exchange), params(**overrides), check_mode)
    assert exchange.done(), "requests left unanswered: %r" % exchange.script
    return result, exchange


def test_creates_a_missing_user():
    result, exchange = run([login_ok("@admin:chat.test"), ("GET", USER, 404, {"errcode": "M_NOT_FOUND"}),
                            ("PUT", USER, 201, {}), LOGOUT_OK], displayname="Alice")
    assert result["changed"] and result["created"] and not result["admin_created"]
    assert exchange.bodies("PUT", USER) == [{"deactivated": False, "displayname": "Alice", "password": "pw-alice"}]
    assert result["diff"]["after"] == {"exists": True, "deactivated": False, "displayname": "Alice"}


def test_an_unchanged_user_is_left_alone():
    result, exchange = run([login_ok("@admin:chat.test"), ("GET", USER, 200, ALICE), LOGOUT_OK],
                           displayname="Alice", admin=False)
    assert not result["changed"] and not exchange.bodies("PUT", USER)


@pytest.mark.parametrize("overrides, body", [
    ({"displayname": "Alice Liu"}, {"displayname": "Alice Liu"}),
    ({"admin": True}, {"admin": True}),
    ({"state": "absent"}, {"deactivated": True}),
])
def test_only_what_differs_is_changed(overrides, body):
    result, exchange = run([login_ok("@admin:chat.test"), ("GET", USER, 200, ALICE), ("PUT", USER, 200, {}), LOGOUT_OK],
                           **overrides)
    assert result["changed"] and not result["created"]
    assert exchange.bodies("PUT", USER) == [body]


def test_check_mode_reports_and_changes_nothing():
    result, exchange = run([login_ok("@admin:chat.test"), ("GET", USER, 200, ALICE), LOGOUT_OK],
                           check_mode=True, displayname="Alice Liu")
    assert result["changed"] and result["diff"]["after"]["displayname"] == "Alice Liu"
    assert not exchange.bodies("PUT", USER)


def test_absent_user_that_never_existed_is_no_change():
    result = run([login_ok("@admin:chat.test"), ("GET", USER, 404, {}), LOGOUT_OK], state="absent")[0]
    assert not result["changed"]


def test_missing_admin_is_created_with_the_shared_secret():
    result, exchange = run([
        LOGIN_REFUSED,
        ("GET", "/_synapse/admin/v1/register", 200, {"nonce": "n1"}),
        ("POST", "/_synapse/admin/v1/register", 200, {"access_token": "T", "user_id": "@admin:chat.test"}),
        ("GET", "/_synapse/admin/v2/users/%40admin%3Achat.test", 200,
         {"admin": True, "displayname": "admin", "deactivated": False}),
        LOGOUT_OK,
    ], name="admin", password="pw-admin", admin=True, shared_secret="s3cret")
    assert result["changed"] and result["admin_created"] and not result["created"]
    body = exchange.bodies("POST", "/_synapse/admin/v1/register")[0]
    assert body["username"] == "admin" and body["admin"] is True and len(body["mac"]) == 40


def test_missing_admin_in_check_mode_is_reported_without_requests():
    result = run([LOGIN_REFUSED], check_mode=True, shared_secret="s3cret")[0]
    assert result["changed"] and result["admin_created"] and result["created"]


@pytest.mark.parametrize("script, overrides, message", [
    ([LOGIN_REFUSED], {}, "the admin account admin cannot log in (POST /_matrix/client/v3/login answered HTTP 403 "
                          "(M_FORBIDDEN: Invalid username or password)) and no shared_secret was given to create it"),
    ([LOGIN_REFUSED, ("GET", "/_synapse/admin/v1/register", 200, {"nonce": "n"}),
      ("POST", "/_synapse/admin/v1/register", 400, {"errcode": "M_USER_IN_USE", "error": "User ID already taken."})],
     {"shared_secret": "s"}, "the admin account admin exists but admin_password is not its password"),
    ([LOGIN_REFUSED, ("GET", "/_synapse/admin/v1/register", 200, {"nonce": "n"}),
      ("POST", "/_synapse/admin/v1/register", 403, {"errcode": "M_FORBIDDEN", "error": "HMAC incorrect"})],
     {"shared_secret": "wrong"}, "check that shared_secret is the server's registration_shared_secret"),
    ([login_ok("@admin:chat.test"), ("GET", USER, 404, {}), LOGOUT_OK], {"password": None},
     "@alice:chat.test does not exist; set password to create it"),
    ([login_ok("@admin:chat.test"), ("GET", USER, 200, dict(ALICE, deactivated=True)), LOGOUT_OK], {"password": None},
     "@alice:chat.test is deactivated; set password to reactivate it"),
    ([], {"name": "admin", "state": "absent"}, "it cannot deactivate itself"),
])
def test_refusals_say_why(script, overrides, message):
    with pytest.raises(UserError) as err:
        run(script, **overrides)
    assert message in str(err.value)


def test_update_password_always_resets_a_password_that_does_not_work():
    result, exchange = run([login_ok("@admin:chat.test"), ("GET", USER, 200, ALICE), LOGIN_REFUSED,
                            ("PUT", USER, 200, {}), LOGOUT_OK], update_password="always")
    assert result["changed"] and exchange.bodies("PUT", USER) == [{"password": "pw-alice"}]


def test_update_password_always_keeps_a_password_that_works():
    script = [login_ok("@admin:chat.test"), ("GET", USER, 200, ALICE), login_ok("@alice:chat.test", "T2"),
              LOGOUT_OK, LOGOUT_OK]
    result = run(script, update_password="always")[0]
    assert not result["changed"]


def test_reactivation_sends_the_password():
    result, exchange = run([login_ok("@admin:chat.test"), ("GET", USER, 200, dict(ALICE, deactivated=True)),
                            ("PUT", USER, 200, {}), LOGOUT_OK])
    assert exchange.bodies("PUT", USER) == [{"deactivated": False, "password": "pw-alice"}]


RATELIMIT = "/_synapse/admin/v1/users/%40alice%3Achat.test/override_ratelimit"


@pytest.mark.parametrize("current, wanted, request_sent", [
    ({}, {"messages_per_second": 0, "burst_count": 0}, ("POST", {"messages_per_second": 0, "burst_count": 0})),
    ({"messages_per_second": 0, "burst_count": 0}, {"messages_per_second": 0, "burst_count": 0}, None),
    ({"messages_per_second": 5, "burst_count": 10}, {}, ("DELETE", None)),
    ({}, {}, None),
])
def test_rate_limit_override(current, wanted, request_sent):
    script = [login_ok("@admin:chat.test"), ("GET", USER, 200, ALICE), ("GET", RATELIMIT, 200, current)]
    if request_sent:
        script.append((request_sent[0], RATELIMIT, 200, {}))
    result, exchange = run(script + [LOGOUT_OK], ratelimit=wanted)
    assert result["changed"] == bool(request_sent)
    if request_sent:
        assert exchange.bodies(request_sent[0], RATELIMIT) == [request_sent[1]]


def test_rate_limit_of_a_new_user_is_set_after_creation():
    script = [login_ok("@admin:chat.test"), ("GET", USER, 404, {}), ("PUT", USER, 201, {}),
              ("POST", RATELIMIT, 200, {}), LOGOUT_OK]
    result, _exchange = run(script, ratelimit={"messages_per_second": 0, "burst_count": 0})
    assert result["created"] and result["diff"]["after"]["ratelimit"] == {"messages_per_second": 0, "burst_count": 0}
