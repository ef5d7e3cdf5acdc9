admin_networks = ["198.51.100.0/24"]
ssh_public_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0f0J3QpZ2yJ2lYt9sVq5q8Fh1q7eJ0xQ2bN1p4r7E operator@example.org"
