# CloudWatch log groups: the function's request logs and Firehose's delivery errors. One
# resource with an instance each, because both take the same retention, key and tags.

locals {
  log_groups = {
    lambda   = "/aws/lambda/${local.function_name}"
    firehose = "/aws/kinesisfirehose/${local.stream_name}"
  }
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is the log_retention_days variable (default 365); dev keeps 14 days by choice.
  #checkov:skip=CKV_AWS_158:KMS for logs is the optional logs_kms_key_arn variable (prod sets it); the logs hold request metadata and delivery errors, never payloads or credentials.
  for_each = local.log_groups

  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = var.logs_kms_key_arn
  tags              = local.tags
}

# Deployments made before the two log groups became one resource keep their log groups.
moved {
  from = aws_cloudwatch_log_group.lambda
  to   = aws_cloudwatch_log_group.this["lambda"]
}

moved {
  from = aws_cloudwatch_log_group.firehose
  to   = aws_cloudwatch_log_group.this["firehose"]
}
