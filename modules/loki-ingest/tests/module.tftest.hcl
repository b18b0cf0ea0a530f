# Module tests, run with the real hashicorp/aws provider against a local moto server:
# Terraform 1.11's mock_provider refuses configurations with ephemeral resources.
#
#   AWS_ENDPOINT_URL=http://127.0.0.1:<port> terraform test -var lambda_zip_path=<abs path>
#
# tests/terraform/test_terraform.py starts moto on a free port and runs this. The endpoint
# comes from the environment (the provider honours AWS_ENDPOINT_URL) and the zip path from
# -var: a value in the variables block below would take precedence over the command line.

variables {
  name          = "tftest-loki"
  force_destroy = true
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
}

# --- validation rules (plan only) -------------------------------------------------------

run "rejects_invalid_name" {
  command = plan
  variables {
    name = "Bad_Name"
  }
  expect_failures = [var.name]
}

run "rejects_buffering_outside_aws_ranges" {
  command = plan
  variables {
    firehose_buffering_size_mb          = 129
    firehose_buffering_interval_seconds = 901
  }
  expect_failures = [var.firehose_buffering_size_mb, var.firehose_buffering_interval_seconds]
}

run "rejects_error_prefix_without_error_output_type" {
  command = plan
  variables {
    s3_error_prefix = "errors/!{timestamp:yyyy}/"
  }
  expect_failures = [var.s3_error_prefix]
}

run "rejects_error_prefix_with_a_stray_expression" {
  command = plan
  variables {
    s3_error_prefix = "errors/!{firehose:error-output-type}/!{oops/"
  }
  expect_failures = [var.s3_error_prefix]
}

run "rejects_prefix_root_without_trailing_slash" {
  command = plan
  variables {
    s3_prefix_root = "logs"
  }
  expect_failures = [var.s3_prefix_root]
}

run "rejects_line_size_over_a_firehose_record" {
  command = plan
  variables {
    handler_settings = { max_line_bytes = 1048576 }
  }
  expect_failures = [var.handler_settings]
}

run "rejects_standard_ia_before_30_days" {
  command = plan
  variables {
    transition_to_ia_days = 7
  }
  expect_failures = [var.transition_to_ia_days]
}

run "rejects_expiration_before_transition" {
  command = plan
  variables {
    transition_to_ia_days = 60
    expiration_days       = 30
  }
  expect_failures = [var.expiration_days]
}

run "rejects_username_with_colon" {
  command = plan
  variables {
    username = "user:name"
  }
  expect_failures = [var.username]
}

run "rejects_unsupported_runtime_and_architecture" {
  command = plan
  variables {
    lambda_runtime      = "python3.9"
    lambda_architecture = "arm"
  }
  expect_failures = [var.lambda_runtime, var.lambda_architecture]
}

# Every runtime the variable accepts must also pass the provider's own validation at the
# oldest supported version (these tests run 5.100); python3.14 does not, so the variable
# must reject it rather than let plan fail inside aws_lambda_function.
run "accepts_python3_13_which_the_oldest_provider_knows" {
  command = plan
  variables {
    lambda_runtime = "python3.13"
  }
  assert {
    condition     = aws_lambda_function.this.runtime == "python3.13"
    error_message = "python3.13 must reach the function"
  }
}

run "rejects_python3_14_which_the_oldest_provider_does_not_know" {
  command = plan
  variables {
    lambda_runtime = "python3.14"
  }
  expect_failures = [var.lambda_runtime]
}

run "rejects_athena_results_inside_the_log_prefix" {
  command = plan
  variables {
    athena_results_prefix = "logs/athena/"
  }
  expect_failures = [var.athena_results_prefix]
}

run "rejects_a_malformed_kms_key_arn" {
  command = plan
  variables {
    s3_kms_key_arn   = "alias/my-key"
    logs_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:alias/my-key"
  }
  expect_failures = [var.s3_kms_key_arn, var.logs_kms_key_arn]
}

