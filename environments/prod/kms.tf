# One customer managed key for everything at rest in this deployment: the log bucket,
# Firehose, the credentials secret, the function's environment, the log groups and the
# alarm topic.

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"
  # The module names its log groups after var.name (modules/loki-ingest/logs.tf, canary.tf);
  # the key may only encrypt those. var.region is the provider's region (providers.tf).
  log_group_arns = [
    for name in ["/aws/lambda/${var.name}", "/aws/kinesisfirehose/${var.name}", "/aws/lambda/${var.name}-canary"] :
    "arn:${data.aws_partition.current.partition}:logs:${var.region}:${data.aws_caller_identity.current.account_id}:log-group:${name}"
  ]
}

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:In a key policy, Resource "*" means this key only; account administrators keep control of it.
  #checkov:skip=CKV_AWS_111:In a key policy, Resource "*" means this key only.
  #checkov:skip=CKV_AWS_356:In a key policy, Resource "*" means this key only (a key policy cannot name its own ARN).
  #parliament:skip=RESOURCE_STAR:In a key policy Resource "*" means this key; a key policy cannot name its own ARN (KMS key policy format).
  #parliament:skip=PERMISSIONS_MANAGEMENT_ACTIONS[kms:putkeypolicy]:AccountAdministration is KMS's default key policy statement: it lets IAM policies of this account govern the key, without which nobody could administer it.
  #parliament:skip=UNKNOWN_CONDITION_FOR_ACTION[for action kms:Describe]:CloudWatchLogs is the statement CloudWatch Logs documents (encrypt-log-data-kms.html), kms:Describe* included; DescribeKey carries no encryption context, so this statement never grants it, as in AWS's example.
  statement {
    sid       = "AccountAdministration"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = [local.account_arn]
    }
  }

  statement {
    sid       = "CloudWatchLogs"
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${var.region}.${data.aws_partition.current.dns_suffix}"]
    }
    # CloudWatch Logs passes the log group's ARN as encryption context (a String key for
    # KMS, so StringEquals rather than the ArnLike of the CloudWatch example).
    # https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html
    condition {
      test     = "StringEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = local.log_group_arns
    }
  }

  # CloudWatch encrypts alarm notifications for the alarm topic (SNS server-side encryption)
  # with this key: it needs GenerateDataKey and Decrypt, or alarms fire and nobody is told
  # (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
  # No condition, as in the SNS guide's statement: whether CloudWatch passes aws:SourceAccount
  # to KMS is not in its guides (for EventBridge AWS says such keys are absent), and a
  # condition on a key that is not sent drops every notification silently. Only this account
  # can publish to the topic (its default access policy).
  statement {
    sid       = "CloudWatchAlarmNotifications"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "${var.name}: logs at rest"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}
