# An example for AWS: a VPC subnet, one security group per role and instances for the lanying.im groups,
# written to the same lanying_im_hosts output as terraform/generic. Adapt sizes, AMI and networks to
# your account; `terraform apply`, then `ansible-playbook -i hosts.terraform.yml playbooks/site.yml`.
terraform {
  required_version = ">= 1.3.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = var.region
}

# Debian 12 from Debian's own account.
data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"]
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
}

resource "aws_vpc" "platform" {
  cidr_block           = var.network_cidr
  enable_dns_hostnames = true
  tags                 = { Name = "${var.name}-platform" }
}

resource "aws_subnet" "platform" {
  vpc_id                  = aws_vpc.platform.id
  cidr_block              = cidrsubnet(var.network_cidr, 8, 1)
  map_public_ip_on_launch = true
  tags                    = { Name = "${var.name}-platform" }
}

resource "aws_internet_gateway" "platform" {
  vpc_id = aws_vpc.platform.id
}

resource "aws_route_table" "platform" {
  vpc_id = aws_vpc.platform.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.platform.id
  }
}

resource "aws_route_table_association" "platform" {
  subnet_id      = aws_subnet.platform.id
  route_table_id = aws_route_table.platform.id
}

# Between the platform's hosts every port is open here: each host's own firewall (lanying.im.firewall)
# admits only the hosts that need each listener. From outside: SSH from the admin networks, HTTPS to
# the gateway.
resource "aws_security_group" "internal" {
  name   = "${var.name}-internal"
  vpc_id = aws_vpc.platform.id
  ingress {
    description = "between the platform's hosts"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    self        = true
  }
  ingress {
    description = "SSH for Ansible"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = var.admin_networks
  }
  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_security_group" "gateway" {
  name   = "${var.name}-gateway"
  vpc_id = aws_vpc.platform.id
  ingress {
    description = "the chat clients"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_key_pair" "operator" {
  key_name   = "${var.name}-operator"
  public_key = var.ssh_public_key
}

resource "aws_instance" "host" {
  for_each = { for host in var.hosts : host.name => host }

  ami                    = data.aws_ami.debian.id
  instance_type          = each.value.instance_type
  subnet_id              = aws_subnet.platform.id
  key_name               = aws_key_pair.operator.key_name
  vpc_security_group_ids = concat([aws_security_group.internal.id], contains(each.value.groups, "im_gateway") ? [aws_security_group.gateway.id] : [])

  root_block_device {
    volume_size = each.value.disk_gb
    volume_type = "gp3"
    encrypted   = true
  }

  metadata_options {
    http_tokens = "required"
  }

  tags = { Name = "${var.name}-${each.key}", "lanying.im/groups" = join(",", each.value.groups) }
}
