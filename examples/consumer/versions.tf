terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The module's range. .terraform.lock.hcl pins what this repository tests (5.100.0);
      # `terraform init -upgrade` moves to the newest 6.x (see the README beside this file).
      version = ">= 5.100, < 7.0"
    }
  }
}
