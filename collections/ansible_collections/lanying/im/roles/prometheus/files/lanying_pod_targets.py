# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""lanying.im pod targets for Prometheus, run by lanying-pod-targets.timer (python3 lanying_pod_targets.py SETTINGS.json).

Prometheus as Debian packages it has no Kubernetes service discovery. With the platform on k3s, this lists
the pods of each job (the Synapse processes; the gateway's exporter) through the cluster's API, with the
token of Prometheus's own ServiceAccount (it may list the namespace's pods and use their proxy, nothing
else), and writes each job's file_sd target file: each pod's metrics through the API server's pod proxy
(pod addresses are reachable from the cluster's nodes only), labelled as on Docker hosts - host (the
node) and instance (the pod), and for Synapse process (the pod) and worker_type (main for the main
process). A file is replaced only when it changes; when the API does not answer the files stay as they
were and the exit status is 1. Standard library only.
"""

import grp
import json
import os
import ssl
import sys
import tempfile
import urllib.parse
import urllib.request

HEADER = "# Written by lanying-pod-targets (lanying.im): the %s pods of the platform on k3s.\n"


def pod_targets(pods, api_server, namespace, port_name, metrics_path):
    """file_sd target groups for the running pods of a PodList's items that have a port named port_name."""
    groups = []
    for pod in pods:
        meta, spec = pod.get("metadata", {}), pod.get("spec", {})
        if pod.get("status", {}).get("phase") != "Running" or meta.get("deletionTimestamp"):
            continue
        ports = [port["containerPort"] for container in spec.get("containers", [])
                 for port in container.get("ports", []) if port.get("name") == port_name]
        if not ports:
            continue
        name, labels = meta["name"], meta.get("labels", {})
        target = {"__metrics_path__": "/api/v1/namespaces/%s/pods/%s:%d/proxy%s" % (namespace, name, ports[0],
                                                                                    metrics_path),
                  "instance": name, "host": spec.get("nodeName", "")}
        if labels.get("app.kubernetes.io/name") == "synapse":
            worker_type = "main" if labels.get("lanying.im/kind") == "main" else labels.get("lanying.im/worker-type", "")
            target.update(process=name, worker_type=worker_type.replace("-", "_"))
        groups.append({"targets": [api_server], "labels": target})
    return sorted(groups, key=lambda group: group["labels"]["instance"])


def list_pods(settings, selector):
    query = urllib.parse.urlencode({"labelSelector": selector})
    request = urllib.request.Request(
        "https://%s/api/v1/namespaces/%s/pods?%s" % (settings["api_server"], settings["namespace"], query),
        headers={"Accept": "application/json"})
    with open(settings["token_file"]) as token:
        request.add_header("Authorization", "Bearer " + token.read().strip())
    context = ssl.create_default_context(cafile=settings["ca_file"])
    with urllib.request.urlopen(request, context=context, timeout=10) as answer:
        return json.load(answer).get("items", [])


def write_if_changed(path, text, group):
    try:
        with open(path) as current:
            if current.read() == text:
                return False
    except FileNotFoundError:
        pass
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".lanying-pod-targets-")
    with os.fdopen(handle, "w") as out:
        out.write(text)
    os.chown(temporary, 0, grp.getgrnam(group).gr_gid)
    os.chmod(temporary, 0o640)
    os.replace(temporary, path)
    return True


def main(argv):
    with open(argv[1] if len(argv) > 1 else "/etc/lanying-im/monitoring/prometheus/pod-targets.json") as handle:
        settings = json.load(handle)
    listed = {}
    for job in settings["jobs"]:
        try:
            listed[job["name"]] = list_pods(settings, job["selector"])
        except (OSError, ValueError) as err:
            print("lanying-pod-targets: the cluster's API at %s did not list the %s pods: %s"
                  % (settings["api_server"], job["name"], err), file=sys.stderr)
            return 1
    report = []
    for job in settings["jobs"]:
        groups = pod_targets(listed[job["name"]], settings["api_server"], settings["namespace"], job["port_name"],
                             job["metrics_path"])
        changed = write_if_changed(job["output"], HEADER % job["name"] + json.dumps(groups, indent=2, sort_keys=True)
                                   + "\n", settings["group"])
        report.append("%s %d pods%s" % (job["name"], len(groups), " (targets updated)" if changed else ""))
    print("lanying-pod-targets: " + ", ".join(report))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
