# terraform apply -var-file=example.tfvars: three hosts, as in inventories/local-three.
hosts = [
  {
    name            = "lanying-gw"
    groups          = ["im_gateway", "im_registry"]
    public_address  = "203.0.113.10"
    private_address = "10.0.0.10"
  },
  {
    name            = "lanying-app"
    groups          = ["im_app", "im_build"]
    public_address  = "203.0.113.11"
    private_address = "10.0.0.11"
  },
  {
    name            = "lanying-db"
    groups          = ["im_db", "monitoring", "logging"]
    private_address = "10.0.0.12"
    vars            = { common_nofile_limit = "1048576" }
  },
]
