variable "hosts" {
  description = "The platform's hosts: a name (the Ansible inventory name), its lanying.im groups, its addresses and any host variables."
  type = list(object({
    name            = string
    groups          = list(string)
    public_address  = optional(string, "")
    private_address = optional(string, "")
    vars            = optional(map(string), {})
  }))

  validation {
    condition     = length(var.hosts) == length(distinct([for host in var.hosts : host.name]))
    error_message = "Each host needs its own name."
  }

  validation {
    condition = alltrue(flatten([
      for host in var.hosts : [
        for group in host.groups : contains(["im_app", "im_gateway", "im_db", "im_build", "im_registry", "monitoring", "logging", "k3s_server", "k3s_agent"], group)
      ]
    ]))
    error_message = "Groups are im_app, im_gateway, im_db, im_build, im_registry, monitoring, logging, k3s_server and k3s_agent."
  }

  validation {
    condition     = alltrue([for host in var.hosts : host.public_address != "" || host.private_address != ""])
    error_message = "Each host needs a public_address or a private_address."
  }
}
