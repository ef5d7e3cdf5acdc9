# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The decisions of the lanying.im.im_user module (private to this collection; no stable API)."""

from __future__ import annotations

from ansible_collections.lanying.im.plugins.module_utils._matrix import MatrixError, localpart, user_id_for

TRACKED = ("admin", "displayname", "deactivated")


class UserError(Exception):
    """The user cannot be brought to the requested state; the message says why and what to do."""


def _record(user):
    if user is None:
        return {"exists": False}
    return {
        "exists": True,
        "admin": bool(user.get("admin")),
        "displayname": user.get("displayname"),
        "deactivated": bool(user.get("deactivated")),
    }


def _admin_session(client, params, check_mode):
    """Log in as the admin account, creating it with the shared secret if it does not exist yet.

    Returns True when the admin account was (or, in check mode, would be) created; in check mode an
    admin account that does not exist yet leaves the client without a session.
    """
    try:
        client.login(params["admin_user"], params["admin_password"])
        return False
    except MatrixError as err:
        if err.status != 403:
            raise
        if not params.get("shared_secret"):
            raise UserError("the admin account %s cannot log in (%s) and no shared_secret was given to create it"
                            % (params["admin_user"], err))
    if check_mode:
        return True
    try:
        client.register_with_shared_secret(params["shared_secret"], localpart(params["admin_user"]),
                                           params["admin_password"], True)
    except MatrixError as err:
        if err.errcode == "M_USER_IN_USE":
            raise UserError("the admin account %s exists but admin_password is not its password; set the password "
                            "it has, or reset it with Synapse's admin API" % params["admin_user"])
        if err.status in (400, 403) and err.errcode in ("M_UNKNOWN", "M_FORBIDDEN", ""):
            raise UserError("Synapse refused shared-secret registration of %s (%s); check that shared_secret is the "
                            "server's registration_shared_secret" % (params["admin_user"], err))
        raise
    return True


def _password_works(make_client, user_id, password):
    probe = make_client()
    try:
        probe.login(user_id, password)
    except MatrixError as err:
        if err.status == 403:
            return False
        raise
    finally:
        probe.logout()
    return True


def ensure_user(make_client, params, check_mode):
    """Bring one user to the state ``params`` asks for; return the module result."""
    user_id = user_id_for(params["name"], params["server_name"])
    if params["state"] == "absent" and user_id == user_id_for(params["admin_user"], params["server_name"]):
        raise UserError("%s is admin_user, the account this module works through; it cannot deactivate itself"
                        % user_id)
    client = make_client()
    result = {"changed": False, "user_id": user_id, "created": False, "admin_created": False}
    try:
        result["admin_created"] = _admin_session(client, params, check_mode)
        result["changed"] = result["admin_created"]
        if client.token is None:
            after = {"exists": params["state"] == "present", "deactivated": params["state"] == "absent"}
            result.update(changed=True, created=params["state"] == "present",
                          diff={"before": {"exists": False}, "after": after})
            return result
        before = _record(client.get_user(user_id))
        body = _changes(make_client, user_id, params, before)
        after = dict(before, exists=before["exists"] or params["state"] == "present")
        after.update((key, value) for key, value in body.items() if key in TRACKED)
        ratelimit = _ratelimit_change(client, user_id, params, before, after)
        result["diff"] = {"before": before, "after": after}
        if body or ratelimit:
            result["changed"] = True
            result["created"] = not before["exists"]
            if not check_mode:
                if body:
                    client.put_user(user_id, body)
                if ratelimit:
                    client.set_ratelimit(user_id, ratelimit[0])
        return result
    finally:
        client.logout()


def _ratelimit_change(client, user_id, params, before, after):
    """(override,) when the message rate-limit override must change (None removes it), else ()."""
    wanted = params.get("ratelimit")
    if wanted is None or params["state"] == "absent":
        return ()
    wanted = None if wanted == {} else {"messages_per_second": wanted.get("messages_per_second", 0),
                                        "burst_count": wanted.get("burst_count", 0)}
    current = client.get_ratelimit(user_id) if before["exists"] else {}
    current = None if not current else {"messages_per_second": current.get("messages_per_second", 0),
                                        "burst_count": current.get("burst_count", 0)}
    before["ratelimit"], after["ratelimit"] = current, wanted
    return (wanted,) if current != wanted else ()


def _changes(make_client, user_id, params, before):
    """The admin API body that brings ``before`` to the wanted state (empty when nothing changes)."""
    if params["state"] == "absent":
        return {"deactivated": True} if before["exists"] and not before["deactivated"] else {}
    wanted = {"deactivated": False}
    for key in ("admin", "displayname"):
        if params.get(key) is not None:
            wanted[key] = params[key]
    if not before["exists"]:
        if not params.get("password"):
            raise UserError("%s does not exist; set password to create it" % user_id)
        return dict(wanted, password=params["password"])
    body = dict((key, value) for key, value in wanted.items() if before.get(key) != value)
    needs_password = before["deactivated"] or (
        params["update_password"] == "always" and params.get("password")
        and not _password_works(make_client, user_id, params["password"]))
    if needs_password:
        if not params.get("password"):
            raise UserError("%s is deactivated; set password to reactivate it" % user_id)
        body["password"] = params["password"]
    return body
