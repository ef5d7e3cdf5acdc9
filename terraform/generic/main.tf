# One state entry per host: a change of address or groups shows in `terraform plan`.
resource "terraform_data" "host" {
  for_each = { for host in var.hosts : host.name => host }

  input = {
    groups          = each.value.groups
    public_address  = each.value.public_address
    private_address = each.value.private_address
    vars            = each.value.vars
  }
}
