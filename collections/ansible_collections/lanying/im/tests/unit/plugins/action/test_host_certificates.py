"""lanying.im.host_certificates end to end: the action on the controller and the module on a host (this
machine, through a local connection), through ansible-playbook."""

from __future__ import annotations

import grp
import json
import os
from unittest import mock

import pytest
from ansible.playbook.task import Task

from ansible_collections.lanying.im.plugins.action import host_certificates as action
from ansible_collections.lanying.im.plugins.module_utils import _certificates as certs
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import local_host, run_playbook
from ansible_collections.lanying.im.tests.unit.plugins.module_utils.test_certificates import CA_KEY, CA_PEM

PLAYBOOK = """
- name: Keep certificates
  hosts: host1
  gather_facts: false
  tasks:
    - name: Keep them
      lanying.im.host_certificates:
        ca: {certificate: "{{ ca_dir }}/ca.crt", key: "{{ ca_dir }}/ca.key"}
        textfile_dir: "{{ host_dir }}/textfile"
        certificates:
          - {name: service, dir: "{{ host_dir }}/service", group: nogroup, dns: "{{ dns }}", ips: [10.0.0.5]}
          - {name: other, dir: "{{ host_dir }}/other", dns: [other.test]}
      register: kept

    - name: Keep the result for the test
      ansible.builtin.copy:
        content: "{{ kept | to_json }}"
        dest: "{{ ca_dir }}/result.json"
        mode: "0600"
      delegate_to: localhost
      check_mode: false
"""