# --- log level ------------------------------------------------------------------------------

# With JSON logs Lambda drops application lines below application_log_level (INFO unless
# set), so LOG_LEVEL=DEBUG alone would change nothing.
run "debug_log_level_reaches_lambda_log_filtering" {
  command = plan
  variables {
    log_level = "DEBUG"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "DEBUG"
    error_message = "log_level DEBUG must set Lambda's application log level to DEBUG"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].system_log_level == "WARN"
    error_message = "JSON logs; no platform START/REPORT line per invocation unless asked for"
  }
}

# What users pay for and need only to debug: tracing and Lambda's platform lines are opt-in.
run "tracing_and_platform_lines_are_opt_in" {
  command = plan
  variables {
    tracing_mode     = "Active"
    system_log_level = "INFO"
  }
  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active" && length(aws_iam_role_policy_attachment.lambda_xray) == 1
    error_message = "tracing_mode Active records traces, with the role's X-Ray permission"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].system_log_level == "INFO"
    error_message = "system_log_level INFO keeps the platform lines"
  }
}

run "rejects_an_unknown_system_log_level" {
  command = plan
  variables {
    system_log_level = "TRACE"
  }
  expect_failures = [var.system_log_level]
}

run "warning_log_level_maps_to_lambdas_warn" {
  command = plan
  variables {
    log_level      = "WARNING"
    alarms_enabled = false # the alarms need the INFO metrics lines (monitoring.tftest.hcl)
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "WARN"
    error_message = "Lambda spells it WARN (API LoggingConfig)"
  }
}

run "rejects_bad_retention_recovery_and_timeout" {
  command = plan
  variables {
    log_retention_days          = 10
    secret_recovery_window_days = 3
    lambda_timeout_seconds      = 3
  }
  expect_failures = [var.log_retention_days, var.secret_recovery_window_days, var.lambda_timeout_seconds]
}

run "requires_a_bucket_name_when_not_creating_one" {
  command = plan
  variables {
    create_bucket = false
  }
  expect_failures = [var.existing_bucket_name]
}

# --- plan-time wiring --------------------------------------------------------------------

run "existing_bucket_creates_no_bucket" {
  command = plan
  variables {
    create_bucket        = false
    existing_bucket_name = "my-existing-log-bucket"
    enable_athena        = false
  }
  assert {
    condition     = length(aws_athena_workgroup.this) == 0
    error_message = "enable_athena = false must not create a workgroup"
  }
  assert {
    condition     = length(aws_s3_bucket.logs) == 0 && length(aws_s3_bucket.access_logs) == 0
    error_message = "no bucket may be created when create_bucket is false"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].bucket_arn == "arn:aws:s3:::my-existing-log-bucket"
    error_message = "Firehose must deliver to the existing bucket"
  }
  assert {
    condition     = length(aws_glue_catalog_table.records) == 0
    error_message = "enable_athena = false must not create Glue resources"
  }
}

# An existing bucket may encrypt by default with SSE-KMS, with or without an S3 Bucket Key;
# S3 then asks KMS with the bucket ARN or the object ARN as encryption context. Firehose's
# role must be allowed the key under either, or every delivery fails after a 200.
run "existing_kms_bucket_gives_firehose_the_key_for_both_encryption_contexts" {
  command = plan
  variables {
    create_bucket        = false
    existing_bucket_name = "my-existing-log-bucket"
    s3_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition = one([
      for s in data.aws_iam_policy_document.kms_use["firehose"].statement : s.resources if s.sid == "EncryptObjects"
    ]) == toset([var.s3_kms_key_arn])
    error_message = "Firehose's role must get the bucket's key"
  }
  assert {
    condition = toset(one([
      for s in data.aws_iam_policy_document.kms_use["firehose"].statement : one([
        for c in s.condition : c.values if c.variable == "kms:EncryptionContext:aws:s3:arn"
      ]) if s.sid == "EncryptObjects"
    ])) == toset(["arn:aws:s3:::my-existing-log-bucket", "arn:aws:s3:::my-existing-log-bucket/*"])
    error_message = "the key must be usable with the bucket ARN (S3 Bucket Keys) and the object ARN as encryption context"
  }
  assert {
    condition     = aws_athena_workgroup.this[0].configuration[0].result_configuration[0].output_location == "s3://my-existing-log-bucket/athena-results/"
    error_message = "query results go to the bucket Firehose delivers to"
  }
}

