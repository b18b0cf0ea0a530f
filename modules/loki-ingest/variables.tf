# ---------------------------------------------------------------------------------------
# General
# ---------------------------------------------------------------------------------------

variable "name" {
  description = "Name of the deployment; prefixes every resource (function, stream, roles, bucket, secret). Lowercase letters, digits and hyphens."
  type        = string

  validation {
    # Bucket names (<= 63) are "<name>-<account id>-access-logs", so 3..32 characters.
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }

  validation {
    # S3 reserves these bucket-name prefixes (general purpose bucket naming rules).
    condition     = !anytrue([for reserved in ["xn--", "sthree-", "amzn-s3-demo-"] : startswith(var.name, reserved)])
    error_message = "name must not start with xn--, sthree- or amzn-s3-demo- (S3 reserves them for bucket names)."
  }
}

variable "tags" {
  description = "Tags added to every resource that supports them."
  type        = map(string)
  default     = {}
}

# ---------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------

variable "lambda_zip_path" {
  description = "Path to the deployment package built by `make build` (dist/lambda-<architecture>.zip). Its sha256 becomes source_code_hash."
  type        = string

  validation {
    condition     = endswith(var.lambda_zip_path, ".zip")
    error_message = "lambda_zip_path must point to a .zip file (run `make build`)."
  }
}

variable "lambda_runtime" {
  description = "Python runtime of the function."
  type        = string
  default     = "python3.12"

  validation {
    # Only runtimes the oldest supported provider (hashicorp/aws 5.100) accepts: its own
    # runtime list ends at python3.13, so python3.14 fails at plan there.
    condition     = contains(["python3.12", "python3.13"], var.lambda_runtime)
    error_message = "lambda_runtime must be python3.12 or python3.13 (hashicorp/aws 5.100, the oldest supported provider, rejects python3.14)."
  }
}

variable "lambda_architecture" {
  description = "Instruction set of the function. Build the zip for the same one: `make build LAMBDA_ARCH=x86_64`."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.lambda_architecture)
    error_message = "lambda_architecture must be arm64 or x86_64."
  }
}

variable "lambda_memory_mb" {
  description = "Memory of the function in MB (CPU scales with it: one vCPU at 1769). 512 runs a push at the default work budget (a default Promtail/Alloy batch of 4-byte lines, about 8 s) inside the client's 10 s timeout (README, \"Limits and edge cases\" and \"What it costs\"); lower it only with a lower handler_settings.work_budget_units, which the module checks."
  type        = number
  default     = 512

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "lambda_memory_mb must be a whole number between 128 and 10240 (Lambda limits)."
  }
}

variable "lambda_timeout_seconds" {
  description = "Function timeout. A push at the work budget (handler_settings.work_budget_units) must fit in 60% of it at lambda_memory_mb: the default budget takes about 8.6 s at 512 MB, and a default Promtail/Alloy batch of 4-byte lines about 8 s, half of the 20 s default. The handler stops retrying Firehose early enough to answer 503 itself, which needs at least 8 s."
  type        = number
  default     = 20

  validation {
    condition     = var.lambda_timeout_seconds >= 8 && var.lambda_timeout_seconds <= 900 && floor(var.lambda_timeout_seconds) == var.lambda_timeout_seconds
    error_message = "lambda_timeout_seconds must be a whole number between 8 and 900."
  }
}

variable "reserved_concurrency" {
  description = "Opt-in reserved concurrent executions (caps cost and brute-force attempts). null (the default) leaves the function unreserved. Lambda keeps 100 executions unreserved per account, so reserving N needs a \"Concurrent executions\" quota of at least N + 100 (plus what other functions reserve); new accounts often have 10: raise it in Service Quotas first, or apply fails."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency, false)
    error_message = "reserved_concurrency must be null or a whole number >= 1."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's and the delivery stream's CloudWatch log groups."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653)."
  }
}

