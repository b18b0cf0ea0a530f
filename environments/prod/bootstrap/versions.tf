terraform {
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 7.0"
    }
  }

  # The state bucket cannot hold its own creation's state: this root keeps a local
  # terraform.tfstate (git-ignored). Losing it loses nothing; the bucket stays (and refuses
  # to be destroyed). To manage it again: terraform import aws_s3_bucket.state <bucket>.
  backend "local" {}
}