run "customer_managed_keys_are_wired_everywhere" {
  command = plan
  variables {
    s3_kms_key_arn       = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    firehose_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    secret_kms_key_arn   = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.server_side_encryption[0].key_type == "CUSTOMER_MANAGED_CMK"
    error_message = "Firehose must use the customer managed key"
  }
  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.logs[0].rule : r.apply_server_side_encryption_by_default[0].sse_algorithm]) == "aws:kms"
    error_message = "the log bucket must use SSE-KMS"
  }
  assert {
    condition     = aws_secretsmanager_secret.auth.kms_key_id == var.secret_kms_key_arn
    error_message = "the secret must use the customer managed key"
  }
  assert {
    condition = (
      aws_athena_workgroup.this[0].configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_KMS" &&
      aws_athena_workgroup.this[0].configuration[0].result_configuration[0].encryption_configuration[0].kms_key_arn == var.s3_kms_key_arn
    )
    error_message = "Athena query results must be encrypted with the bucket's key"
  }
}

run "names_the_permission_stack_with_a_leading_letter" {
  command = plan
  variables {
    name = "1loki"
  }
  assert {
    condition     = aws_cloudformation_stack.function_url_invoke.name == "lambda-1loki-function-url-invoke"
    error_message = "a CloudFormation stack name must start with a letter"
  }
}

# --- apply: the deployed stack ------------------------------------------------------------

