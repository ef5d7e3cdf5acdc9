# -*- coding: utf-8 -*-
# Copyright (c) lanying.im contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: im_k8s_model
short_description: The deployment model of the platform for a Kubernetes (k3s) cluster
version_added: 0.3.0
author: lanying.im maintainers
description:
  - Takes the deployment model (R(lanying.im.im_topology,ansible_collections.lanying.im.im_topology_filter))
    and returns it as the cluster runs it, so that the Synapse and gateway templates render the same
    processes, routes and settings for both runtimes.
  - Each Synapse process is reached at a Service (C(<name>.<namespace>.svc.<cluster domain>)) instead of a
    host address, and listens on the model's standard client, replication and metrics ports.
  - The sync and client-reader workers of one type become one scaled unit (C(synapse-sync),
    C(synapse-client-reader)) whose pods name themselves; the other workers (named in Synapse's settings)
    stay one process each.
  - Without O(autoscale), a scaled unit is a StatefulSet with one Service per pod, and the gateway keeps
    hashing each user (sync) or room (sending, pagination) to one pod. With O(autoscale) it is a Deployment
    behind one Service, resized by a HorizontalPodAutoscaler; the per-user affinity is then given up.
  - The result carries C(runtime=k3s), C(namespace), C(autoscale) and C(gateway) (the gateway's ports,
    image and replica count, one per C(im_gateway) host). It has no host listeners (NetworkPolicies, made by
    R(lanying.im.im_k8s_objects,ansible_collections.lanying.im.im_k8s_objects_filter), take their place).
options:
  _input:
    description: The deployment model of the Docker runtime.
    type: dict
    required: true
  namespace:
    description: The namespace of every object (a DNS label).
    type: str
    default: lanying-im
  cluster_domain:
    description: The cluster's DNS domain.
    type: str
    default: cluster.local
  autoscale:
    description: Whether the sync and client-reader units are autoscaled (see above).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The platform's model as the cluster runs it
  ansible.builtin.set_fact:
    platform_k8s_model: "{{ lanying_im_model | lanying.im.im_k8s_model('lanying-im', autoscale=true) }}"
"""

RETURN = r"""
_value:
  description: The deployment model with Service addresses, scaled units and the gateway's Deployment.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.lanying.im.plugins.plugin_utils._k8s import K8sError, k8s_model


def im_k8s_model(model, namespace="lanying-im", cluster_domain="cluster.local", autoscale=False):
    try:
        return k8s_model(model, namespace, cluster_domain, autoscale)
    except K8sError as err:
        raise AnsibleFilterError(str(err))


class FilterModule(object):
    def filters(self):
        return {"im_k8s_model": im_k8s_model}
