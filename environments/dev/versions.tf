terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100"
    }
  }

  # Local state by default. `make deploy-local` points it at .local/ with
  # -backend-config=path=...; a team sharing dev should switch to the S3 backend
  # shown in environments/prod.
  backend "local" {}
}