variable "log_level" {
  description = "Log level of the handler's structured logs; also Lambda's application log level (logging_config), which drops JSON lines below it (WARNING becomes Lambda's WARN)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be DEBUG, INFO, WARNING or ERROR."
  }
}

variable "system_log_level" {
  description = "Level of Lambda's own platform lines in the function's log group (logging_config). WARN (the default) drops the platform.start and platform.report lines of every invocation (about 0.4 KB together, $0.50/GB ingested: more than Firehose costs for 1-event pushes); Lambda's Duration, Errors, Invocations, Throttles and function URL metrics are unaffected. INFO keeps them (billed and init duration, memory used per invocation); DEBUG adds more."
  type        = string
  default     = "WARN"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARN"], var.system_log_level)
    error_message = "system_log_level must be DEBUG, INFO or WARN."
  }
}

variable "logs_kms_key_arn" {
  description = "Optional KMS key ARN for the CloudWatch log groups. The key policy must allow logs.<region>.amazonaws.com."
  type        = string
  default     = null

  validation {
    condition     = var.logs_kms_key_arn == null || can(regex(local.kms_key_arn_regex, var.logs_kms_key_arn))
    error_message = "logs_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "tracing_mode" {
  description = "Lambda X-Ray tracing mode. PassThrough (the default) records nothing unless a request arrives with a sampled trace header (no Loki client sends one). Active records a trace for 1 request per second plus 5% of the rest (X-Ray's default sampling rule) without any SDK: $5 per million traces after the first 100,000 a month, about $0.04 per GB of 10-event pushes and $0.20 per GB of 1-event pushes at a steady 1 TB a month (README, \"What it costs\")."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode must be Active or PassThrough."
  }
}

variable "tracing_sdk_enabled" {
  description = "Also load the aws-xray-sdk in the handler for per-phase subsegments (adds 110-140 ms of cold start here; see make bench)."
  type        = bool
  default     = false
}

variable "lambda_kms_key_arn" {
  description = "Optional KMS key ARN to encrypt the function's environment variables (they hold only names and ARNs, never secrets)."
  type        = string
  default     = null

  validation {
    condition     = var.lambda_kms_key_arn == null || can(regex(local.kms_key_arn_regex, var.lambda_kms_key_arn))
    error_message = "lambda_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "code_signing_config_arn" {
  description = "Optional Lambda code signing configuration ARN."
  type        = string
  default     = null
}

# ---------------------------------------------------------------------------------------
# Ingestion behaviour (environment of the handler)
# ---------------------------------------------------------------------------------------

# handler_settings: generated from the handler's settings registry, in handler_settings.tf.

variable "extra_environment" {
  description = "Additional environment variables for the function that are not handler settings, for example AWS_LAMBDA_EXEC_WRAPPER and OTEL_* for an OpenTelemetry layer."
  type        = map(string)
  default     = {}

  validation {
    # Lambda reserves AWS_* names except the exec wrapper; handler settings go through
    # handler_settings, where they are validated.
    condition = alltrue([for k in keys(var.extra_environment) :
      can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && (!startswith(k, "AWS_") || k == "AWS_LAMBDA_EXEC_WRAPPER") &&
    !contains(concat([for name in keys(var.handler_settings) : upper(name)], ["FIREHOSE_DELIVERYSTREAM_NAME", "AUTH_SECRET_ARN", "LOG_LEVEL", "TRACING_ENABLED"]), k)])
    error_message = "extra_environment keys must be valid variable names, must not start with AWS_ (reserved by Lambda) except AWS_LAMBDA_EXEC_WRAPPER, and must not be handler settings (use handler_settings, log_level or tracing_sdk_enabled)."
  }
}

# ---------------------------------------------------------------------------------------
# Credentials (Secrets Manager)
# ---------------------------------------------------------------------------------------

variable "username" {
  description = "HTTP Basic username clients (Stytch) authenticate with."
  type        = string
  default     = "stytch-logs-ingestion"

  validation {
    # RFC 7617: the user-id cannot contain a colon.
    condition     = can(regex("^[A-Za-z0-9._@+-]{1,128}$", var.username))
    error_message = "username must be 1-128 characters of letters, digits and . _ @ + - (no colon)."
  }
}

variable "password_version" {
  description = "Bump to generate and store a new random password (write-only: the password never enters state). The previous one stays valid for previous_password_grace_seconds."
  type        = number
  default     = 1

  validation {
    condition     = var.password_version >= 1 && floor(var.password_version) == var.password_version
    error_message = "password_version must be a whole number >= 1."
  }
}

variable "password_length" {
  description = "Length of the generated password (letters and digits only, so it is safe in URLs and dashboards)."
  type        = number
  default     = 40

  validation {
    condition     = var.password_length >= 24 && var.password_length <= 128 && floor(var.password_length) == var.password_length
    error_message = "password_length must be a whole number between 24 and 128."
  }
}

variable "secret_name" {
  description = "Name of the Secrets Manager secret holding {\"username\",\"password\"}. Defaults to \"<name>/basic-auth\"."
  type        = string
  default     = null

  validation {
    condition     = var.secret_name == null || can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.secret_name))
    error_message = "secret_name must be 1-512 characters of letters, digits and /_+=.@-."
  }
}

