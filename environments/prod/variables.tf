variable "region" {
  description = "AWS region to deploy to (the provider's region; also names the CloudWatch Logs service in the key policy)."
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
  description = "Opt-in reserved concurrency of the function (caps cost and brute-force rate); null leaves it unreserved. Lambda keeps 100 executions unreserved per account, so reserving N needs a \"Concurrent executions\" quota of at least N + 100; new accounts often have 10, where any reservation fails the apply. Check with `aws lambda get-account-settings` and raise the quota in Service Quotas first."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null or a whole number >= 1."
  }
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

variable "alarm_email_addresses" {
  description = "Email addresses told when an alarm fires or recovers (each confirms a link SNS mails it). Empty: subscribe to the alarm_topic_arn output yourself."
  type        = list(string)
  default     = []
}

variable "canary_schedule_expression" {
  description = "How often the scheduled canary pushes a marked line and checks it lands in S3 (an EventBridge rate expression); null turns it off. Each run waits up to the 300 s buffer interval + 300 s, as long as the delivery-freshness alarm."
  type        = string
  default     = "rate(1 hour)"
}

variable "dashboard_enabled" {
  description = "Create the CloudWatch dashboard of this deployment ($3 a month beyond the account's three free dashboards; the alarms notify without it)."
  type        = bool
  default     = false
}
