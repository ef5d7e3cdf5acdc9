variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-central-1"
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "lanying"
}

variable "network_cidr" {
  description = "The VPC's network; the hosts get addresses in its first /24."
  type        = string
  default     = "10.42.0.0/16"
}

variable "admin_networks" {
  description = "Networks allowed to reach the hosts over SSH (where Ansible runs)."
  type        = list(string)
}

variable "ssh_public_key" {
  description = "The operator's OpenSSH public key, for the admin user Debian's images log in as."
  type        = string
}

variable "hosts" {
  description = "The instances and their lanying.im groups."
  type = list(object({
    name          = string
    groups        = list(string)
    instance_type = optional(string, "t3.large")
    disk_gb       = optional(number, 40)
  }))
  default = [
    { name = "lanying-gw", groups = ["im_gateway", "im_registry"], instance_type = "t3.medium" },
    { name = "lanying-app-1", groups = ["im_app", "im_build"] },
    { name = "lanying-app-2", groups = ["im_app"] },
    { name = "lanying-db", groups = ["im_db", "monitoring", "logging"], disk_gb = 100 },
  ]

  validation {
    condition = alltrue(flatten([
      for host in var.hosts : [
        for group in host.groups : contains(["im_app", "im_gateway", "im_db", "im_build", "im_registry", "monitoring", "logging", "k3s_server", "k3s_agent"], group)
      ]
    ]))
    error_message = "Groups are im_app, im_gateway, im_db, im_build, im_registry, monitoring, logging, k3s_server and k3s_agent."
  }
}
