"""lanying.im.site refuses bad settings in its first play, before any task of a role runs.

Two hosts that are this machine (a local connection): one in every group of the platform but the backup
group, which the other makes (the repositories are kept away from the database), so that the checks of
every role run; each run sets one bad value and must stop with a message that names the variable,
the value and what is allowed. In check mode: nothing on this machine could change even if a check let the
value through. The refusals that need real hosts (a host's own limits, PostgreSQL's own parser, the
stateful record of a deployed platform, a run limited to some hosts) and the proof that no host and no
running engine changed are the platform scenario's (molecule/shared/verify/bad_input.yml).
"""

import json
import re
import subprocess
import sys

import pytest
import yaml
from ansible_collections.lanying.im.tests.unit.playbooks.local_playbook import local_host, run_playbook

GROUPS = {"im_app": "one", "im_build": "one", "im_db": "one", "im_registry": "one", "im_gateway": "one",
          "monitoring": "one", "logging": "one", "backup": "two"}

# (extra variables, texts the output must contain)
REFUSALS = {
    "authorized key": ({"common_operator_authorized_keys": ["not-a-key"]},
                       ["each of common_operator_authorized_keys must be one OpenSSH public key line"]),
    "private key as CA": ({"common_extra_ca_certificates": ["{key}"]}, ["contains a PRIVATE KEY"]),
    "daemon option": ({"docker_daemon_options": {"live-restor": True}},
                      ["'live-restor' is not a daemon.json option of the Docker engine (did you mean 'live-restore'?)"]),
    "daemon option type": ({"docker_daemon_options": {"log-opts": {"max-file": 3}}},
                           ["log-opts 'max-file' is 3 (an integer); the engine takes only strings here, write '3'"]),
    "image sources": ({"images_sources": {"synapse": "compile", "gateway": "build"}},
                      ["must map synapse and gateway to build or mirror"]),
    # They go into Dockerfile and shell lines.
    "build mirror": ({"images_apt_mirror": "http://mirror.example/debian\" && curl evil | sh #"},
                     ["images_apt_mirror='http://mirror.example/debian\" && curl evil | sh #'",
                      "must be empty or an http(s)://host[:port]/path URL"]),
    "admin networks": ({"gateway_admin_networks": ["10.0.0.0"]},
                       ["gateway_admin_networks must list networks in CIDR form (192.0.2.0/24, 10.1.2.3/32, ::1/128);"
                        " not CIDR: 10.0.0.0."]),
    "archive checksum": ({"node_exporter_source": "archive",
                          "node_exporter_archive": {"url": "https://example.org/ne.tar.gz", "checksum": "md5:0a1b",
                                                    "binary": "ne"}},
                         ["checksum ('sha256:' and 64 hex digits, got md5:0a1b)"]),
    "alert settings": ({"prometheus_alerts": {"chat_down_for": "1m"}},
                       ['prometheus_alerts has unknown keys ["chat_down_for"]']),
    "webhook": ({"alertmanager_webhook_urls": ["hooks.example.com/lanying"]},
                ["alertmanager_webhook_urls must be http(s) URLs"]),
    "upload size": ({"lanying_im_topology": {"max_upload_mb": "50M"}},
                    ["lanying_im_topology.max_upload_mb is '50M'; it must be a whole number of megabytes from 1 to 10240"]),
    # A newline here once wrote a 'trust' line into pg_hba.conf.
    "database name": ({"lanying_im_topology": {"database_name": "synapse\nhost all all 0.0.0.0/0 trust"}},
                      ["lanying_im_topology.database_name is", "it must be a PostgreSQL identifier"]),
    "data directory": ({"synapse_data_dir": "/var/lib"},
                       ["synapse_data_dir=/var/lib: each directory or path setting must be an absolute, normalised path"]),
    "firewall rule": ({"firewall_allow": [{"port": 70000, "sources": ["10.0.0.0/8"]}]},
                      ["firewall_allow=", "a list of {port: 1-65535 or first-last, sources: [networks]"]),
    "logging URL": ({"lanying_im_logging_urls": ["http://es1.example.com:9200/"]},
                    ["lanying_im_logging_urls must list https://host[:port]/ URLs of Elasticsearch or OpenSearch"
                     ' (not ["http://es1.example.com:9200/"])']),
    # The backup group's host keeps the repositories, or nobody knows which host does.
    "backup repository": ({"backup_repository": "path"},
                          ["backup_repository=path and the inventory group backup holds 1 host(s)",
                           "goes with backup_repository host"]),
    "probe URL": ({"probe_url": "https://gateway.example.com"},
                  ["probe_url (https://gateway.example.com) empty or https://host[:port]/ with the trailing slash"]),
    # A listener on the port the firewall keeps for SSH.
    "HTTPS on SSH": ({"lanying_im_topology": {"ports": {"https": 22}}},
                     ["port 22 on host one is the host's ssh (tcp port 22): gateway (https) cannot listen there"]),
    # The platform on k3s without a cluster in the inventory.
    "runtime without cluster": ({"lanying_im_runtime": "k3s"},
                                ["lanying_im_runtime is k3s, but the inventory group k3s_server has no host"]),
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    """A two-host inventory of the whole platform, and a private key to pass where a CA belongs."""
    workdir = tmp_path_factory.mktemp("site")
    key = workdir / "not-a-ca.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(key)], check=True, capture_output=True)
    settings = {"lanying_im_server_name": "chat.example.com", "lanying_im_secrets_dir": str(workdir / ".secrets"),
                "lanying_im_pki_dir": str(workdir / ".pki"), "ansible_python_interpreter": sys.executable,
                # This machine's own open-file ceiling may be low (a container).
                "common_nofile_limit": 4096}
    inventory = {"all": {"vars": settings, "hosts": {"one": local_host(10), "two": local_host(11)},
                         "children": {group: {"hosts": {host: {}}} for group, host in GROUPS.items()}}}
    (workdir / "hosts.yml").write_text(yaml.safe_dump(inventory))
    return workdir, key


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_bad_value_is_refused_in_the_first_play(platform, case):
    workdir, key = platform
    settings, messages = REFUSALS[case]
    settings = json.loads(json.dumps(settings).replace("{key}", str(key)))
    status, output = run_playbook(workdir, "site", "--check", "--extra-vars", json.dumps(settings))
    assert status != 0, output[-3000:]
    flat = re.sub(r"\s+", " ", output)
    for message in messages:
        assert message in flat, output[-3000:]
    # Stopped in the first play: no later play started.
    assert len(re.findall(r"^PLAY \[", output, re.M)) == 1, output[-3000:]
    assert re.search(r"changed=0\s+unreachable=0\s+failed=1", output), output[-3000:]
    assert not re.search(r"changed=[1-9]", output), output[-3000:]
