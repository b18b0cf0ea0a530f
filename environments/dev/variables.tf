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

variable "aws_endpoint_url" {
  description = "Send every AWS call to this endpoint (a local emulator such as moto server or LocalStack at http://localhost:4566). null uses AWS."
  type        = string
  default     = null

  validation {
    condition     = var.aws_endpoint_url == null || can(regex("^https?://", var.aws_endpoint_url))
    error_message = "aws_endpoint_url must be null or an http(s) URL."
  }
}

variable "enforce_tls" {
  description = "TLS-only bucket policy. Only false against an emulator that cannot evaluate aws:SecureTransport (moto)."
  type        = bool
  default     = true
}

variable "lambda_zip_path" {
  description = "Deployment package built by `make build`."
  type        = string
  default     = null
}
