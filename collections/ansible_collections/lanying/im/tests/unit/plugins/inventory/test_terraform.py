"""lanying.im.terraform: hosts from Terraform's state or outputs, through ansible-inventory itself.

The fixtures are what Terraform 1.11 wrote for terraform/generic with its example.tfvars (state format 4
and `terraform output -json`), and a format 3 state as Terraform 0.11 wrote it. With a terraform binary on
the PATH, the generic root module is also applied for real and its fresh state read.
"""

import copy
import functools
import http.server
import json
import os
import pathlib
import shutil
import subprocess
import sys
import threading

import pytest

from ansible_collections.lanying.im.plugins.inventory import terraform as plugin

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
COLLECTIONS = pathlib.Path(__file__).resolve().parents[7]
PROJECT = COLLECTIONS.parent
EXPECTED_GROUPS = {
    "im_gateway": ["lanying-gw"],
    "im_registry": ["lanying-gw"],
    "im_app": ["lanying-app"],
    "im_build": ["lanying-app"],
    "im_db": ["lanying-db"],
    "monitoring": ["lanying-db"],
    "logging": ["lanying-db"],
}


def inventory(tmp_path, config, name="hosts.terraform.yml"):
    """Run ansible-inventory --list on a configuration; returns (exit status, parsed list or None, stderr)."""
    path = tmp_path / name
    path.write_text(json.dumps(config))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_INVENTORY_UNPARSED_FAILED="true",
               ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="true", NO_COLOR="1", ANSIBLE_FORCE_COLOR="0")
    result = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(path), "--list"],
        capture_output=True, text=True, env=env, check=False,
    )
    listed = plain(json.loads(result.stdout)) if result.returncode == 0 else None
    return result.returncode, listed, result.stderr


def plain(value):
    """The listed data without ansible-inventory's marks of untrusted values (Terraform's data is never templated)."""
    if isinstance(value, dict):
        if list(value) == ["__ansible_unsafe"]:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def groups_of(listed):
    return {name: sorted(group.get("hosts", [])) for name, group in listed.items()
            if name not in ("_meta", "all", "ungrouped") and group.get("hosts")}


@pytest.mark.parametrize("source", ["generic.tfstate", "generic-output.json"])
def test_groups_and_addresses_from_state_and_from_outputs(tmp_path, source):
    shutil.copy(FIXTURES / source, tmp_path / source)
    status, listed, stderr = inventory(tmp_path, {"plugin": "lanying.im.terraform", "source": source})
    assert status == 0, stderr
    assert groups_of(listed) == EXPECTED_GROUPS
    hostvars = listed["_meta"]["hostvars"]
    assert hostvars["lanying-gw"] == {
        "ansible_host": "203.0.113.10",
        "lanying_im_address": "10.0.0.10",
        "lanying_im_public_address": "203.0.113.10",
        "lanying_im_terraform_resource": 'terraform_data.host["lanying-gw"]',
    }
    # No public address: Ansible connects to the private one; host variables from the output pass through.
    assert hostvars["lanying-db"]["ansible_host"] == "10.0.0.12"
    assert hostvars["lanying-db"]["common_nofile_limit"] == "1048576"
    assert "lanying_im_public_address" not in hostvars["lanying-db"]


def test_private_addresses_for_a_controller_inside_the_network(tmp_path):
    config = {"plugin": "lanying.im.terraform", "source": str(FIXTURES / "generic.tfstate"), "connect_to": "private"}
    status, listed, stderr = inventory(tmp_path, config)
    assert status == 0, stderr
    assert {name: values["ansible_host"] for name, values in listed["_meta"]["hostvars"].items()} == {
        "lanying-gw": "10.0.0.10", "lanying-app": "10.0.0.11", "lanying-db": "10.0.0.12"}