variable "secret_kms_key_arn" {
  description = "Optional customer managed KMS key ARN for the secret (default: the AWS managed aws/secretsmanager key)."
  type        = string
  default     = null

  validation {
    condition     = var.secret_kms_key_arn == null || can(regex(local.kms_key_arn_regex, var.secret_kms_key_arn))
    error_message = "secret_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "secret_recovery_window_days" {
  description = "Days Secrets Manager keeps a deleted secret recoverable; 0 deletes immediately (handy for dev)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_days == 0 || (var.secret_recovery_window_days >= 7 && var.secret_recovery_window_days <= 30)
    error_message = "secret_recovery_window_days must be 0 or between 7 and 30 (Secrets Manager limits)."
  }
}

# ---------------------------------------------------------------------------------------
# Firehose
# ---------------------------------------------------------------------------------------

variable "firehose_buffering_size_mb" {
  description = "Firehose buffer size in MiB before writing an S3 object (measured before compression)."
  type        = number
  default     = 64

  validation {
    condition     = var.firehose_buffering_size_mb >= 1 && var.firehose_buffering_size_mb <= 128
    error_message = "firehose_buffering_size_mb must be between 1 and 128 (API_BufferingHints)."
  }
}

variable "firehose_buffering_interval_seconds" {
  description = "Firehose buffer interval in seconds: the longest a line waits before it is in S3."
  type        = number
  default     = 300

  validation {
    condition     = var.firehose_buffering_interval_seconds >= 0 && var.firehose_buffering_interval_seconds <= 900
    error_message = "firehose_buffering_interval_seconds must be between 0 and 900 (API_BufferingHints)."
  }
}

variable "firehose_compression_format" {
  description = "Compression of the S3 objects. GZIP is read natively by Athena."
  type        = string
  default     = "GZIP"

  validation {
    # The Athena table reads plain and gzipped NDJSON; ZIP and Firehose's Snappy framing would
    # leave objects it cannot read (and no file extension to tell it).
    condition     = contains(["UNCOMPRESSED", "GZIP"], var.firehose_compression_format)
    error_message = "firehose_compression_format must be UNCOMPRESSED or GZIP (what the Athena table reads)."
  }
}

