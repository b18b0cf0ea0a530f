terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100"
    }
  }

  # Remote state with S3-native locking (Terraform >= 1.10). Configure it with
  #   terraform init -backend-config=backend.hcl   (see backend.hcl.example)
  backend "s3" {}
}