def test_a_state_file_behind_a_url(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(FIXTURES / "generic.tfstate", served / "state")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%d/" % server.server_address[1]
        # Plain HTTP only when asked for: anyone on the path could change the hosts.
        status, _listed, stderr = inventory(tmp_path, {"plugin": "lanying.im.terraform", "source": url + "state"})
        assert status != 0 and "is plain HTTP" in stderr and "allow_http: true" in " ".join(stderr.split()), stderr
        config = {"plugin": "lanying.im.terraform", "source": url + "state", "allow_http": True}
        status, listed, stderr = inventory(tmp_path, config)
        assert status == 0, stderr
        assert groups_of(listed) == EXPECTED_GROUPS
        status, _listed, stderr = inventory(tmp_path, dict(config, source=url + "missing"))
        assert status != 0 and "cannot read %smissing" % url in stderr and "404" in stderr
    finally:
        server.shutdown()


def broken_output(tmp_path, change):
    """An output -json file with the first host changed by change(hosts)."""
    document = json.loads((FIXTURES / "generic-output.json").read_text())
    change(document["lanying_im_hosts"]["value"])
    (tmp_path / "broken.json").write_text(json.dumps(document))
    return {"plugin": "lanying.im.terraform", "source": "broken.json"}


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda hosts: hosts[0].update(groups=["im_app", "im_databse"]),
         "host lanying-app (resource terraform_data.host[\"lanying-app\"]) is in unknown group im_databse; groups are im_app,"),
        (lambda hosts: hosts[1].update(public_address="", private_address=None),
         "host lanying-db (resource terraform_data.host[\"lanying-db\"]) has no address: set public_address or private_address"),
        (lambda hosts: hosts[2].update(name="lanying-app"),
         "the name lanying-app is used twice (also by terraform_data.host[\"lanying-app\"])"),
        (lambda hosts: hosts[0].update(zone="eu-1"), "has unknown keys zone"),
        (lambda hosts: hosts[0].pop("name"), "resource terraform_data.host[\"lanying-app\"] has no name"),
        # What reaches a firewall rule, a listener or a command line is an address or a name, by type.
        (lambda hosts: hosts[0].update(name="app;reboot"),
         "(resource terraform_data.host[\"lanying-app\"]): the name 'app;reboot' is not a host name"),
        (lambda hosts: hosts[0].update(name='app"x'), "the name 'app\"x' is not a host name"),
        (lambda hosts: hosts[0].update(private_address="10.0.0.11; accept"),
         "host lanying-app (resource terraform_data.host[\"lanying-app\"]): private_address='10.0.0.11; accept' is not "
         "an IP address"),
        (lambda hosts: hosts[0].update(private_address="app.example.com"), "private_address='app.example.com' is not an IP"),
        (lambda hosts: hosts[0].update(private_address="10.0.0.0/24"), "private_address='10.0.0.0/24' is not an IP"),
        (lambda hosts: hosts[0].update(public_address="bad_name!.example.com"),
         "public_address='bad_name!.example.com' is not an IP address or a DNS name"),
        (lambda hosts: hosts[0].update(public_address="300.1.2.3"), "public_address='300.1.2.3' is not an IP address or"),
        # A connection variable from the state runs commands on the controller.
        (lambda hosts: hosts[0].update(vars={"ansible_ssh_common_args": "-o ProxyCommand=touch /tmp/owned"}),
         "host lanying-app (resource terraform_data.host[\"lanying-app\"]): vars sets the connection variable "
         "ansible_ssh_common_args, refused"),
        (lambda hosts: hosts[0].update(vars={"lanying_im_address": "10.9.9.9"}), "vars sets lanying_im_address, which this plugin sets"),
        (lambda hosts: hosts[0].update(vars={"a-b": "1"}), "vars has 'a-b', which is not a variable name"),
    ],
    ids=["unknown group", "no address", "name twice", "unknown key", "no name", "name with a semicolon",
         "name with a quote", "private address with a rule", "private address a name", "private address a network",
         "public address not a name", "public address out of range", "connection variable", "own variable",
         "bad variable name"],
)
def test_bad_hosts_are_refused_with_the_resource_named(tmp_path, change, message):
    status, _listed, stderr = inventory(tmp_path, broken_output(tmp_path, change))
    assert status != 0
    assert message in " ".join(stderr.split()), stderr


