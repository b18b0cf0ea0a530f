# The S3 bucket environments/prod keeps its Terraform state in. Run once per account and
# Region, before the first `make init ENV=prod` (`make bootstrap` does both steps).
# The S3 backend's requirements: https://developer.hashicorp.com/terraform/language/backend/s3

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  bucket_name = coalesce(var.bucket_name, "loki-ingest-tfstate-${data.aws_caller_identity.current.account_id}-${var.region}")
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Access logging for one state object would need a second bucket; CloudTrail records who reads it.
  #checkov:skip=CKV_AWS_144:Cross-region replication is the account owner's choice; versioning already keeps every past state.
  #checkov:skip=CKV2_AWS_62:Nothing consumes events of the state object.
  #checkov:skip=CKV_AWS_145:SSE-S3 is enough: the state holds ARNs and names, never the password (write-only in the module).
  #checkov:skip=CKV2_AWS_61:No lifecycle rule: every old state version is the rollback history, and they are kilobytes each.
  bucket = local.bucket_name

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# HashiCorp recommends versioning the state bucket, to recover from mistakes.
resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

data "aws_iam_policy_document" "state" {
  count = var.enforce_tls ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.state.arn, "${aws_s3_bucket.state.arn}/*"]
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

resource "aws_s3_bucket_policy" "state" {
  count  = var.enforce_tls ? 1 : 0
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state[0].json

  depends_on = [aws_s3_bucket_public_access_block.state]
}
