locals {
  # With aws_endpoint_url set (moto server, LocalStack on :4566) every service this stack
  # uses goes to that one endpoint, the way tflocal configures the provider.
  emulated = var.aws_endpoint_url != null
}

provider "aws" {
  region = var.region

  access_key                  = local.emulated ? "test" : null
  secret_key                  = local.emulated ? "test" : null
  skip_credentials_validation = local.emulated
  skip_metadata_api_check     = local.emulated
  s3_use_path_style           = local.emulated

  endpoints {
    athena         = var.aws_endpoint_url # the module's Athena workgroup
    cloudwatchlogs = var.aws_endpoint_url
    firehose       = var.aws_endpoint_url
    glue           = var.aws_endpoint_url
    iam            = var.aws_endpoint_url
    kms            = var.aws_endpoint_url
    lambda         = var.aws_endpoint_url
    s3             = var.aws_endpoint_url
    secretsmanager = var.aws_endpoint_url
    sts            = var.aws_endpoint_url
  }

  default_tags {
    tags = {
      environment = "dev"
      managed-by  = "terraform"
    }
  }
}
