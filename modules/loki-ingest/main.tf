data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  tags = merge({ "app" = "loki-ingest", "loki-ingest:name" = var.name }, var.tags)

  bucket_name            = coalesce(var.bucket_name, "${var.name}-${local.account_id}")
  access_log_bucket_name = "${local.bucket_name}-access-logs"

  # Hive-style partitions on Firehose's arrival time (UTC); Athena projects them.
  s3_prefix = "${var.s3_prefix_root}year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"

  secret_name   = coalesce(var.secret_name, "${var.name}/basic-auth")
  function_name = var.name
  stream_name   = var.name
}
