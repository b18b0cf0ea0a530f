# Optional Athena access: one table over the NDJSON records, partitioned by the
# year=/month=/day=/hour= prefix with partition projection (no crawlers, no MSCK REPAIR),
# and a workgroup to run the queries in.

locals {
  glue_database_name      = coalesce(var.glue_database_name, "${replace(var.name, "-", "_")}_logs")
  data_location           = "s3://${local.bucket_id}/${var.s3_prefix_root}"
  athena_results_location = "s3://${local.bucket_id}/${var.athena_results_prefix}"
}

# Athena refuses to run a query without a result location ("No output location provided"),
# and a fresh account has none configured for the primary workgroup. This workgroup sets
# one, under a prefix of the log bucket, so it inherits the bucket's encryption, TLS-only
# policy and access logging; s3.tf expires the results.
# https://docs.aws.amazon.com/athena/latest/ug/query-results-specify-location.html
resource "aws_athena_workgroup" "this" {
  count         = var.enable_athena ? 1 : 0
  name          = var.name
  description   = "Queries over the logs of the ${var.name} Loki push endpoint"
  force_destroy = var.force_destroy

  configuration {
    # Clients cannot point results elsewhere or turn their encryption off.
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true

    result_configuration {
      output_location = local.athena_results_location
      encryption_configuration {
        encryption_option = var.s3_kms_key_arn == null ? "SSE_S3" : "SSE_KMS"
        kms_key_arn       = var.s3_kms_key_arn
      }
    }
  }

  tags = local.tags
}

resource "aws_glue_catalog_database" "this" {
  count       = var.enable_athena ? 1 : 0
  name        = local.glue_database_name
  description = "Logs delivered by the ${var.name} Loki push endpoint"
  tags        = local.tags
}

resource "aws_glue_catalog_table" "records" {
  count         = var.enable_athena ? 1 : 0
  name          = "records"
  database_name = aws_glue_catalog_database.this[0].name
  description   = "One row per pushed log entry (NDJSON written by Firehose)"
  table_type    = "EXTERNAL_TABLE"

  parameters = {
    "EXTERNAL"                  = "TRUE"
    "classification"            = "json"
    "projection.enabled"        = "true"
    "projection.year.type"      = "integer"
    "projection.year.range"     = "${var.athena_projection_start_year},2100"
    "projection.month.type"     = "integer"
    "projection.month.range"    = "1,12"
    "projection.month.digits"   = "2"
    "projection.day.type"       = "integer"
    "projection.day.range"      = "1,31"
    "projection.day.digits"     = "2"
    "projection.hour.type"      = "integer"
    "projection.hour.range"     = "0,23"
    "projection.hour.digits"    = "2"
    "storage.location.template" = "${local.data_location}year=$${year}/month=$${month}/day=$${day}/hour=$${hour}/"
  }

  partition_keys {
    name = "year"
    type = "int"
  }
  partition_keys {
    name = "month"
    type = "int"
  }
  partition_keys {
    name = "day"
    type = "int"
  }
  partition_keys {
    name = "hour"
    type = "int"
  }

  storage_descriptor {
    location      = local.data_location
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      name                  = "openx-json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      parameters = merge(local.record_column_mappings, {
        # Every line is strict JSON by construction (docs/record-format.md). If one ever is
        # not, the query must fail loudly: with "true" the SerDe turns it into an all-NULL row.
        "ignore.malformed.json" = "false"
        # Keys that differ only in case ("App" and "app" labels, "URL" and "url" in an event)
        # are legitimate; with the default (true) the OpenX SerDe lowercases them and fails the
        # row as a duplicate key (https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html).
        "case.insensitive" = "false"
      })
    }

    # The record's fields (record_columns.tf, generated from the handler's declaration).
    dynamic "columns" {
      for_each = local.record_columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = columns.value.comment
      }
    }
  }
}
