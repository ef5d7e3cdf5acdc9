"""Prometheus's configuration for the platform on k3s, read by Prometheus's own promtool.

The prometheus role's variables render the configuration from the model of an inventory with
lanying_im_runtime k3s (this machine is every host, a local connection), and `promtool check config` -
from Debian's prometheus package, unpacked, not installed - reads it with the files it names (Debian's
Prometheus has no Kubernetes discovery: the pods come from a target file the role's pod lister writes).
What needs a cluster (the pods listed through the API and scraped through its proxy) is the k3s
scenario's to prove.
"""

import subprocess

import pytest
import yaml
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import local_host, role_vars_play, run_playbook

RENDER = role_vars_play("Render Prometheus's configuration", "mon-1", "prometheus", """
    - name: Write the configuration
      ansible.builtin.copy:
        content: "{{ _prometheus_config | to_nice_yaml(indent=2) }}"
        dest: "{{ _prometheus_config_dir }}/prometheus.yml"
        mode: "0644"
""")


@pytest.fixture(scope="module")
def promtool(tmp_path_factory):
    """promtool of Debian's prometheus package (the version the test hosts install)."""
    where = tmp_path_factory.mktemp("prometheus")
    download = subprocess.run(["apt-get", "download", "-o", "APT::Sandbox::User=root", "prometheus"], cwd=where,
                              capture_output=True, text=True, check=False)
    if download.returncode != 0:
        pytest.skip("promtool: Debian's prometheus package could not be downloaded: %s" % download.stderr[-300:])
    package = next(where.glob("prometheus_*.deb"))
    subprocess.run(["dpkg-deb", "-x", str(package), str(where / "root")], check=True)
    return where / "root" / "usr" / "bin" / "promtool"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("site")
    names = ["build-1", "db-1", "k3s-1", "k3s-2", "mon-1"]
    hosts = {name: local_host(number) for number, name in enumerate(names, start=10)}
    config_dir = tmp_path / "prometheus"
    config_dir.mkdir()
    settings = {"lanying_im_server_name": "chat.example.com", "lanying_im_runtime": "k3s",
                "lanying_im_topology": {"workers": "small"}, "lanying_im_secrets_dir": str(tmp_path / ".secrets"),
                "lanying_im_pki_dir": str(tmp_path / ".pki"), "monitoring_program_found": {"prometheus": {
                    "config_dir": str(config_dir), "binary": "/usr/bin/prometheus", "installed": True, "new": False}}}
    groups = {"im_db": ["db-1"], "im_build": ["build-1"], "monitoring": ["mon-1"], "k3s_server": ["k3s-1"],
              "k3s_agent": ["k3s-2"]}
    inventory = {"all": {"vars": settings, "hosts": hosts, "children": {
        group: {"hosts": {name: {} for name in members}} for group, members in groups.items()}}}
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump(inventory))
    (tmp_path / "render.yml").write_text(RENDER)
    status, output = run_playbook(tmp_path, str(tmp_path / "render.yml"))
    assert status == 0, output[-3000:]
    return config_dir, yaml.safe_load((config_dir / "prometheus.yml").read_text())


def test_the_synapse_and_gateway_pods_are_scraped_through_the_api(rendered):
    config = rendered[1]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert "node" in jobs
    for name in ("synapse", "nginx"):
        # The targets file the pod lister writes; the API server's CA and Prometheus's token for the proxy.
        assert jobs[name]["scheme"] == "https"
        assert jobs[name]["file_sd_configs"][0]["files"][0].endswith("/targets/%s.yml" % name)
        assert jobs[name]["authorization"]["credentials_file"].endswith("/k3s-token")
        assert jobs[name]["tls_config"]["ca_file"].endswith("/k3s-ca.crt")


def test_promtool_reads_the_configuration(rendered, promtool):
    config_dir = rendered[0]
    # The files the configuration names, as the role installs them.
    for name in ("k3s-token", "k3s-ca.crt", "ca.crt", "metrics-password"):
        (config_dir / name).write_text("placeholder\n")
    (config_dir / "targets").mkdir(exist_ok=True)
    check = subprocess.run([str(promtool), "check", "config", str(config_dir / "prometheus.yml")],
                           capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "SUCCESS" in check.stdout + check.stderr
