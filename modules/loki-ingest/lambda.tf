resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Function URL invocations are synchronous; a DLQ only applies to asynchronous invokes.
  #checkov:skip=CKV_AWS_117:The function only calls public AWS APIs; a VPC would add NAT or endpoint cost and nothing to protect.
  #checkov:skip=CKV_AWS_272:Code signing is the optional code_signing_config_arn variable.
  #checkov:skip=CKV_AWS_173:Environment holds only names and ARNs (the password is in Secrets Manager); a CMK is the optional lambda_kms_key_arn variable.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is the opt-in reserved_concurrency variable; reserving fails unless the account quota leaves 100 unreserved, and new accounts often have 10.
  function_name = local.function_name
  description   = "Loki push endpoint (function URL) delivering to Firehose ${local.stream_name}"
  role          = aws_iam_role.lambda.arn

  filename         = var.lambda_zip_path
  source_code_hash = filebase64sha256(var.lambda_zip_path)
  handler          = "loki_ingest.handler.handler"
  runtime          = var.lambda_runtime
  architectures    = [var.lambda_architecture]
  memory_size      = var.lambda_memory_mb
  timeout          = var.lambda_timeout_seconds

  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency
  kms_key_arn                    = var.lambda_kms_key_arn
  code_signing_config_arn        = var.code_signing_config_arn

  environment {
    # Every handler setting is an attribute of handler_settings named like its variable;
    # unset ones keep the handler's defaults (lambda/loki_ingest/settings.py).
    variables = merge(
      { for name, value in var.handler_settings : upper(name) => tostring(value) if value != null },
      {
        SINK                         = "firehose"
        FIREHOSE_DELIVERYSTREAM_NAME = aws_kinesis_firehose_delivery_stream.this.name
        AUTH_SECRET_ARN              = aws_secretsmanager_secret.auth.arn
        LOG_LEVEL                    = var.log_level
        TRACING_ENABLED              = tostring(var.tracing_sdk_enabled)
      },
      var.extra_environment,
    )
  }

  # With JSON logs Lambda filters application lines by their "level" field and drops anything
  # below application_log_level, which defaults to INFO: it must follow log_level, or DEBUG
  # lines never reach CloudWatch.
  # https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html
  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this["lambda"].name
    application_log_level = local.lambda_application_log_level
    system_log_level      = var.system_log_level # WARN by default: no START/REPORT line per invocation
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags = local.tags

  # Active tracing makes CreateFunction check that the role may call xray:PutTraceSegments
  # ("The provided execution role does not have permissions to call PutTraceSegments on
  # XRAY"), so the managed-policy attachment must exist first.
  depends_on = [aws_iam_role_policy.lambda, aws_iam_role_policy_attachment.lambda_xray]
}

# Auth is HTTP Basic, checked in the handler against Secrets Manager: Loki clients
# (Stytch, Promtail, Alloy) cannot sign requests with SigV4.
resource "aws_lambda_function_url" "this" {
  #checkov:skip=CKV_AWS_258:Loki clients send HTTP Basic, not SigV4; credentials are verified in the handler against Secrets Manager.
  function_name      = aws_lambda_function.this.function_name
  authorization_type = "NONE"
  invoke_mode        = "BUFFERED"
}

# An AuthType NONE URL needs two statements in the function's resource policy
# (https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html): lambda:InvokeFunctionUrl
# with lambda:FunctionUrlAuthType = NONE (this one), and since October 2025
# lambda:InvokeFunction with lambda:InvokedViaFunctionUrl = true (the stack below).
resource "aws_lambda_permission" "function_url" {
  #checkov:skip=CKV_AWS_301:A public function URL needs principal "*"; the statement is limited to AuthType NONE URL invokes and Basic auth is enforced in code.
  statement_id           = "AllowPublicFunctionUrlInvoke"
  action                 = "lambda:InvokeFunctionUrl"
  function_name          = aws_lambda_function.this.function_name
  principal              = "*"
  function_url_auth_type = "NONE"
}

# The lambda:InvokeFunction statement, limited to invokes through the function URL. The
# provider's aws_lambda_permission can only express that condition from hashicorp/aws 6.28
# (invoked_via_function_url), and this module supports >= 5.100; CloudFormation's
# AWS::Lambda::Permission has InvokedViaFunctionUrl on every provider version. So a stack
# of that one resource carries it: Terraform creates, reads, updates and destroys the stack,
# and CloudFormation adds and removes the statement with it. Why not a provisioner or the
# provider's own statement: docs/aws-deployment.md, "Function URLs need two permission statements".
#
# The logical ID ends with the URL's id: when the function (and so its URL and every
# statement) is re-created under the same name, the next apply re-creates the URL with a new
# id, and CloudFormation adds a new statement before it deletes the stale one.
resource "aws_cloudformation_stack" "function_url_invoke" {
  #checkov:skip=CKV_AWS_124:A one-resource stack that Terraform drives; Terraform reports each operation's outcome (the provider reads the stack events on failure), so an SNS topic for stack events would tell nobody anything new.
  #parliament:skip=UNKNOWN_CONDITION_FOR_ACTION[lambda:InvokedViaFunctionUrl]:Lambda added this condition key in October 2025, after the IAM definitions parliament 1.6.4 ships (April 2025); urls-auth.html documents it.
  name = local.function_url_invoke_stack_name
  template_body = jsonencode({
    AWSTemplateFormatVersion = "2010-09-09"
    Description              = "lambda:InvokeFunction for the function URL of ${local.function_name} (Terraform module loki-ingest)"
    Resources = {
      "UrlInvoke${aws_lambda_function_url.this.url_id}" = {
        Type = "AWS::Lambda::Permission"
        Properties = {
          Action                = "lambda:InvokeFunction"
          FunctionName          = aws_lambda_function.this.function_name
          Principal             = "*"
          InvokedViaFunctionUrl = true
        }
      }
    }
  })
  tags = local.tags
}

locals {
  # A stack name starts with a letter; var.name may start with a digit.
  function_url_invoke_stack_name = "${can(regex("^[0-9]", var.name)) ? "lambda-" : ""}${var.name}-function-url-invoke"

  # Lambda's level names (API LoggingConfig.ApplicationLogLevel) differ from Python's in one place.
  lambda_application_log_level = lookup({ WARNING = "WARN" }, var.log_level, var.log_level)
}