variable "firehose_kms_key_arn" {
  description = "Optional customer managed KMS key for Firehose server-side encryption (default: an AWS owned key; encryption is always on)."
  type        = string
  default     = null

  validation {
    condition     = var.firehose_kms_key_arn == null || can(regex(local.kms_key_arn_regex, var.firehose_kms_key_arn))
    error_message = "firehose_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "s3_prefix_root" {
  description = "Key prefix under which Firehose writes year=/month=/day=/hour= partitions. Empty, or ends with '/'."
  type        = string
  default     = "logs/"

  validation {
    condition = var.s3_prefix_root == "" || (
      endswith(var.s3_prefix_root, "/") && !startswith(var.s3_prefix_root, "/") &&
      !strcontains(var.s3_prefix_root, "!{") && length(var.s3_prefix_root) <= 400
    )
    error_message = "s3_prefix_root must be empty or end with '/', must not start with '/', must not contain expressions (!{...}) and must be at most 400 characters."
  }
}

variable "s3_error_prefix" {
  description = "Prefix for records Firehose could not deliver. Because the data prefix uses expressions, AWS requires one, and it must contain !{firehose:error-output-type}."
  type        = string
  default     = "errors/!{firehose:error-output-type}/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/"

  validation {
    condition = (
      length(var.s3_error_prefix) > 0 && length(var.s3_error_prefix) <= 512 &&
      strcontains(var.s3_error_prefix, "!{firehose:error-output-type}") &&
      !startswith(var.s3_error_prefix, "/") &&
      # "!{" may only open a complete !{namespace:value} expression.
      length(regexall("!\\{", var.s3_error_prefix)) == length(regexall("!\\{(timestamp:[^}]+|firehose:(error-output-type|random-string))\\}", var.s3_error_prefix))
    )
    error_message = "s3_error_prefix must be 1-512 characters, contain !{firehose:error-output-type}, not start with '/', and use !{ only in !{timestamp:...}, !{firehose:error-output-type} or !{firehose:random-string} (Firehose prefix rules)."
  }
}

# ---------------------------------------------------------------------------------------
# S3
# ---------------------------------------------------------------------------------------

variable "create_bucket" {
  description = "Create the log bucket. Set false and give existing_bucket_name to deliver into a bucket you manage."
  type        = bool
  default     = true
}

variable "existing_bucket_name" {
  description = "Name of an existing bucket to deliver into when create_bucket is false. Its encryption, policy and lifecycle are yours to manage."
  type        = string
  default     = null

  validation {
    condition = var.existing_bucket_name == null || (
      can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.existing_bucket_name)) &&
      !strcontains(coalesce(var.existing_bucket_name, "x"), "..") &&
      !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", var.existing_bucket_name))
    )
    error_message = "existing_bucket_name must be a valid S3 bucket name (3-63 of a-z 0-9 . -, no \"..\", not an IP address)."
  }

  validation {
    condition     = var.create_bucket || var.existing_bucket_name != null
    error_message = "existing_bucket_name is required when create_bucket is false."
  }
}

variable "bucket_name" {
  description = "Name of the bucket to create. Defaults to \"<name>-<account id>\"."
  type        = string
  default     = null

  validation {
    # "<bucket>-access-logs" must also be a valid name, so at most 51 characters.
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9-]{1,49}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-51 characters of lowercase letters, digits and hyphens (the access-log bucket appends -access-logs)."
  }

  validation {
    # S3 reserves these prefixes and suffixes (general purpose bucket naming rules).
    condition = var.bucket_name == null || !(
      anytrue([for reserved in ["xn--", "sthree-", "amzn-s3-demo-"] : startswith(coalesce(var.bucket_name, "x"), reserved)]) ||
      anytrue([for reserved in ["-s3alias", "--ol-s3", "--x-s3", "--table-s3"] : endswith(coalesce(var.bucket_name, "x"), reserved)])
    )
    error_message = "bucket_name must not use a prefix or suffix S3 reserves (xn--, sthree-, amzn-s3-demo-, -s3alias, --ol-s3, --x-s3, --table-s3)."
  }
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete buckets that still hold objects. Keep false in production."
  type        = bool
  default     = false
}