run "deploys_a_least_privilege_encrypted_stack" {
  command = apply

  assert {
    condition     = aws_lambda_function_url.this.authorization_type == "NONE"
    error_message = "the URL must be public (NONE): Basic auth is checked in the handler"
  }
  assert {
    condition     = aws_lambda_permission.function_url.function_url_auth_type == "NONE" && aws_lambda_permission.function_url.action == "lambda:InvokeFunctionUrl"
    error_message = "the InvokeFunctionUrl permission must be limited to AuthType NONE"
  }
  assert {
    # The stack's one resource, as CloudFormation kept it: InvokeFunction for "*" only with
    # InvokedViaFunctionUrl, never a bare public InvokeFunction.
    condition = [for resource in values(jsondecode(aws_cloudformation_stack.function_url_invoke.template_body).Resources) : resource] == [{
      Type = "AWS::Lambda::Permission"
      Properties = {
        Action                = "lambda:InvokeFunction"
        FunctionName          = aws_lambda_function.this.function_name
        Principal             = "*"
        InvokedViaFunctionUrl = true
      }
    }]
    error_message = "the InvokeFunction statement must be limited to invokes through the function URL"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["FIREHOSE_DELIVERYSTREAM_NAME"] == aws_kinesis_firehose_delivery_stream.this.name
    error_message = "FIREHOSE_DELIVERYSTREAM_NAME must name this module's stream"
  }
  assert {
    condition     = aws_lambda_function.this.environment[0].variables["AUTH_SECRET_ARN"] == aws_secretsmanager_secret.auth.arn
    error_message = "AUTH_SECRET_ARN must be this module's secret"
  }
  assert {
    condition     = aws_lambda_function.this.handler == "loki_ingest.handler.handler" && aws_lambda_function.this.runtime == "python3.12" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "handler, runtime and architecture defaults"
  }
  assert {
    condition     = aws_lambda_function.this.source_code_hash == filebase64sha256(var.lambda_zip_path)
    error_message = "source_code_hash must come from the built zip"
  }
  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "PassThrough" && length(aws_iam_role_policy_attachment.lambda_xray) == 0 && aws_lambda_function.this.logging_config[0].log_format == "JSON"
    error_message = "no traces recorded (PassThrough, no X-Ray permission) and JSON logs by default"
  }
  assert {
    condition     = aws_lambda_function.this.logging_config[0].application_log_level == "INFO" && aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "INFO application logs and no reserved concurrency by default"
  }
  assert {
    condition = (
      output.athena_workgroup == aws_athena_workgroup.this[0].name &&
      output.athena_results_location == "s3://${aws_s3_bucket.logs[0].id}/athena-results/" &&
      aws_athena_workgroup.this[0].configuration[0].enforce_workgroup_configuration &&
      aws_athena_workgroup.this[0].configuration[0].result_configuration[0].encryption_configuration[0].encryption_option == "SSE_S3"
    )
    error_message = "the workgroup writes encrypted results to the log bucket, enforced for every client"
  }
  assert {
    condition = one([
      for r in aws_s3_bucket_lifecycle_configuration.logs[0].rule : r.expiration[0].days if r.id == "athena-results"
    ]) == 30
    error_message = "query results must expire"
  }

  # IAM: every statement names this deployment's resources; no "*" anywhere.
  assert {
    condition = alltrue(flatten([
      for doc in [data.aws_iam_policy_document.lambda.json, data.aws_iam_policy_document.firehose.json] : [
        for s in jsondecode(doc).Statement : [for r in flatten([s.Resource]) : r != "*" && !endswith(r, ":*:*")]
      ]
    ]))
    error_message = "IAM statements must not use * resources"
  }
  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.lambda.json).Statement : flatten([s.Resource]) if s.Sid == "DeliverToOwnStream"
    ]) == [aws_kinesis_firehose_delivery_stream.this.arn]
    error_message = "Firehose permissions must be scoped to this stream"
  }
  assert {
    condition = one([
      for s in jsondecode(data.aws_iam_policy_document.lambda.json).Statement : flatten([s.Resource]) if s.Sid == "ReadOwnCredentials"
    ]) == [aws_secretsmanager_secret.auth.arn]
    error_message = "Secrets Manager permissions must be scoped to this secret"
  }
  assert {
    condition = toset(one([
      for s in jsondecode(data.aws_iam_policy_document.lambda.json).Statement : flatten([s.Action]) if s.Sid == "DeliverToOwnStream"
    ])) == toset(["firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"])
    error_message = "the function may only PutRecordBatch and DescribeDeliveryStream"
  }
  assert {
    condition = toset(one([
      for s in jsondecode(data.aws_iam_policy_document.firehose.json).Statement : flatten([s.Resource]) if s.Sid == "WriteToLogBucket"
    ])) == toset([aws_s3_bucket.logs[0].arn, "${aws_s3_bucket.logs[0].arn}/*"])
    error_message = "Firehose may only write to the log bucket"
  }

  # Encryption and bucket hardening.
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.server_side_encryption[0].enabled && aws_kinesis_firehose_delivery_stream.this.server_side_encryption[0].key_type == "AWS_OWNED_CMK"
    error_message = "Firehose server-side encryption must be on"
  }
  assert {
    condition     = one([for r in aws_s3_bucket_server_side_encryption_configuration.logs[0].rule : r.apply_server_side_encryption_by_default[0].sse_algorithm]) == "AES256"
    error_message = "the log bucket must default to SSE-S3"
  }
  assert {
    condition     = aws_s3_bucket_public_access_block.logs[0].block_public_acls && aws_s3_bucket_public_access_block.logs[0].restrict_public_buckets
    error_message = "public access must be blocked"
  }
  assert {
    condition     = aws_s3_bucket_versioning.logs[0].versioning_configuration[0].status == "Enabled"
    error_message = "the log bucket must be versioned"
  }
  assert {
    condition     = one([for s in jsondecode(aws_s3_bucket_policy.logs[0].policy).Statement : s.Condition.Bool["aws:SecureTransport"] if s.Sid == "DenyInsecureTransport"]) == "false"
    error_message = "the bucket policy must deny requests without TLS"
  }
  assert {
    condition     = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].compression_format == "GZIP"
    error_message = "objects must be GZIP by default"
  }
  assert {
    condition     = startswith(aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].prefix, "logs/year=!{timestamp:yyyy}/month=")
    error_message = "the data prefix must be Hive-style"
  }

  # The password never reaches state or outputs: it is written through secret_string_wo.
  assert {
    condition     = aws_secretsmanager_secret_version.auth.secret_string == null || aws_secretsmanager_secret_version.auth.secret_string == ""
    error_message = "the secret value must not be stored in state"
  }
  assert {
    condition     = aws_secretsmanager_secret_version.auth.has_secret_string_wo
    error_message = "the secret must be written through the write-only argument"
  }
  assert {
    condition     = output.username == "stytch-logs-ingestion" && output.stytch_hostname == trimsuffix(trimprefix(aws_lambda_function_url.this.function_url, "https://"), "/")
    error_message = "outputs for Stytch: default username and the bare hostname"
  }
  assert {
    condition     = endswith(output.push_url, "/loki/api/v1/push") && !strcontains(output.push_url, "//loki")
    error_message = "push_url must end in /loki/api/v1/push"
  }
  assert {
    condition     = output.otlp_endpoint == "${trimsuffix(aws_lambda_function_url.this.function_url, "/")}/otlp"
    error_message = "otlp_endpoint is the function URL + /otlp (exporters append /v1/logs)"
  }
  assert {
    condition     = output.glue_table_name == "records" && output.glue_database_name == "tftest_loki_logs"
    error_message = "Athena table outputs"
  }
}

