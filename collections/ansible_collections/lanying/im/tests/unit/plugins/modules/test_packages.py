"""lanying.im.packages: what the package database says is installed, and what apt still has to do."""

from __future__ import annotations

import json
import shutil

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.lanying.im.plugins.modules import packages

QUERY = ("redis-server\tinstalled\t5:7.0.15-1~deb12u1\n"
         "rsyslog\tnot-installed\t\n"
         "docker.io\tinstalled\t20.10.24+dfsg1-1+deb12u1\n"
         "chrony\tconfig-files\t4.3-2+deb12u1\n")


def test_only_installed_packages_count():
    assert packages.installed_versions(QUERY) == {"redis-server": "5:7.0.15-1~deb12u1",
                                                  "docker.io": "20.10.24+dfsg1-1+deb12u1"}


@pytest.mark.parametrize("specs, expected", [
    (["redis-server"], []),
    (["redis-server", "rsyslog", "chrony", "jq"], ["rsyslog", "chrony", "jq"]),
    (["docker.io=20.10.24+dfsg1-1+deb12u1"], []),
    (["docker.io=20.10.24*"], []),
    (["docker.io=20.10.5+dfsg1-1+deb12u1"], ["docker.io=20.10.5+dfsg1-1+deb12u1"]),
    (["docker.io=26.*", "redis-server"], ["docker.io=26.*"]),
])
def test_missing_reads_names_and_versions(specs, expected):
    assert packages.missing(specs, packages.installed_versions(QUERY)) == expected


def test_split_spec():
    assert packages.split_spec("docker.io=20.10*") == ("docker.io", "20.10*")
    assert packages.split_spec("jq") == ("jq", None)


@pytest.mark.skipif(shutil.which("dpkg-query") is None, reason="needs a host with dpkg")
def test_module_reads_this_hosts_database(capsys):
    # dpkg is installed wherever dpkg-query runs; the other name is no Debian package.
    with patch_module_args({"name": ["dpkg", "lanying-no-such-package"]}), pytest.raises(SystemExit) as exit_info:
        packages.main()
    result = json.loads(capsys.readouterr().out)
    assert exit_info.value.code == 0, result
    assert result["changed"] is False
    assert result["missing"] == ["lanying-no-such-package"]
    assert list(result["installed"]) == ["dpkg"]
    assert isinstance(result["index"], bool)