variable "s3_kms_key_arn" {
  description = "Optional KMS key ARN for SSE-KMS (default: SSE-S3). With create_bucket = true it becomes the bucket's default encryption, with an S3 Bucket Key. With create_bucket = false, set it to the key of the existing bucket's default encryption if that is SSE-KMS: Firehose's role only gets kms:GenerateDataKey/Decrypt on this key, and without it every delivery fails. Also encrypts Athena query results."
  type        = string
  default     = null

  validation {
    condition     = var.s3_kms_key_arn == null || can(regex(local.kms_key_arn_regex, var.s3_kms_key_arn))
    error_message = "s3_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "enforce_tls" {
  description = "Attach a bucket policy denying requests without TLS (aws:SecureTransport). Only turn off against local emulators that cannot evaluate it."
  type        = bool
  default     = true
}

variable "transition_to_ia_days" {
  description = "Days after which objects move to STANDARD_IA; null keeps them in STANDARD."
  type        = number
  default     = 30

  validation {
    condition     = var.transition_to_ia_days == null || try(var.transition_to_ia_days >= 30 && floor(var.transition_to_ia_days) == var.transition_to_ia_days, false)
    error_message = "transition_to_ia_days must be null or a whole number >= 30 (S3 minimum for STANDARD_IA)."
  }
}

variable "expiration_days" {
  description = "Days after which log objects are deleted; null keeps them forever."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null || try(var.expiration_days >= 1 && floor(var.expiration_days) == var.expiration_days, false)
    error_message = "expiration_days must be null or a whole number >= 1."
  }

  validation {
    condition     = var.expiration_days == null || var.transition_to_ia_days == null || try(var.expiration_days > var.transition_to_ia_days, false)
    error_message = "expiration_days must be greater than transition_to_ia_days."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days after which overwritten or deleted object versions are removed (the bucket is versioned)."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number >= 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1 && floor(var.abort_incomplete_multipart_upload_days) == var.abort_incomplete_multipart_upload_days
    error_message = "abort_incomplete_multipart_upload_days must be a whole number >= 1."
  }
}

variable "enable_access_logging" {
  description = "Create an access-log bucket and enable S3 server access logging on the log bucket."
  type        = bool
  default     = true
}

variable "access_log_retention_days" {
  description = "Days S3 server access logs are kept."
  type        = number
  default     = 90

  validation {
    condition     = var.access_log_retention_days >= 1 && floor(var.access_log_retention_days) == var.access_log_retention_days
    error_message = "access_log_retention_days must be a whole number >= 1."
  }
}

# ---------------------------------------------------------------------------------------
# Athena
# ---------------------------------------------------------------------------------------

variable "enable_athena" {
  description = "Create a Glue database and table (OpenX JSON SerDe, partition projection) and an Athena workgroup that stores query results in the log bucket, so the logs can be queried with Athena even on an account that never used it."
  type        = bool
  default     = true
}

variable "glue_database_name" {
  description = "Glue database name. Defaults to \"<name with _>_logs\"."
  type        = string
  default     = null

  validation {
    condition     = var.glue_database_name == null || can(regex("^[a-z0-9_]{1,255}$", var.glue_database_name))
    error_message = "glue_database_name must be 1-255 characters of lowercase letters, digits and underscores."
  }
}

variable "athena_results_prefix" {
  description = "Key prefix in the log bucket for the Athena workgroup's query results. Must not overlap s3_prefix_root."
  type        = string
  default     = "athena-results/"

  validation {
    condition     = endswith(var.athena_results_prefix, "/") && !startswith(var.athena_results_prefix, "/") && length(var.athena_results_prefix) <= 200
    error_message = "athena_results_prefix must end with '/', must not start with '/' and must be at most 200 characters."
  }

  validation {
    # The results' lifecycle rule expires everything under this prefix, so it must neither
    # contain nor sit inside the log records' prefix or the error records' literal prefix.
    condition = alltrue([
      for other in [var.s3_prefix_root == "" ? "year=" : var.s3_prefix_root, split("!{", var.s3_error_prefix)[0]] :
      other == "" || (!startswith(var.athena_results_prefix, other) && !startswith(other, var.athena_results_prefix))
    ])
    error_message = "athena_results_prefix must not contain or sit inside s3_prefix_root or the start of s3_error_prefix (its 30-day expiry would delete log records)."
  }
}

