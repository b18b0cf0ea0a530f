terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The range the module supports; see modules/loki-ingest/versions.tf.
      version = ">= 5.100, < 7.0"
    }
  }

  # Local state by default. `make deploy-local` points it at .local/ with
  # -backend-config=path=...; a team sharing dev should switch to the S3 backend
  # shown in environments/prod.
  backend "local" {}
}