def test_connection_variables_listed_in_allow_vars_pass_and_names_and_ipv6_are_addresses(tmp_path):
    def change(hosts):
        hosts[0]["vars"] = {"ansible_user": "admin", "common_nofile_limit": "65536"}
        hosts[0]["public_address"] = "app.example.com"
        hosts[1]["private_address"] = "fd00::12"
    config = broken_output(tmp_path, change)
    status, _listed, stderr = inventory(tmp_path, config)
    assert status != 0 and "connection variable ansible_user, refused" in " ".join(stderr.split())
    assert "(allowed now: none)" in " ".join(stderr.split())
    status, listed, stderr = inventory(tmp_path, dict(config, allow_vars=["ansible_user"]))
    assert status == 0, stderr
    hostvars = listed["_meta"]["hostvars"]
    assert hostvars["lanying-app"]["ansible_user"] == "admin"
    assert hostvars["lanying-app"]["ansible_host"] == "app.example.com"
    assert hostvars["lanying-db"]["lanying_im_address"] == "fd00::12"


def test_a_template_in_the_state_is_never_rendered(tmp_path):
    marker = tmp_path / "rendered"
    config = broken_output(tmp_path, lambda hosts: hosts[0].update(
        vars={"common_operator": "{{ lookup('ansible.builtin.pipe', 'touch %s') }}" % marker}))
    (tmp_path / "show.yml").write_text(
        "- hosts: lanying-app\n  gather_facts: false\n  tasks:\n"
        "    - ansible.builtin.debug: {msg: '{{ common_operator }}'}\n      ignore_errors: true\n")
    (tmp_path / "hosts.terraform.yml").write_text(json.dumps(config))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), NO_COLOR="1")
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                    str(tmp_path / "hosts.terraform.yml"), str(tmp_path / "show.yml")],
                   capture_output=True, text=True, env=env, check=False, cwd=tmp_path)
    assert not marker.exists()


def test_extra_groups_admit_your_own(tmp_path):
    config = broken_output(tmp_path, lambda hosts: hosts[0]["groups"].append("eu_west"))
    status, _listed, stderr = inventory(tmp_path, config)
    assert status != 0 and "unknown group eu_west" in stderr
    status, listed, stderr = inventory(tmp_path, dict(config, extra_groups=["eu_west"]))
    assert status == 0, stderr
    assert groups_of(listed)["eu_west"] == ["lanying-app"]


def test_a_state_of_another_format_version_is_refused(tmp_path):
    config = {"plugin": "lanying.im.terraform", "source": str(FIXTURES / "legacy-v3.tfstate")}
    status, _listed, stderr = inventory(tmp_path, config)
    assert status != 0
    assert "is a Terraform state file of format version 3; this plugin reads version 4" in " ".join(stderr.split())


def test_a_missing_output_names_the_outputs_there(tmp_path):
    config = {"plugin": "lanying.im.terraform", "source": str(FIXTURES / "generic.tfstate"), "output": "hosts"}
    status, _listed, stderr = inventory(tmp_path, config)
    assert status != 0
    assert "has no output hosts (outputs: lanying_im_hosts)" in " ".join(stderr.split())


def test_only_configuration_files_named_for_the_plugin(tmp_path):
    shutil.copy(FIXTURES / "generic.tfstate", tmp_path / "generic.tfstate")
    config = {"plugin": "lanying.im.terraform", "source": "generic.tfstate"}
    status, _listed, stderr = inventory(tmp_path, config, name="hosts.yml")
    assert status != 0 and "terraform" in stderr


