# The scheduled canary (off by default; canary_schedule_expression turns it on): what
# `make verify` does, inside AWS, on an EventBridge schedule. A Lambda function running the same
# package (loki_canary.handler.handler) pushes one marked line through the function URL with the
# real credentials, waits for it in S3 (as long as the freshness alarm calls on time), checks the stored
# record and writes CanarySuccess (1 or 0) in Embedded Metric Format (CanaryLatency beside it). Its
# alarm fires when a run fails or none reported, so a deployment without traffic is checked too
# (Firehose's delivery metrics only exist while it delivers).

locals {
  canary_enabled = var.canary_schedule_expression != null
  canary_name    = "${var.name}-canary"

  # rate(N unit): the schedule's interval in seconds.
  canary_rate     = local.canary_enabled ? regex("^rate\\(([0-9]+) (minute|hour|day)s?\\)$", var.canary_schedule_expression) : ["0", "minute"]
  canary_interval = tonumber(local.canary_rate[0]) * lookup({ minute = 60, hour = 3600, day = 86400 }, local.canary_rate[1])
  # One invocation waits as long as the freshness alarm calls a delivery on time (the buffer
  # interval + 300 s unless set; loki_canary.handler.MARGIN_S), and reports; Lambda stops at 900 s.
  # Above 870 s of wait the invocation's end clamps it (canary.handler keeps 15 s to report).
  canary_timeout = min(900, ceil(local.freshness_threshold) + 30)
  # The alarm looks at the worst run of a period two schedule intervals long (at least 15
  # minutes, at most the 1 day CloudWatch allows): one late run does not page, a failed or
  # missing one does.
  canary_alarm_period = min(86400, max(900, 2 * local.canary_interval))
}

resource "aws_cloudwatch_log_group" "canary" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable, as for the function's log group (logs.tf).
  #checkov:skip=CKV_AWS_158:KMS for logs is the optional logs_kms_key_arn variable (prod sets it); the canary logs its own results only.
  count = local.canary_enabled ? 1 : 0

  name              = "/aws/lambda/${local.canary_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = local.tags
}

data "aws_iam_policy_document" "canary_assume" {
  #parliament:skip=MALFORMED[neither Resource nor NotResource]:A role trust policy is the role's own resource-based policy: it names a Principal and has no Resource (IAM User Guide, reference_policies_elements_principal); parliament reads every document as an identity policy.
  count = local.canary_enabled ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "canary" {
  count = local.canary_enabled ? 1 : 0

  name               = "${var.name}-canary"
  description        = "Execution role of the ${var.name} canary: reads the credentials and the log bucket"
  assume_role_policy = data.aws_iam_policy_document.canary_assume[0].json
  tags               = local.tags
}

# Read-only, and only what one run touches: the secret, and the objects under the log prefix.
data "aws_iam_policy_document" "canary" {
  count = local.canary_enabled ? 1 : 0

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.canary[0].arn}:*"]
  }

  statement {
    sid       = "ReadCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.auth.arn]
  }

  statement {
    sid       = "ListLogObjects"
    actions   = ["s3:ListBucket"]
    resources = [local.bucket_arn]
    condition {
      test     = "StringLike"
      variable = "s3:prefix"
      values   = ["${var.s3_prefix_root}*"]
    }
  }

  statement {
    sid       = "ReadLogObjects"
    actions   = ["s3:GetObject"]
    resources = ["${local.bucket_arn}/${var.s3_prefix_root}*"]
  }

  # Decrypt only, through the service that owns the data (as iam.tf's kms_use).
  dynamic "statement" {
    for_each = [for grant in [
      { sid = "DecryptLogObjects", key = var.s3_kms_key_arn, service = "s3" },
      { sid = "DecryptCredentials", key = var.secret_kms_key_arn, service = "secretsmanager" },
    ] : grant if grant.key != null]
    content {
      sid       = statement.value.sid
      actions   = ["kms:Decrypt"]
      resources = [statement.value.key]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["${statement.value.service}.${local.region}.${data.aws_partition.current.dns_suffix}"]
      }
    }
  }
}

resource "aws_iam_role_policy" "canary" {
  count = local.canary_enabled ? 1 : 0

  name   = "loki-ingest-canary"
  role   = aws_iam_role.canary[0].id
  policy = data.aws_iam_policy_document.canary[0].json
}

