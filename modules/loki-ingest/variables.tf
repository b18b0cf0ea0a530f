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
  description = "Path to the deployment package built by `make build` (dist/lambda.zip). Its sha256 becomes source_code_hash."
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
  description = "Memory of the function in MB (CPU scales with it)."
  type        = number
  default     = 1024

  validation {
    condition     = var.lambda_memory_mb >= 128 && var.lambda_memory_mb <= 10240 && floor(var.lambda_memory_mb) == var.lambda_memory_mb
    error_message = "lambda_memory_mb must be a whole number between 128 and 10240 (Lambda limits)."
  }
}

variable "lambda_timeout_seconds" {
  description = "Function timeout. The handler stops retrying Firehose early enough to answer 503 itself, which needs at least 8 s."
  type        = number
  default     = 15

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
  description = "Lambda X-Ray tracing mode: Active records a trace segment per request without any SDK; PassThrough only propagates."
  type        = string
  default     = "Active"

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

variable "success_status_code" {
  description = "Status of a successful push: 200 with {\"status\":\"success\",\"count\":N}, or 204 with an empty body like Loki (for clients that accept nothing else)."
  type        = number
  default     = 200

  validation {
    condition     = contains([200, 204], var.success_status_code)
    error_message = "success_status_code must be 200 or 204."
  }
}

variable "max_line_bytes" {
  description = "Largest accepted log line in bytes (Loki's max_line_size, default 256 KB). At most 1,019,904 so a line always fits in one Firehose record."
  type        = number
  default     = 262144

  validation {
    condition     = var.max_line_bytes >= 1 && var.max_line_bytes <= 1019904 && floor(var.max_line_bytes) == var.max_line_bytes
    error_message = "max_line_bytes must be a whole number between 1 and 1019904 (Firehose's 1,000 KiB record minus the record envelope)."
  }
}

variable "max_decompressed_bytes" {
  description = "Cap on a push's size after Content-Encoding and snappy decoding; enforced while inflating, so compression bombs get 413. Size memory for about 4x this."
  type        = number
  default     = 67108864

  validation {
    condition     = var.max_decompressed_bytes >= 1048576 && var.max_decompressed_bytes <= 1073741824
    error_message = "max_decompressed_bytes must be between 1 MiB and 1 GiB."
  }
}

variable "reject_old_samples_max_age_seconds" {
  description = "Reject entries older than this (Loki's reject_old_samples_max_age, 604800 there). 0 accepts any age, which suits an archive."
  type        = number
  default     = 0

  validation {
    condition     = var.reject_old_samples_max_age_seconds >= 0
    error_message = "reject_old_samples_max_age_seconds must be >= 0."
  }
}

variable "creation_grace_period_seconds" {
  description = "Reject entries further in the future than this (Loki's creation_grace_period, 600 there). 0 disables the check."
  type        = number
  default     = 0

  validation {
    condition     = var.creation_grace_period_seconds >= 0
    error_message = "creation_grace_period_seconds must be >= 0."
  }
}

variable "secret_cache_ttl_seconds" {
  description = "How long the handler caches the credentials. A wrong password also triggers one rate-limited refresh, so rotations work without waiting for the TTL."
  type        = number
  default     = 300

  validation {
    condition     = var.secret_cache_ttl_seconds >= 0 && var.secret_cache_ttl_seconds <= 86400
    error_message = "secret_cache_ttl_seconds must be between 0 and 86400."
  }
}

variable "previous_password_grace_seconds" {
  description = "After a rotation, the previous password (AWSPREVIOUS) keeps working this long, so senders such as Stytch can be updated. 0 revokes it at once."
  type        = number
  default     = 86400

  validation {
    condition     = var.previous_password_grace_seconds >= 0 && var.previous_password_grace_seconds <= 31536000
    error_message = "previous_password_grace_seconds must be between 0 and 31536000 (one year)."
  }
}

variable "extra_environment" {
  description = "Additional environment variables for the handler (see the README's settings table); they override the ones derived from other variables."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.extra_environment) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_")])
    error_message = "extra_environment keys must be valid variable names and must not start with AWS_ (reserved by Lambda)."
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
    condition     = var.password_length >= 24 && var.password_length <= 128
    error_message = "password_length must be between 24 and 128."
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
    condition     = contains(["UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"], var.firehose_compression_format)
    error_message = "firehose_compression_format must be UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY."
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
      length(regexall("!\\{", var.s3_error_prefix)) == length(regexall("!\\{(timestamp|firehose):[^}]+\\}", var.s3_error_prefix))
    )
    error_message = "s3_error_prefix must be 1-512 characters, contain !{firehose:error-output-type}, not start with '/', and use !{ only in !{timestamp:...} or !{firehose:...} expressions (Firehose prefix rules)."
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
    condition     = var.existing_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.existing_bucket_name))
    error_message = "existing_bucket_name must be a valid S3 bucket name."
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
    condition     = var.transition_to_ia_days == null || try(var.transition_to_ia_days >= 30, false)
    error_message = "transition_to_ia_days must be null or >= 30 (S3 minimum for STANDARD_IA)."
  }
}

variable "expiration_days" {
  description = "Days after which log objects are deleted; null keeps them forever."
  type        = number
  default     = null

  validation {
    condition     = var.expiration_days == null || try(var.expiration_days >= 1, false)
    error_message = "expiration_days must be null or >= 1."
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
    condition     = var.noncurrent_version_expiration_days >= 1
    error_message = "noncurrent_version_expiration_days must be >= 1."
  }
}

variable "abort_incomplete_multipart_upload_days" {
  description = "Days after which incomplete multipart uploads are aborted."
  type        = number
  default     = 7

  validation {
    condition     = var.abort_incomplete_multipart_upload_days >= 1
    error_message = "abort_incomplete_multipart_upload_days must be >= 1."
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
    condition     = var.access_log_retention_days >= 1
    error_message = "access_log_retention_days must be >= 1."
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
    condition     = var.s3_prefix_root == "" || !startswith(var.athena_results_prefix, var.s3_prefix_root)
    error_message = "athena_results_prefix must not be inside s3_prefix_root (query results would land among the log records)."
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