variable "athena_results_retention_days" {
  description = "Days the Athena query results are kept (a lifecycle rule on athena_results_prefix, when this module creates the bucket)."
  type        = number
  default     = 30

  validation {
    condition     = var.athena_results_retention_days >= 1 && floor(var.athena_results_retention_days) == var.athena_results_retention_days
    error_message = "athena_results_retention_days must be a whole number >= 1."
  }
}

variable "athena_projection_start_year" {
  description = "First year Athena's partition projection considers."
  type        = number
  default     = 2025

  validation {
    condition     = var.athena_projection_start_year >= 2015 && var.athena_projection_start_year <= 2100
    error_message = "athena_projection_start_year must be between 2015 and 2100."
  }
}

# ---------------------------------------------------------------------------------------
# Monitoring: alarms, dashboard, saved queries, scheduled canary
# (monitoring.tf, queries.tf, canary.tf; docs/monitoring.md)
# ---------------------------------------------------------------------------------------

variable "alarms_enabled" {
  description = "Create the CloudWatch alarms of monitoring.tf (delivery to S3, Firehose throttling, Lambda errors, throttles, timeouts, function URL 5xx, the handler's rejected-entry and 503 rates, broken metrics). Needs log_level INFO or DEBUG."
  type        = bool
  default     = true

  validation {
    # The handler's metrics of successful pushes ride on its INFO metrics line: above INFO,
    # Lambda drops them and the rate alarms see only the failing pushes (WARN/ERROR lines).
    condition     = !var.alarms_enabled || contains(["DEBUG", "INFO"], var.log_level)
    error_message = "alarms_enabled needs log_level INFO or DEBUG: the successful pushes' metrics are in its INFO metrics line, and without them the rejected-entry and 503 rate alarms would fire on any failure."
  }
}

variable "alarm_topic_arn" {
  description = "Existing SNS topic the alarms notify (on ALARM and back to OK). null: only create_alarm_topic's topic, or none."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be null or an SNS topic ARN."
  }
}

variable "create_alarm_topic" {
  description = "Create an SNS topic \"<name>-alarms\" for the alarms (output alarm_topic_arn); subscribe to it, or list addresses in alarm_email_addresses."
  type        = bool
  default     = false
}

variable "alarm_email_addresses" {
  description = "Email addresses subscribed to the topic create_alarm_topic creates. SNS mails each one a confirmation link; nothing is delivered until it is followed."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for address in var.alarm_email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", address))])
    error_message = "alarm_email_addresses must be email addresses."
  }

  validation {
    condition     = length(var.alarm_email_addresses) == 0 || var.create_alarm_topic
    error_message = "alarm_email_addresses needs create_alarm_topic = true (subscribe to an existing topic where it is managed)."
  }
}

