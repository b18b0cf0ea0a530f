terraform {
  # 1.11: write-only arguments (secret_string_wo) keep the password out of state.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # 5.100 has the ephemeral aws_secretsmanager_random_password and secret_string_wo.
      # Real deployments resolve to 6.x, which also adds the Oct-2025 InvokeFunction
      # statement to function URLs (see README, "Function URL permissions").
      version = ">= 5.100"
    }
  }
}
