variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS Region name such as us-east-1."
  }
}

variable "name" {
  description = "Deployment name (prefix of every resource)."
  type        = string
  default     = "loki-ingest-dev"
}

variable "password_version" {
  description = "Bump to rotate the Basic auth password (write-only; never in state)."
  type        = number
  default     = 1
}

variable "username" {
  description = "HTTP Basic username."
  type        = string
  default     = "stytch-logs-ingestion"
}

variable "reserved_concurrency" {
  description = "Opt-in reserved concurrency of the function; null leaves it unreserved. Reserving N needs an account \"Concurrent executions\" quota of at least N + 100 (Lambda keeps 100 unreserved); new accounts often have 10."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null or a whole number >= 1."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the function; the package defaults to the zip built for it (make build LAMBDA_ARCH=...)."
  type        = string
  default     = "arm64"
}

variable "lambda_zip_path" {
  description = "Deployment package built by `make build`; null uses dist/lambda-<lambda_architecture>.zip."
  type        = string
  default     = null
}

variable "dashboard_enabled" {
  description = "Create the CloudWatch dashboard of this deployment ($3 a month beyond the account's three free dashboards; the alarms notify without it)."
  type        = bool
  default     = false
}
