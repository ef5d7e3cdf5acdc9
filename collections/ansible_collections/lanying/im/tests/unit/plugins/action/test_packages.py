"""lanying.im.packages' action: apt runs only for what the database lacks, and its result is returned."""

from __future__ import annotations

from unittest import mock

from ansible.playbook.task import Task

from ansible_collections.lanying.im.plugins.action import packages as action


def run(args, looked, applied=None, check_mode=False, task_modes=None):
    task = Task()
    task.args = args
    task.check_mode = check_mode
    plugin = action.ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                                 shared_loader_obj=None)
    calls = []

    def execute(module_name, module_args, task_vars):
        del task_vars
        calls.append((module_name, module_args))
        if task_modes is not None:
            task_modes.append(task.check_mode)
        if module_name == action.MODULE:
            return dict(looked)
        return applied(module_name, module_args) if callable(applied) else dict(applied or {})

    with mock.patch.object(action.ActionBase, "run", return_value={}), \
            mock.patch.object(plugin, "_execute_module", side_effect=execute):
        return plugin.run(task_vars={}), calls


def test_nothing_missing_asks_apt_nothing():
    result, calls = run({"name": ["jq"]}, {"missing": [], "installed": {"jq": "1.6"}})
    assert [call[0] for call in calls] == [action.MODULE]
    assert result == {"changed": False, "missing": [], "installed": {"jq": "1.6"}}


def test_apt_gets_the_missing_packages_and_the_options_set():
    result, calls = run({"name": ["jq", "restic"], "install_recommends": False, "cache_valid_time": 0},
                        {"missing": ["restic"], "installed": {"jq": "1.6"}, "index": True},
                        {"changed": True, "stdout": "Setting up restic", "invocation": {"module_args": {}}})
    assert len(calls) == 2
    assert calls[1] == (action.APT, {"name": ["restic"], "state": "present", "install_recommends": False,
                                     "allow_downgrade": False, "allow_change_held_packages": False})
    assert result["changed"] is True and result["missing"] == ["restic"] and "invocation" not in result


def test_install_recommends_unset_is_left_to_apt():
    calls = run({"name": ["restic"], "cache_valid_time": 0}, {"missing": ["restic"], "installed": {}},
                {"changed": True})[1]
    assert "install_recommends" not in calls[1][1]


def test_a_stale_index_is_refreshed_before_an_install_also_in_check_mode():
    task_modes = []
    result, calls = run({"name": ["restic"]}, {"missing": ["restic"], "installed": {}, "index": True},
                        {"changed": True}, check_mode=True, task_modes=task_modes)
    assert [call[0] for call in calls] == [action.MODULE, action.APT, action.APT]
    assert calls[1][1] == {"update_cache": True, "cache_valid_time": 3600}
    assert calls[2][1]["name"] == ["restic"]
    # The refresh runs outside check mode; the look and the install in it.
    assert task_modes == [True, False, True]
    assert result["changed"] is True


def test_outside_check_mode_one_apt_run_refreshes_and_installs():
    calls = run({"name": ["restic"]}, {"missing": ["restic"], "installed": {}, "index": True}, {"changed": True})[1]
    assert len(calls) == 2
    assert calls[1][1]["name"] == ["restic"] and calls[1][1]["update_cache"] is True
    assert calls[1][1]["cache_valid_time"] == 3600


def test_an_empty_index_is_always_refreshed():
    calls = run({"name": ["restic"]}, {"missing": ["restic"], "installed": {}, "index": False}, {"changed": True})[1]
    assert calls[1][1]["update_cache"] is True and "cache_valid_time" not in calls[1][1]


def test_a_failed_refresh_stops_before_the_install():
    def answer(module_name, module_args):
        del module_name
        return {"failed": True, "msg": "Failed to update apt cache"} if "update_cache" in module_args else {}
    result, calls = run({"name": ["restic"]}, {"missing": ["restic"], "installed": {}, "index": True}, answer,
                        check_mode=True)
    assert len(calls) == 2 and result["failed"] and "apt cache" in result["msg"]


def test_a_failed_look_is_the_result():
    result, calls = run({"name": ["jq"]}, {"failed": True, "msg": "dpkg-query could not read"})
    assert len(calls) == 1 and result["failed"] and "dpkg-query" in result["msg"]


def test_apt_failure_is_returned():
    result = run({"name": ["nope"], "cache_valid_time": 0}, {"missing": ["nope"], "installed": {}},
                 {"failed": True, "msg": "No package matching 'nope' is available"})[0]
    assert result["failed"] and "nope" in result["msg"]
