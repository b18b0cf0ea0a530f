variable "region" {
  description = "AWS Region to deploy to."
  type        = string
  default     = "us-east-1"
}

variable "name" {
  description = "Deployment name: prefixes every resource (3-32 lowercase letters, digits and hyphens)."
  type        = string
  default     = "loki-ingest"
}

variable "lambda_zip_path" {
  description = "The handler's deployment package: `make build` in a clone of the module's repository writes dist/lambda-arm64.zip."
  type        = string
}