variable "alarm_topic_kms_key_arn" {
  description = "Customer managed KMS key for the topic create_alarm_topic creates. Its key policy must let cloudwatch.amazonaws.com use kms:Decrypt and kms:GenerateDataKey*; CloudWatch cannot publish to a topic under the AWS managed aws/sns key. null: the topic is not encrypted (alarm notifications carry alarm names and metric values, never log data)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_kms_key_arn == null || can(regex(local.kms_key_arn_regex, var.alarm_topic_kms_key_arn))
    error_message = "alarm_topic_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "alarm_thresholds" {
  description = "Alarm thresholds (docs/monitoring.md has each alarm's metric and why): data_freshness_seconds (null: the buffer interval + 300 s), firehose_throttled_records and url_5xx per 5 minutes, lambda_errors and lambda_throttles per 5 minutes, duration_percent_of_timeout (maximum duration), rejected_entries_percent and push_503_percent (over 15 minutes). An alarm fires above its threshold."
  type = object({
    data_freshness_seconds      = optional(number)
    firehose_throttled_records  = optional(number, 0)
    lambda_errors               = optional(number, 0)
    lambda_throttles            = optional(number, 0)
    url_5xx                     = optional(number, 5)
    duration_percent_of_timeout = optional(number, 80)
    rejected_entries_percent    = optional(number, 1)
    push_503_percent            = optional(number, 5)
  })
  default  = {}
  nullable = false

  validation {
    # A freshness below the buffer interval alarms on every healthy buffer; Firehose keeps
    # retrying S3 for up to 24 hours (86400 s).
    condition = var.alarm_thresholds.data_freshness_seconds == null || try(
      var.alarm_thresholds.data_freshness_seconds > var.firehose_buffering_interval_seconds && var.alarm_thresholds.data_freshness_seconds <= 86400, false
    )
    error_message = "alarm_thresholds.data_freshness_seconds must be null or above firehose_buffering_interval_seconds and at most 86400."
  }
  validation {
    condition = alltrue([for value in [
      var.alarm_thresholds.firehose_throttled_records, var.alarm_thresholds.lambda_errors,
      var.alarm_thresholds.lambda_throttles, var.alarm_thresholds.url_5xx,
    ] : value >= 0 && floor(value) == value])
    error_message = "alarm_thresholds counts (firehose_throttled_records, lambda_errors, lambda_throttles, url_5xx) must be whole numbers >= 0."
  }
  validation {
    condition = alltrue([for value in [
      var.alarm_thresholds.duration_percent_of_timeout, var.alarm_thresholds.rejected_entries_percent,
      var.alarm_thresholds.push_503_percent,
    ] : value > 0 && value <= 100])
    error_message = "alarm_thresholds percentages (duration_percent_of_timeout, rejected_entries_percent, push_503_percent) must be above 0 and at most 100."
  }
}

variable "dashboard_enabled" {
  description = "Create the CloudWatch dashboard \"<name>\" (pushes, entries, latency percentiles, 4xx/5xx, Firehose incoming vs delivered and its call latency, freshness, alarm states). $3 a month beyond the account's three free dashboards, the largest fixed item of a deployment, so off by default: the alarms notify without it."
  type        = bool
  default     = false
}

variable "saved_queries_enabled" {
  description = "Save CloudWatch Logs Insights queries (errors by message, slowest requests, 4xx by reason) and, with enable_athena, Athena named queries (recent events, events by event_id, duplicates removed by id)."
  type        = bool
  default     = true
}

variable "canary_schedule_expression" {
  description = "Run the canary of `make verify` on this EventBridge schedule, e.g. \"rate(1 hour)\": a Lambda function pushes a marked line with the real credentials, waits for it in S3 and reports CanarySuccess (a custom metric, $0.30 a month) and its latency; an alarm fires when a run fails or none reports. null (the default) creates none."
  type        = string
  default     = null

  validation {
    # rate() only: the alarm's period follows the interval (canary.tf).
    # EventBridge: a value of 1 takes the singular unit, any other the plural ("rate(1 hours)"
    # and "rate(5 hour)" fail at apply).
    condition     = var.canary_schedule_expression == null || can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.canary_schedule_expression))
    error_message = "canary_schedule_expression must be null or an EventBridge rate expression such as \"rate(1 hour)\"."
  }

  validation {
    # The canary waits up to the freshness threshold (the buffer interval + 300 s unless set)
    # inside one invocation, which Lambda ends at 900 s.
    condition     = var.canary_schedule_expression == null || var.firehose_buffering_interval_seconds <= 600
    error_message = "the scheduled canary needs firehose_buffering_interval_seconds <= 600 (it waits for one buffer inside a 15-minute invocation)."
  }
}
