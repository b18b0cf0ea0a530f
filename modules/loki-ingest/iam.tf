# Least privilege, every statement scoped to this deployment's ARNs.

# ---------------------------------------------------------------------------------------
# Lambda
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "lambda_assume" {
  #parliament:skip=MALFORMED[neither Resource nor NotResource]:A role trust policy is the role's own resource-based policy: it names a Principal and has no Resource (IAM User Guide, reference_policies_elements_principal); parliament reads every document as an identity policy.
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "lambda" {
  name               = "${var.name}-lambda"
  description        = "Execution role of the ${var.name} Loki push function"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "lambda" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use["lambda"].json]

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this["lambda"].arn}:*"]
  }

  statement {
    sid       = "DeliverToOwnStream"
    actions   = ["firehose:PutRecordBatch", "firehose:DescribeDeliveryStream"]
    resources = [aws_kinesis_firehose_delivery_stream.this.arn]
  }

  statement {
    sid       = "ReadOwnCredentials"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.auth.arn]
  }
}

resource "aws_iam_role_policy" "lambda" {
  name   = "loki-ingest"
  role   = aws_iam_role.lambda.id
  policy = data.aws_iam_policy_document.lambda.json
}

# X-Ray's write APIs have no resource-level permissions; the AWS managed policy grants
# exactly xray:PutTraceSegments/PutTelemetryRecords/GetSampling* and nothing else.
resource "aws_iam_role_policy_attachment" "lambda_xray" {
  count      = var.tracing_mode == "Active" || var.tracing_sdk_enabled ? 1 : 0
  role       = aws_iam_role.lambda.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSXRayDaemonWriteAccess"
}

# ---------------------------------------------------------------------------------------
# Firehose
# ---------------------------------------------------------------------------------------

data "aws_iam_policy_document" "firehose_assume" {
  #parliament:skip=MALFORMED[neither Resource nor NotResource]:A role trust policy is the role's own resource-based policy: it names a Principal and has no Resource (IAM User Guide, reference_policies_elements_principal); parliament reads every document as an identity policy.
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["firehose.amazonaws.com"]
    }
    # Confused-deputy protection recommended by the Firehose guide.
    condition {
      test     = "StringEquals"
      variable = "sts:ExternalId"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "firehose" {
  name               = "${var.name}-firehose"
  description        = "Role Firehose ${local.stream_name} assumes to write to S3"
  assume_role_policy = data.aws_iam_policy_document.firehose_assume.json
  tags               = local.tags
}

data "aws_iam_policy_document" "firehose" {
  source_policy_documents = [data.aws_iam_policy_document.kms_use["firehose"].json]

  statement {
    sid = "WriteToLogBucket"
    actions = [
      "s3:AbortMultipartUpload",
      "s3:GetBucketLocation",
      "s3:GetObject",
      "s3:ListBucket",
      "s3:ListBucketMultipartUploads",
      "s3:PutObject",
    ]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]
  }

  statement {
    sid       = "LogDeliveryErrors"
    actions   = ["logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this["firehose"].arn}:log-stream:${aws_cloudwatch_log_stream.firehose.name}"]
  }
}

resource "aws_iam_role_policy" "firehose" {
  name   = "loki-ingest-delivery"
  role   = aws_iam_role.firehose.id
  policy = data.aws_iam_policy_document.firehose.json
}

# ---------------------------------------------------------------------------------------
# Customer managed keys (one statement per key a role uses, merged into its policy above)
# ---------------------------------------------------------------------------------------

locals {
  # With an S3 Bucket Key (s3.tf enables one with SSE-KMS) S3 passes the *bucket* ARN as
  # encryption context; objects encrypted without one (a bucket this module does not manage,
  # or a writer that turns the key off per request) carry the *object* ARN. A condition on
  # "<bucket>/*" alone denies every bucket-key delivery, so allow both, for this bucket only.
  # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html#bucket-key-changes
  s3_encryption_context_arns = [local.bucket_arn, "${local.bucket_arn}/*"]

  # Every key is usable only through the service that owns the data (kms:ViaService).
  kms_use = {
    # No statement for the stream's own key: Firehose encrypts with a grant it creates on the
    # key, so a producer calling PutRecordBatch needs no KMS permission of its own
    # (https://docs.aws.amazon.com/firehose/latest/APIReference/API_DeliveryStreamEncryptionConfigurationInput.html).
    lambda = [for grant in [
      { sid = "DecryptCredentials", key = var.secret_kms_key_arn, actions = ["kms:Decrypt"], service = "secretsmanager", s3_arns = [] },
    ] : grant if grant.key != null]
    firehose = [for grant in [
      { sid = "EncryptObjects", key = var.s3_kms_key_arn, actions = ["kms:Decrypt", "kms:GenerateDataKey"], service = "s3", s3_arns = local.s3_encryption_context_arns },
    ] : grant if grant.key != null]
  }
}

data "aws_iam_policy_document" "kms_use" {
  for_each = local.kms_use

  dynamic "statement" {
    for_each = each.value
    content {
      sid       = statement.value.sid
      actions   = statement.value.actions
      resources = [statement.value.key]
      condition {
        test     = "StringEquals"
        variable = "kms:ViaService"
        values   = ["${statement.value.service}.${local.region}.${data.aws_partition.current.dns_suffix}"]
      }
      dynamic "condition" {
        for_each = length(statement.value.s3_arns) > 0 ? [statement.value.s3_arns] : []
        content {
          test     = "StringLike"
          variable = "kms:EncryptionContext:aws:s3:arn"
          values   = condition.value
        }
      }
    }
  }
}
