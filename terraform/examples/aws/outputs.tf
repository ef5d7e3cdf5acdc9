# The same shape as terraform/generic: what the lanying.im.terraform inventory plugin reads. Debian's
# images log in as "admin".
output "lanying_im_hosts" {
  description = "The platform's hosts for the lanying.im.terraform inventory plugin."
  value = [
    for name, instance in aws_instance.host : {
      name            = name
      groups          = split(",", instance.tags["lanying.im/groups"])
      public_address  = instance.public_ip
      private_address = instance.private_ip
      vars            = { ansible_user = "admin" }
      resource        = "aws_instance.host[\"${name}\"]"
    }
  ]
}
