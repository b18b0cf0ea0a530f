terraform {
  # 1.11: write-only arguments (secret_string_wo) keep the password out of state.
  required_version = ">= 1.11"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # Supported: 5.100 (the oldest with the ephemeral aws_secretsmanager_random_password and
      # secret_string_wo; what the tests run) up to the newest 6.x. 7.0 may break the API.
      # Function URLs created with a provider older than 6.28 lack the lambda:InvokeFunction
      # statement AWS requires since October 2025: run `make function-url-permission` (or the
      # invoke_function_permission_command output) once. See README, "Function URL permissions".
      version = ">= 5.100, < 7.0"
    }
  }
}
