# What the lanying.im.terraform inventory plugin reads; every root module of this directory writes it
# in this shape.
output "lanying_im_hosts" {
  description = "The platform's hosts for the lanying.im.terraform inventory plugin."
  value = [
    for name, host in terraform_data.host : {
      name            = name
      groups          = host.output.groups
      public_address  = host.output.public_address
      private_address = host.output.private_address
      vars            = host.output.vars
      resource        = "terraform_data.host[\"${name}\"]"
    }
  ]
}
