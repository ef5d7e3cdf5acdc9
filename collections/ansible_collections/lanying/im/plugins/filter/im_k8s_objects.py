# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: im_k8s_objects
short_description: The Kubernetes objects of the chat platform, from its model and rendered files
version_added: 0.3.0
author: lanying.im maintainers
description:
  - Takes the model from R(lanying.im.im_k8s_model,ansible_collections.lanying.im.im_k8s_model_filter) and
    returns the list of objects to apply, in order.
  - C(Namespace); C(Secret) C(synapse-secrets) (secrets.yaml and the signing key) and C(gateway-tls);
    C(ConfigMap) C(synapse-config) (homeserver.yaml, log.yaml, the CA certificate, each process's file) and
    C(gateway-config) (nginx.conf); the media store's C(PersistentVolumeClaim), mounted by the process that
    owns it (the media worker, else the main process).
  - One C(Deployment) and C(Service) per named Synapse process (the main one, stream and event writers,
    pushers, background, media, federation senders), one replica, C(Recreate). The sync and client-reader
    units as a C(StatefulSet) with a Service per pod, or, autoscaled, a C(Deployment) with C(RollingUpdate)
    (C(maxUnavailable) 0) and a C(HorizontalPodAutoscaler); both with a C(PodDisruptionBudget). Probes on
    C(/health); requests and limits per kind; containers without privileges on a read-only root.
  - The gateway as a C(Deployment) behind a C(LoadBalancer) Service (k3s ServiceLB) with
    C(externalTrafficPolicy=Local), so that nginx sees clients' own addresses.
  - C(NetworkPolicy) objects as the host firewall has it - everything denied, then the gateway open on its
    HTTPS and HTTP ports, Synapse's client port to the gateway only, replication between Synapse pods,
    metrics to the monitoring hosts, Synapse to the database hosts' PostgreSQL and Redis ports, to DNS and
    out on HTTPS (push gateways; 8448 too with federation).
  - Fails with a message naming the setting on a bad value or a missing file.
options:
  _input:
    description: The model from R(lanying.im.im_k8s_model,ansible_collections.lanying.im.im_k8s_model_filter).
    type: dict
    required: true
  settings:
    description:
      - C(images) (C(synapse), C(gateway)); C(synapse_files), C(synapse_secret_files), C(gateway_files),
        C(gateway_tls) (file name to content); C(autoscale_max), C(autoscale_cpu_percent);
        C(gateway_replicas) (null - one per C(im_gateway) host); C(resources) (per kind - C(main), C(sync),
        C(client_reader), C(media), C(worker), C(gateway) - C(requests) and C(limits) of C(cpu) and
        C(memory)); C(media_size); C(storage_class); C(synapse_uid); C(database_addresses) (addresses
        outside the cluster the policies allow);
        C(prometheus_access) (true - a ServiceAccount C(prometheus) that may list the namespace's pods and use
        their proxy, its token in the Secret C(prometheus-token), and the Synapse pods' metrics port open to
        C(metrics_from), the nodes' addresses, and to the first two addresses of each of C(node_pod_networks),
        the nodes' pod networks - where the API server's connections to the pods come from).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The platform's objects
  ansible.builtin.set_fact:
    platform_objects: >-
      {{ platform_k8s_model | lanying.im.im_k8s_objects({
           'images': {'synapse': 'registry.example.com:5000/lanying/synapse:1.0',
                      'gateway': 'registry.example.com:5000/lanying/gateway:1.0'},
           'synapse_files': synapse_files, 'synapse_secret_files': synapse_secret_files,
           'gateway_files': {'nginx.conf': nginx_conf},
           'gateway_tls': {'tls.crt': certificate, 'tls.key': key},
           'database_addresses': ['10.0.0.5']}) }}
  no_log: true
"""

RETURN = r"""
_value:
  description: The objects, in the order to apply them (the namespace first).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.plugin_utils._k8s import K8sError, k8s_objects


def im_k8s_objects(model, settings):
    try:
        return k8s_objects(model, settings)
    except K8sError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"im_k8s_objects": im_k8s_objects}
