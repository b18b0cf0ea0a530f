variable "region" {
  description = "Region of the state bucket; use the one environments/prod deploys to."
  type        = string
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS Region name such as us-east-1."
  }
}

variable "bucket_name" {
  description = "Name of the state bucket. Defaults to \"loki-ingest-tfstate-<account id>-<region>\" (bucket names are global)."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "state_key" {
  description = "Object key of environments/prod's state in the bucket."
  type        = string
  default     = "loki-ingest/prod/terraform.tfstate"

  validation {
    condition     = length(var.state_key) > 0 && length(var.state_key) <= 1024 && !startswith(var.state_key, "/")
    error_message = "state_key must be 1-1024 characters and must not start with '/'."
  }
}

variable "enforce_tls" {
  description = "Attach a bucket policy denying requests without TLS (aws:SecureTransport). Only turn off against a local emulator that cannot evaluate it."
  type        = bool
  default     = true
}
