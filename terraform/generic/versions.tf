# Hosts you already have (bare metal, another tool's VMs): listed here, recorded in Terraform's state,
# and handed to Ansible through the lanying_im_hosts output. No provider to download.
terraform {
  required_version = ">= 1.3.0"
}
