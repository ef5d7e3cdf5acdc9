# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: im_topology
short_description: The lanying.im deployment model, from inventory groups and a small spec
version_added: 0.1.0
author: lanying.im maintainers
description:
  - Turns the inventory groups (C(im_app), C(im_gateway), C(im_db)...) and the platform spec into every
    service instance of the chat platform, with its host, ports, image and routes, plus the database,
    Redis, gateway upstreams and Prometheus scrape jobs derived from them.
  - Every role reads this one model, so nothing is wired twice by hand.
  - Fails before any host is touched, naming the setting, the bad value and the fix, on a missing group,
    an unknown key (with the closest known one), a bad server name or URL, a port used twice on a host, or a
    worker spec Synapse cannot run.
options:
  _input:
    description: The inventory groups, as in the C(groups) variable.
    type: dict
    required: true
  spec:
    description:
      - The platform spec. Keys C(server_name) (required), C(public_baseurl) (default
        C(https://<server_name>/)), C(ports) (any of client, replication, metrics, https, http, postgres,
        redis), C(images) (C(synapse), C(gateway) references), C(database_name), C(database_user),
        C(federation) (boolean, default false), C(max_upload_mb) (largest media upload, default 50),
        C(workers) (a preset, V(none), V(small) or V(standard), or a mapping of C(preset) and counts per worker
        type - stream_writer, media, sync, client_reader, event_persister, pusher, background, federation_sender).
      - C(stateful) names the hosts that hold the platform's state - C(database) (an C(im_db) host, for PostgreSQL and
        Redis), C(main) (an C(im_app) host, for the main Synapse process) and C(media) (an C(im_app) host, for the media
        worker, which owns the media store; without a media worker the main process keeps it, and C(media) must
        then be C(main)'s host). Each defaults to the first host of its group (for C(media), where the worker
        spread puts the media worker).
      - Port keys also include C(worker_client), C(worker_replication) and C(worker_metrics), the first port of
        the blocks workers take their ports from, and the monitoring listeners C(node_exporter) (9100),
        C(postgres_exporter) (9187), C(redis_exporter) (9121), C(nginx_exporter) (9113), C(registry_metrics) (5001),
        C(docker_metrics) (9323), C(prometheus) (9090) and C(alertmanager) (9093), and C(logging) (9200), the
        port of a log receiver in the C(logging) group.
    type: dict
    required: true
  addresses:
    description:
      - The address each host is reached at by the other hosts (host name to IPv4 address). Listeners bind
        to it, Prometheus scrapes it and the host firewall opens ports to it. A host missing here gets
        C(null) and its listeners have no address.
    type: dict
    default: {}
  registry_port:
    description: The private registry's port (C(lanying_im_registry_port)).
    type: int
    default: 5000
  k3s:
    description:
      - The k3s cluster of the C(k3s_server) and C(k3s_agent) groups - C(api_port) (C(k3s_api_port), default 6443),
        C(pod_networks) (the pods' networks, a list or the comma-separated C(cluster-cidr) of k3s, default
        10.42.0.0/16; IPv6 ones are left out), C(api_endpoint) (C(k3s_api_endpoint), default empty - the first
        server) and C(namespace) (C(k3s_platform_namespace), default C(lanying-im)). The nodes' listeners (API,
        etcd, kubelet, VXLAN) join the model, the API and the kubelets open to the pods' networks too; with the
        k3s runtime and a C(monitoring) host, the API admits that host, whose Prometheus finds the Synapse pods
        there.
    type: dict
    default: {}
  runtime:
    description:
      - Where Synapse and the gateway run (C(lanying_im_runtime)). V(docker) - containers on the C(im_app) and
        C(im_gateway) hosts. V(k3s) - the cluster of the C(k3s_server) and C(k3s_agent) groups, C(im_app) and
        C(im_gateway) left empty; the nodes stand in for them (the data tier admits them, as the pods' traffic
        leaves from their addresses), the gateway's public ports are listeners of every node (k3s ServiceLB),
        the images are built on the C(im_build) host, which must be outside the cluster, and the model's
        C(stateful) main and media are V(k3s).
    type: str
    choices: [docker, k3s]
    default: docker
  host_ports:
    description:
      - The ports each host keeps for something else than the platform, as host name to a list of C(name), C(port)
        (a number or C(first-last)) and C(protocol) (V(tcp) or V(udp)) - its SSH ports (C(lanying_im_ssh_ports),
        which lanying.im.firewall reads from the host). A listener of the platform on one of them is refused.
    type: dict
    default: {}
  require_addresses:
    description:
      - Refuse a model where a host with a listener, or a client of one, has no address (the firewall admits
        clients by address, and listeners bind to their host's). Without it such addresses are C(null).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Compute the model once
  ansible.builtin.set_fact:
    topology: "{{ groups | lanying.im.im_topology({'server_name': 'chat.example.com'}) }}"

- name: With the hosts' addresses, for the listeners and the firewall
  ansible.builtin.set_fact:
    topology: >-
      {{ groups | lanying.im.im_topology({'server_name': 'chat.example.com'},
                                         addresses={'app1': '10.0.0.11', 'db1': '10.0.0.21'}, registry_port=5000) }}

- name: The platform on a k3s cluster (the k3s_server and k3s_agent groups, an im_build host outside it)
  ansible.builtin.set_fact:
    topology: "{{ groups | lanying.im.im_topology({'server_name': 'chat.example.com'}, runtime='k3s') }}"

- name: The instances placed on this host
  ansible.builtin.debug:
    msg: "{{ topology.instances | selectattr('host', 'equalto', inventory_hostname) | list }}"
"""

RETURN = r"""
_value:
  description:
    - C(server_name), C(public_baseurl); C(instances) (name, kind, host, ports, image, routes; workers also
      worker_type, worker_app, resources), placed over the im_app hosts in a balanced, deterministic way;
      C(workers) (counts per type) and C(synapse) (instance_map, stream_writers, pusher_instances and the other
      settings that name workers);
      C(upstreams) (name to C(servers), a list of host and port, C(balance) and C(fallback), the upstream
      that serves the same routes when none of its servers can, which is C(main) for sync and client_reader
      workers) and C(routes) (path, upstream, and whether only
      admin networks may reach it) for the gateway; C(well_known) (the C(/.well-known/matrix/) documents);
      C(federation) and C(max_upload_mb);
      C(database) and C(redis) (host, port, clients, and for the database name, user and
      connections_needed, from the number of Synapse processes); C(monitoring) (C(prometheus), the first
      C(monitoring) host or null, and C(scrape_jobs), a list of job name and targets (host, port, labels) covering
      every host's node exporter, every Synapse process, the data tier, gateway, registry and engine exporters,
      Prometheus and Alertmanager; with the k3s runtime the C(synapse) job has no targets but C(kubernetes) -
      C(api_server) (host:port), C(namespace), C(selector), C(port_name), C(metrics_path), C(service_account)
      and C(token_secret) - the pods are listed through the cluster's API and scraped through its pod proxy).
    - C(placement) (component to the hosts that run it, for synapse, gateway, postgres, redis, registry, docker,
      build, node_exporter, postgres_exporter, redis_exporter, nginx_exporter, prometheus, alertmanager,
      probe, log_shipper (every host), log_receiver (the C(logging) group), backup_repository (the first host of
      the C(backup) group, if any), backup (the database host and that repository host, where pgBackRest runs)
      and media_store (the C(stateful) media host), k3s_server and k3s_agent (the cluster's nodes, with or without
      the k3s runtime), and, with the k3s runtime only, cluster_server, cluster_agent (the nodes C(site.yml) makes
      a cluster of) and chat_cluster (the first server, which applies the chat platform's objects)); C(hosts)
      (host to its C(address), C(components) and C(listen), each of its listeners as C(<component> <name>) to the
      C(address:port) it binds, null without an address).
    - C(platform), false for an inventory without the chat platform's groups (C(im_app), C(im_gateway), C(im_db))
      on the V(docker) runtime; its model has only C(platform), C(runtime), C(placement) (the node exporter on every
      host, and the k3s groups' nodes), C(hosts), C(listeners), C(ports), C(roles) and C(monitoring).
    - C(roles), each role of the collection that runs on some host to the hosts it runs on (from the
      component table's placement), such as C(lanying.im.synapse), C(lanying.im.postgres) or C(lanying.im.k3s).
    - C(runtime), V(docker) or V(k3s).
    - C(stateful), the hosts of the platform's state - C(database), C(main) and C(media) (the media store's host).
    - C(listeners), every network listener of the platform, each with C(component), C(name), C(host),
      C(address), C(port), C(protocol), C(clients) (the other hosts that may connect), C(networks) (if any - clients
      known by network, such as a cluster's pods), C(client_addresses) (the clients' addresses, then those
      networks) and C(public) (open to the gateway's client networks).
    - Each job of C(monitoring.scrape_jobs) also says C(tls) (its endpoints serve TLS when the platform asks for it,
      C(lanying_im_metrics_tls)), C(auth) (they check the metrics account) and C(metrics_path) where it is not
      C(/metrics).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.plugin_utils._topology import TopologyError, build_topology


def im_topology(groups, spec, addresses=None, registry_port=5000, k3s=None, runtime="docker", host_ports=None,
                require_addresses=False):
    """Filter form of build_topology: errors become AnsibleFilterError."""
    try:
        return build_topology(groups, spec, addresses, registry_port, k3s, runtime, host_ports, require_addresses)
    except TopologyError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"im_topology": im_topology}
