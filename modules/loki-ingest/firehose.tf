resource "aws_cloudwatch_log_stream" "firehose" {
  name           = "DestinationDelivery"
  log_group_name = aws_cloudwatch_log_group.this["firehose"].name
}

resource "aws_kinesis_firehose_delivery_stream" "this" {
  #checkov:skip=CKV_AWS_241:Server-side encryption is always on; a customer managed key is the optional firehose_kms_key_arn variable.
  name        = local.stream_name
  destination = "extended_s3"

  server_side_encryption {
    enabled  = true
    key_type = var.firehose_kms_key_arn == null ? "AWS_OWNED_CMK" : "CUSTOMER_MANAGED_CMK"
    key_arn  = var.firehose_kms_key_arn
  }

  extended_s3_configuration {
    role_arn   = aws_iam_role.firehose.arn
    bucket_arn = local.bucket_arn

    # The handler packs many NDJSON lines into each record (Firehose bills records in
    # 5 KB steps); Firehose concatenates records as-is, so objects stay NDJSON.
    prefix              = local.s3_prefix
    error_output_prefix = var.s3_error_prefix
    custom_time_zone    = "UTC"
    file_extension      = local.file_extension

    buffering_size     = var.firehose_buffering_size_mb
    buffering_interval = var.firehose_buffering_interval_seconds
    compression_format = var.firehose_compression_format
    kms_key_arn        = var.s3_kms_key_arn

    cloudwatch_logging_options {
      enabled         = true
      log_group_name  = aws_cloudwatch_log_group.this["firehose"].name
      log_stream_name = aws_cloudwatch_log_stream.firehose.name
    }
  }

  tags = local.tags

  depends_on = [aws_iam_role_policy.firehose]
}

locals {
  # Athena picks the decompressor from the extension.
  file_extension = lookup({ GZIP = ".json.gz", UNCOMPRESSED = ".json" }, var.firehose_compression_format, null)
}
