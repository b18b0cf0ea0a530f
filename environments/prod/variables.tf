variable "region" {
  description = "AWS region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Deployment name (prefix of every resource)."
  type        = string
  default     = "loki-ingest-prod"
}

variable "password_version" {
  description = "Bump to rotate the Basic auth password (write-only; never in state). The old one keeps working for 24 h."
  type        = number
  default     = 1
}

variable "username" {
  description = "HTTP Basic username."
  type        = string
  default     = "stytch-logs-ingestion"
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the function (caps cost and brute-force rate)."
  type        = number
  default     = 50
}

variable "expiration_days" {
  description = "Delete log objects after this many days; null keeps them forever."
  type        = number
  default     = null
}

variable "lambda_zip_path" {
  description = "Deployment package built by `make build`."
  type        = string
  default     = null
}