# --- found by review ---------------------------------------------------------------------

# The Athena results' lifecycle rule expires everything under their prefix after 30 days: a
# prefix that contains the log records would delete them.
run "rejects_athena_results_prefix_containing_the_log_prefix" {
  command = plan
  variables {
    s3_prefix_root        = "loki/logs/"
    athena_results_prefix = "loki/"
  }
  expect_failures = [var.athena_results_prefix]
}

run "rejects_athena_results_prefix_containing_the_error_prefix" {
  command = plan
  variables {
    athena_results_prefix = "err/"
    s3_error_prefix       = "err/ors/!{firehose:error-output-type}/"
  }
  expect_failures = [var.athena_results_prefix]
}

run "rejects_names_and_buckets_s3_reserves" {
  command = plan
  variables {
    name        = "xn--loki"
    bucket_name = "my-logs--ol-s3"
  }
  expect_failures = [var.name, var.bucket_name]
}

run "rejects_compression_the_athena_table_cannot_read" {
  command = plan
  variables {
    firehose_compression_format = "ZIP"
  }
  expect_failures = [var.firehose_compression_format]
}

run "rejects_an_error_prefix_with_an_unknown_firehose_expression" {
  command = plan
  variables {
    s3_error_prefix = "errors/!{firehose:error-output-type}/!{firehose:whatever}/"
  }
  expect_failures = [var.s3_error_prefix]
}

run "rejects_fractional_days_and_lengths" {
  command = plan
  variables {
    password_length                    = 30.5
    noncurrent_version_expiration_days = 1.5
  }
  expect_failures = [var.password_length, var.noncurrent_version_expiration_days]
}

run "the_lambda_role_needs_no_key_for_the_stream" {
  command = plan
  variables {
    firehose_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition     = coalesce(try(length(data.aws_iam_policy_document.kms_use["lambda"].statement), null), 0) == 0
    error_message = "Firehose encrypts with its own grant; the producer needs no KMS permission"
  }
}
