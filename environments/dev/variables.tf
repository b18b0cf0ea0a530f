variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
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