@pytest.fixture(name="place")
def place_fixture(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the module sets root as the owner of what it writes")
    (tmp_path / "ca").mkdir()
    (tmp_path / "ca" / "ca.crt").write_text(CA_PEM)
    (tmp_path / "ca" / "ca.key").write_text(CA_KEY)
    (tmp_path / "playbook.yml").write_text(PLAYBOOK)
    (tmp_path / "hosts.yml").write_text(json.dumps({"all": {"hosts": {"host1": local_host(5)}, "vars": {
        "ca_dir": str(tmp_path / "ca"), "host_dir": str(tmp_path / "host")}}}))
    return tmp_path


def keep(place, *options, dns="service.test"):
    code, output = run_playbook(place, "playbook.yml", "-e", json.dumps({"dns": [dns]}), *options)
    assert code == 0, output
    return json.loads((place / "ca" / "result.json").read_text()), output


def test_issues_once_keeps_then_reissues_for_new_names(place):
    result, output = keep(place)
    assert result["changed"] and [entry["reasons"] for entry in result["certificates"]] == [
        ["no certificate"], ["no certificate"]]
    service = place / "host" / "service"
    key = (service / "service.key").read_text()
    assert key not in output and CA_KEY not in output
    facts = certs.describe((service / "service.crt").read_text())
    assert facts["names"] == ["DNS:service.test", "IP:10.0.0.5"]
    assert facts["public_key"] == certs.spki_of(certs.public_key(key))
    assert (service / "ca.crt").read_text() == CA_PEM
    assert oct((service / "service.key").stat().st_mode & 0o777) == "0o640"
    # The service's group reads the key and the certificates; nobody else reads the key.
    for name in ("service.key", "service.crt", "ca.crt"):
        assert grp.getgrgid((service / name).stat().st_gid).gr_name == "nogroup", name
    assert oct(service.stat().st_mode & 0o777) == "0o750"
    metric = (place / "host" / "textfile" / "lanying_im_certificate_service.prom").read_text()
    assert 'certificate="service",path="%s/service.crt"} %d' % (service, facts["not_after"]) in metric

    again, _output = keep(place)
    assert not again["changed"] and not any(entry["issued"] for entry in again["certificates"])

    # Check mode tells the truth and leaves the host as it was.
    before = (service / "service.crt").read_text()
    checked, output = keep(place, "--check", "--diff", dns="service2.test")
    assert checked["changed"] and checked["certificates"][0]["issued"]
    assert checked["certificates"][0]["reasons"][0].startswith("names differ")
    assert not checked["certificates"][1]["changed"]
    assert (service / "service.crt").read_text() == before and "service.crt" in output

    renamed, _output = keep(place, dns="service2.test")
    assert renamed["certificates"][0]["issued"] and not renamed["certificates"][1]["issued"]
    assert (service / "service.key").read_text() == key
    assert certs.describe((service / "service.crt").read_text())["names"] == ["DNS:service2.test", "IP:10.0.0.5"]


def test_a_lost_key_gets_a_new_key_and_certificate(place):
    keep(place)
    service = place / "host" / "service"
    (service / "service.key").unlink()
    result, output = keep(place)
    assert result["certificates"][0]["reasons"] == ["the key changed"]
    key = (service / "service.key").read_text()
    assert key not in output
    assert certs.describe((service / "service.crt").read_text())["public_key"] == certs.spki_of(certs.public_key(key))


def test_a_missing_ca_is_named(place):
    (place / "ca" / "ca.crt").unlink()
    code, output = run_playbook(place, "playbook.yml", "-e", json.dumps({"dns": ["service.test"]}))
    assert code != 0 and "cannot read the CA certificate %s/ca/ca.crt on the controller" % place in output


def test_the_controller_signs_the_names_of_the_task_not_those_the_host_reports(tmp_path):
    """A host that was taken over answers the first pass with other names, a common name and usages of its
    choice: what the CA signs is still what the task asks for; only the public key is the host's."""
    (tmp_path / "ca.crt").write_text(CA_PEM)
    (tmp_path / "ca.key").write_text(CA_KEY)
    task = Task()
    task.args = {"ca": {"certificate": str(tmp_path / "ca.crt"), "key": str(tmp_path / "ca.key")},
                 "certificates": [{"name": "pgbackrest", "dir": "/etc/t", "dns": ["db-1"], "ips": ["10.0.0.5"],
                                   "common_name": "pgbackrest.db-1", "usage": ["server", "client"]},
                                  {"name": "exporter", "dir": "/etc/e", "dns": ["db-1"], "ips": ["10.0.0.5"]}]}
    plugin = action.ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None,
                                 shared_loader_obj=None)
    public = certs.public_key(certs.make_key())
    forged = {"public_key": public, "names": ["DNS:backup-1", "IP:10.0.0.9"], "common_name": "backup-1",
              "usage": ["client"], "reasons": ["no certificate"], "issued": True, "changed": True}
    signed = {}

    def execute(module_name, module_args, task_vars):
        del module_name, task_vars
        if not module_args["issued"]:
            return {"changed": True, "certificates": [dict(forged, name="pgbackrest"), dict(forged, name="exporter")]}
        signed.update(module_args["issued"])
        return {"changed": True, "certificates": [{"name": name, "issued": True} for name in module_args["issued"]]}

    with mock.patch.object(action.ActionBase, "run", return_value={}), \
            mock.patch.object(plugin, "_execute_module", side_effect=execute):
        plugin.run(task_vars={})
    backup, exporter = certs.describe(signed["pgbackrest"]), certs.describe(signed["exporter"])
    assert backup["names"] == exporter["names"] == ["DNS:db-1", "IP:10.0.0.5"]
    assert (backup["common_name"], backup["usage"]) == ("pgbackrest.db-1", ["client", "server"])
    assert (exporter["common_name"], exporter["usage"]) == ("db-1", ["server"])
    assert backup["public_key"] == certs.spki_of(public)

    # A certificate the task does not keep is not signed at all.
    def stranger(module_name, module_args, task_vars):
        del module_name, module_args, task_vars
        return {"changed": True, "certificates": [dict(forged, name="backup-1")]}

    with mock.patch.object(action.ActionBase, "run", return_value={}), \
            mock.patch.object(plugin, "_execute_module", side_effect=stranger), \
            pytest.raises(action.AnsibleActionFail, match="does not keep: backup-1"):
        plugin.run(task_vars={})
