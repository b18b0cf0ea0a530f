terraform {
  # 1.11: write-only arguments (secret_string_wo) keep the password out of state.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Supported: 5.100 (the oldest with the ephemeral aws_secretsmanager_random_password and
      # secret_string_wo; what the tests run) up to the newest 6.x, whose 6.62.0 schema
      # tests/terraform/test_provider_schema.py checks every block against. 7.0 may break the
      # API. The function URL's lambda:InvokeFunction statement is a CloudFormation stack
      # (lambda.tf) because aws_lambda_permission cannot express it before 6.28.
      version = ">= 5.100, < 7.0"
    }
  }
}