def test_outputs_and_hosts_of_without_ansible_inventory():
    state = json.loads((FIXTURES / "generic.tfstate").read_text())
    outputs = plugin.outputs_of(state, "generic.tfstate")
    assert outputs == plugin.outputs_of(json.loads((FIXTURES / "generic-output.json").read_text()), "output")
    hosts = plugin.hosts_of(outputs, "lanying_im_hosts", list(plugin.KNOWN_GROUPS), "generic.tfstate")
    assert [host["name"] for host in hosts] == ["lanying-app", "lanying-db", "lanying-gw"]
    # A map of hosts (for_each output) is read as well, its keys as names.
    as_map = {"hosts": {host["name"]: {k: v for k, v in host.items() if k != "name"} for host in copy.deepcopy(hosts)}}
    assert plugin.hosts_of(as_map, "hosts", list(plugin.KNOWN_GROUPS), "map") == hosts
    with pytest.raises(plugin.TerraformHostsError, match="output lanying_im_hosts has no value"):
        plugin.outputs_of({"lanying_im_hosts": ["a"]}, "raw.json")
    with pytest.raises(plugin.TerraformHostsError, match="must be a list of hosts, not str"):
        plugin.hosts_of({"lanying_im_hosts": "app"}, "lanying_im_hosts", [], "s")


# The HCL of every root module parses, and each writes the output the plugin reads, with the same keys.
def test_every_root_module_parses_and_writes_the_hosts_output():
    hcl2 = pytest.importorskip("hcl2")
    modules = sorted({path.parent for path in (PROJECT / "terraform").rglob("*.tf")})
    assert [module.relative_to(PROJECT).as_posix() for module in modules] == ["terraform/examples/aws", "terraform/generic"]
    for module in modules:
        blocks = {}
        for path in sorted(module.glob("*.tf")):
            with path.open(encoding="utf-8") as handle:
                for kind, entries in hcl2.load(handle).items():
                    blocks.setdefault(kind, []).extend(entries if isinstance(entries, list) else [entries])
        outputs = {name.strip('"'): body for entry in blocks["output"] for name, body in entry.items()}
        assert list(outputs) == ["lanying_im_hosts"], module
        value = str(outputs["lanying_im_hosts"]["value"])
        for key in plugin.HOST_KEYS:
            assert key in value, (module, key)
        # The groups a module admits are the plugin's.
        variables = {name.strip('"'): body for entry in blocks["variable"] for name, body in entry.items()}
        condition = " ".join(str(rule["condition"]) for rule in variables["hosts"]["validation"])
        for group in plugin.KNOWN_GROUPS:
            assert '"%s"' % group in condition, (module, group)


def test_the_generic_module_applied_for_real(tmp_path):
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("no terraform binary on this machine: the generic module was not applied (its HCL is parsed above)")
    module = tmp_path / "generic"
    shutil.copytree(PROJECT / "terraform" / "generic", module)
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1", TF_CLI_CONFIG_FILE=os.devnull)
    for argv in (["init", "-input=false", "-no-color"],
                 ["apply", "-auto-approve", "-input=false", "-no-color", "-var-file=example.tfvars"]):
        result = subprocess.run([terraform, *argv], cwd=module, capture_output=True, text=True, env=env, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
    output = subprocess.run([terraform, "output", "-json", "-no-color"], cwd=module, capture_output=True, text=True,
                            env=env, check=True)
    (module / "output.json").write_text(output.stdout)
    for source in ("terraform.tfstate", "output.json"):
        status, listed, stderr = inventory(module, {"plugin": "lanying.im.terraform", "source": source})
        assert status == 0, stderr
        assert groups_of(listed) == EXPECTED_GROUPS
    # A bad group is refused by Terraform itself, before any state is written.
    result = subprocess.run([terraform, "plan", "-input=false", "-no-color",
                             "-var", 'hosts=[{name="x", groups=["im_databse"], private_address="10.0.0.9"}]'],
                            cwd=module, capture_output=True, text=True, env=env, check=False)
    assert result.returncode != 0 and "Groups are im_app" in result.stdout + result.stderr
