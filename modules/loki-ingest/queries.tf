# Saved queries for the questions an operator asks first, so nobody writes them during an
# incident: CloudWatch Logs Insights over the function's 4xx/5xx lines and metrics lines
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html), and Athena
# named queries over the records (https://docs.aws.amazon.com/athena/latest/APIReference/API_CreateNamedQuery.html).
# Logs Insights lists them under the folder "<name>/" (a "/" in the name is a folder).

locals {
  logs_insights_queries = {
    # Errors by message: the handler's ERROR lines (5xx, bugs, health-check failures), Lambda's
    # own errors (errorType: crashes, failed initialisation) and platform reports of timeouts.
    "errors-by-message" = <<-EOT
      fields @timestamp, level, message, reason, detail, error_type, errorType, record.status
      | filter level in ["ERROR", "FATAL"] or ispresent(errorType) or record.status = "timeout"
      | stats count(*) as occurrences, latest(@timestamp) as last_seen by message, reason, detail, error_type, errorType
      | sort occurrences desc
      | limit 100
    EOT
    # Slowest requests, with the figures that explain a long one (size, records, Firehose
    # calls and retries).
    "slowest-requests" = <<-EOT
      fields @timestamp, message, request_id, route, status, coalesce(duration_ms, duration_ms_max) as ms, bytes_in, entries, requests, records, calls, retries, reason
      | filter message in ["request", "metrics"]
      | sort ms desc
      | limit 50
    EOT
    # 4xx by reason: what clients get wrong. A partial success (some entries refused by a limit)
    # has no reason word; its refusals are counted by kind in rejected_by.
    "4xx-by-reason" = <<-EOT
      fields coalesce(reason, "partial_success") as why
      | filter message = "request" and status >= 400 and status < 500
      | stats count(*) as requests, sum(rejected) as rejected_entries, latest(@timestamp) as last_seen by status, why, route
      | sort requests desc
      | limit 100
    EOT
  }

  # Athena (Trino SQL). `?` are execution parameters: the console asks for them, the CLI takes
  # --execution-parameters. Partition filters on year/month/day keep the scan to the days asked
  # for (partitions follow arrival time, UTC).
  athena_table = "\"${local.glue_database_name}\".\"records\""
  athena_queries = {
    "recent-events" = {
      description = "The newest 100 entries of one day (arrival date, UTC). Parameters: year, month, day."
      query       = <<-EOT
        SELECT ts, stream, record, metadata, id
        FROM ${local.athena_table}
        WHERE year = ? AND month = ? AND day = ?
        ORDER BY CAST(timestamp_ns AS DECIMAL(20, 0)) DESC
        LIMIT 100
      EOT
    }
    "events-by-event-id" = {
      description = "Every stored copy of one event, by the event_id field of a JSON line (Stytch events carry one). Parameters: year, month, event_id."
      query       = <<-EOT
        SELECT ts, stream, record, metadata, id
        FROM ${local.athena_table}
        WHERE year = ? AND month = ? AND json_extract_scalar(record, '$.event_id') = ?
        ORDER BY ts
      EOT
    }
    "deduplicated-events" = {
      description = "One day's entries with the duplicates of client retries removed: the same entry always has the same id (at-least-once delivery). Parameters: year, month, day."
      query       = <<-EOT
        SELECT ts, stream, record, metadata, id
        FROM (
          SELECT *, row_number() OVER (PARTITION BY id ORDER BY ts) AS copy
          FROM ${local.athena_table}
          WHERE year = ? AND month = ? AND day = ?
        )
        WHERE copy = 1
        ORDER BY ts
      EOT
    }
  }
}

resource "aws_cloudwatch_query_definition" "this" {
  for_each = var.saved_queries_enabled ? local.logs_insights_queries : {}

  name            = "${var.name}/${each.key}"
  log_group_names = [aws_cloudwatch_log_group.this["lambda"].name]
  query_string    = each.value
}

resource "aws_athena_named_query" "this" {
  for_each = var.saved_queries_enabled && var.enable_athena ? local.athena_queries : {}

  name        = "${var.name}/${each.key}"
  description = each.value.description
  workgroup   = aws_athena_workgroup.this[0].id
  database    = aws_glue_catalog_database.this[0].name
  query       = each.value.query
}
