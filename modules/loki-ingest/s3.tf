locals {
  bucket_id  = var.create_bucket ? aws_s3_bucket.logs[0].id : var.existing_bucket_name
  bucket_arn = "arn:${local.partition}:s3:::${local.bucket_id}"

  sse_algorithm = var.s3_kms_key_arn == null ? "AES256" : "aws:kms"

  # Static keys, so for_each is known at plan time; ARNs follow the bucket names.
  created_bucket_arns = merge(
    var.create_bucket ? { logs = "arn:${local.partition}:s3:::${local.bucket_name}" } : {},
    var.create_bucket && var.enable_access_logging ? { access_logs = "arn:${local.partition}:s3:::${local.access_log_bucket_name}" } : {},
  )
}

# ---------------------------------------------------------------------------------------
# Log bucket
# ---------------------------------------------------------------------------------------

resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_144:Cross-region replication is a deployment choice for the bucket owner, not a default for a log sink.
  #checkov:skip=CKV_AWS_145:SSE-S3 by default; SSE-KMS is the optional s3_kms_key_arn variable.
  #checkov:skip=CKV2_AWS_62:Nothing consumes object events; Athena reads the bucket directly.
  #checkov:skip=CKV_AWS_18:Server access logging is the enable_access_logging variable (on by default, see aws_s3_bucket_logging.logs).
  count = var.create_bucket ? 1 : 0

  bucket        = local.bucket_name
  force_destroy = var.force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  count                   = var.create_bucket ? 1 : 0
  bucket                  = aws_s3_bucket.logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "logs" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = local.sse_algorithm
      kms_master_key_id = var.s3_kms_key_arn
    }
    bucket_key_enabled = var.s3_kms_key_arn != null
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  count  = var.create_bucket ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id

  rule {
    id     = "log-objects"
    status = "Enabled"
    filter {
      prefix = ""
    }

    dynamic "transition" {
      for_each = var.transition_to_ia_days == null ? [] : [var.transition_to_ia_days]
      content {
        days          = transition.value
        storage_class = "STANDARD_IA"
      }
    }

    dynamic "expiration" {
      for_each = var.expiration_days == null ? [] : [var.expiration_days]
      content {
        days = expiration.value
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  # Athena query results (athena.tf) are kept briefly. The rule above matches them too; on
  # a day both apply, S3 prefers the deletion ("Permanent deletion takes precedence over
  # transition", S3 User Guide, lifecycle-conflicts).
  dynamic "rule" {
    for_each = var.enable_athena ? [var.athena_results_prefix] : []
    content {
      id     = "athena-results"
      status = "Enabled"
      filter {
        prefix = rule.value
      }
      expiration {
        days = var.athena_results_retention_days
      }
      noncurrent_version_expiration {
        noncurrent_days = 1
      }
      abort_incomplete_multipart_upload {
        days_after_initiation = var.abort_incomplete_multipart_upload_days
      }
    }
  }

  depends_on = [aws_s3_bucket_versioning.logs]
}

# TLS-only policy statement, one document per bucket this module creates.
data "aws_iam_policy_document" "deny_insecure_transport" {
  for_each = var.enforce_tls ? local.created_bucket_arns : {}

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  count  = var.create_bucket && var.enforce_tls ? 1 : 0
  bucket = aws_s3_bucket.logs[0].id
  policy = data.aws_iam_policy_document.deny_insecure_transport["logs"].json

  depends_on = [aws_s3_bucket_public_access_block.logs]
}

resource "aws_s3_bucket_logging" "logs" {
  count         = var.create_bucket && var.enable_access_logging ? 1 : 0
  bucket        = aws_s3_bucket.logs[0].id
  target_bucket = aws_s3_bucket.access_logs[0].id
  target_prefix = "s3-access/"

  # S3 checks that the logging service may write to the target before accepting this.
  depends_on = [aws_s3_bucket_policy.access_logs]
}

# ---------------------------------------------------------------------------------------
# Access-log bucket (server access logs only support SSE-S3 destinations)
# ---------------------------------------------------------------------------------------

resource "aws_s3_bucket" "access_logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log destination; logging it to itself would loop.
  #checkov:skip=CKV_AWS_144:Cross-region replication of access logs is out of scope for a log sink.
  #checkov:skip=CKV_AWS_145:S3 server access logging only delivers to SSE-S3 buckets.
  #checkov:skip=CKV2_AWS_62:Nothing consumes access-log object events.
  count = var.create_bucket && var.enable_access_logging ? 1 : 0

  bucket        = local.access_log_bucket_name
  force_destroy = var.force_destroy
  tags          = local.tags
}

resource "aws_s3_bucket_ownership_controls" "access_logs" {
  count  = var.create_bucket && var.enable_access_logging ? 1 : 0
  bucket = aws_s3_bucket.access_logs[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "access_logs" {
  count                   = var.create_bucket && var.enable_access_logging ? 1 : 0
  bucket                  = aws_s3_bucket.access_logs[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "access_logs" {
  count  = var.create_bucket && var.enable_access_logging ? 1 : 0
  bucket = aws_s3_bucket.access_logs[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "access_logs" {
  count  = var.create_bucket && var.enable_access_logging ? 1 : 0
  bucket = aws_s3_bucket.access_logs[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "access_logs" {
  count  = var.create_bucket && var.enable_access_logging ? 1 : 0
  bucket = aws_s3_bucket.access_logs[0].id

  rule {
    id     = "access-logs"
    status = "Enabled"
    filter {
      prefix = ""
    }
    expiration {
      days = var.access_log_retention_days
    }
    noncurrent_version_expiration {
      noncurrent_days = 1
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = var.abort_incomplete_multipart_upload_days
    }
  }

  depends_on = [aws_s3_bucket_versioning.access_logs]
}

data "aws_iam_policy_document" "access_logs_bucket" {
  count = var.create_bucket && var.enable_access_logging ? 1 : 0

  statement {
    sid       = "AllowS3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access_logs[0].arn}/s3-access/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = [aws_s3_bucket.logs[0].arn]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  # The TLS-only statement is appended after the Allow (override_policy_documents keeps
  # this document's statements first). Order does not matter to AWS, but moto's
  # PutBucketLogging check crashes on a "*" principal before it finds the Allow.
  override_policy_documents = var.enforce_tls ? [data.aws_iam_policy_document.deny_insecure_transport["access_logs"].json] : []
}

resource "aws_s3_bucket_policy" "access_logs" {
  count  = var.create_bucket && var.enable_access_logging ? 1 : 0
  bucket = aws_s3_bucket.access_logs[0].id
  policy = data.aws_iam_policy_document.access_logs_bucket[0].json

  depends_on = [aws_s3_bucket_public_access_block.access_logs]
}
