data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # The Region is read from an ARN the provider returned, not from data "aws_region": its
  # `name` is deprecated in hashicorp/aws 6.0 and `id` in 6.47, while `region` does not
  # exist before 6.0, so no attribute of it works without warnings across >= 5.100, < 7.0.
  region = provider::aws::arn_parse(aws_cloudwatch_log_group.this["lambda"].arn).region

  # One rule for every *_kms_key_arn variable (Terraform >= 1.9 validations may read locals).
  kms_key_arn_regex = "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$"

  tags = merge({ "app" = "loki-ingest", "loki-ingest:name" = var.name }, var.tags)

  bucket_name            = coalesce(var.bucket_name, "${var.name}-${local.account_id}")
  access_log_bucket_name = "${local.bucket_name}-access-logs"

  # Hive-style partitions on Firehose's arrival time (UTC); Athena projects them.
  s3_prefix = "${var.s3_prefix_root}year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"

  secret_name   = coalesce(var.secret_name, "${var.name}/basic-auth")
  function_name = var.name
  stream_name   = var.name
}