# As for the push function (iam.tf): X-Ray's write APIs have no resource-level permissions.
resource "aws_iam_role_policy_attachment" "canary_xray" {
  count      = local.canary_enabled && var.tracing_mode == "Active" ? 1 : 0
  role       = aws_iam_role.canary[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

resource "aws_lambda_function" "canary" {
  #checkov:skip=CKV_AWS_116:A failed run is reported by its own CanarySuccess=0 line and the alarm on it; a DLQ would only hold the schedule's empty events.
  #checkov:skip=CKV_AWS_117:The canary only calls the public function URL and AWS APIs; a VPC would add NAT or endpoint cost and nothing to protect.
  #checkov:skip=CKV_AWS_272:Code signing is the optional code_signing_config_arn variable, as for the push function.
  #checkov:skip=CKV_AWS_173:Environment holds only names, ARNs and the push URL (the password is read from Secrets Manager); a CMK is the optional lambda_kms_key_arn variable.
  #checkov:skip=CKV_AWS_115:One run per schedule interval; reserving concurrency needs account quota (see reserved_concurrency) and buys nothing here.
  count = local.canary_enabled ? 1 : 0

  function_name = local.canary_name
  description   = "Pushes one marked line to ${local.function_name} and proves it reaches S3 (loki_canary)"
  role          = aws_iam_role.canary[0].arn

  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  handler          = "loki_canary.handler.handler"
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  # It mostly waits (for the buffer, then polls S3): the least memory that holds boto3 is the
  # cheapest run (a run lasts the buffer interval, billed per GB-second).
  memory_size = 128
  timeout     = local.canary_timeout

  kms_key_arn             = var.lambda_kms_key_arn
  code_signing_config_arn = var.code_signing_config_arn

  environment {
    variables = {
      CANARY_PUSH_URL                = "${trimsuffix(aws_lambda_function_url.this.function_url, "/")}/loki/api/v1/push"
      CANARY_SECRET_ARN              = aws_secretsmanager_secret.auth.arn
      CANARY_BUCKET                  = local.bucket_id
      CANARY_S3_PREFIX               = local.s3_prefix
      CANARY_BUFFER_INTERVAL_SECONDS = tostring(var.firehose_buffering_interval_seconds)
      CANARY_WAIT_SECONDS            = tostring(local.freshness_threshold)
      CANARY_FUNCTION_NAME           = local.function_name
    }
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.canary[0].name
    application_log_level = "INFO"
    system_log_level      = "INFO"
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.canary, aws_iam_role_policy_attachment.canary_xray]
}

# EventBridge invokes asynchronously, and Lambda retries a failed asynchronous run twice: each
# retry would push another line. A failed run reports CanarySuccess 0 instead (lambda/loki_canary).
resource "aws_lambda_function_event_invoke_config" "canary" {
  count = local.canary_enabled ? 1 : 0

  function_name          = aws_lambda_function.canary[0].function_name
  maximum_retry_attempts = 0
}

resource "aws_cloudwatch_event_rule" "canary" {
  count = local.canary_enabled ? 1 : 0

  name                = local.canary_name
  description         = "Runs the ${var.name} canary"
  schedule_expression = var.canary_schedule_expression
  tags                = local.tags
}

resource "aws_cloudwatch_event_target" "canary" {
  count = local.canary_enabled ? 1 : 0

  rule = aws_cloudwatch_event_rule.canary[0].name
  arn  = aws_lambda_function.canary[0].arn
}

resource "aws_lambda_permission" "canary" {
  count = local.canary_enabled ? 1 : 0

  statement_id  = "AllowScheduledCanary"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.canary[0].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.canary[0].arn
}

resource "aws_cloudwatch_metric_alarm" "canary" {
  count = local.canary_enabled && var.alarms_enabled ? 1 : 0

  alarm_name          = "${var.name}-canary"
  alarm_description   = "The scheduled canary's line did not reach S3 intact (or no run reported) within ${local.canary_alarm_period} s: delivery is broken end to end, or the endpoint refuses the real credentials. Its log group ${aws_cloudwatch_log_group.canary[0].name} says which; `make verify` repeats the check."
  namespace           = local.metrics_namespace
  metric_name         = "CanarySuccess"
  dimensions          = local.function_dimensions
  statistic           = "Minimum"
  period              = local.canary_alarm_period
  evaluation_periods  = 1
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  # No report is a failure: the canary did not run, or died before it could say. A new
  # deployment therefore alarms once, until its first run (docs/monitoring.md).
  treat_missing_data = "breaching"
  alarm_actions      = local.alarm_actions
  ok_actions         = local.alarm_actions
  tags               = local.tags
}
