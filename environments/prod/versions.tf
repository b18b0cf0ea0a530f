terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The range the module supports; see modules/loki-ingest/versions.tf.
      version = ">= 5.100, < 7.0"
    }
  }

  # Remote state with S3-native locking (Terraform >= 1.10). The bucket must exist before
  # `terraform init`: `make bootstrap` creates it (environments/prod/bootstrap) and writes
  # backend.hcl, which `make init ENV=prod` passes as -backend-config.
  backend "s3" {}
}
