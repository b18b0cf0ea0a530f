# How the deployment tells you it is broken: CloudWatch alarms (optionally notifying an SNS
# topic) and a dashboard. After a 200 the data still has to travel from Firehose to S3, and a
# KMS or bucket policy mistake there fails silently unless something watches Firehose's own
# delivery metrics. docs/monitoring.md lists every alarm with its source.
#
# Metrics read here:
# * AWS/Firehose, dimension DeliveryStreamName
#   (https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html);
#   AWS recommends alarming on DeliveryToS3.DataFreshness and ThrottledRecords
#   (https://docs.aws.amazon.com/firehose/latest/dev/firehose-cloudwatch-metrics-best-practices.html).
# * AWS/Lambda, dimension FunctionName: Errors, Throttles, Duration
#   (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html) and the function
#   URL's Url4xxCount, Url5xxCount, UrlRequestLatency
#   (https://docs.aws.amazon.com/lambda/latest/dg/urls-monitoring.html).
# * LokiIngest, dimension FunctionName: the handler's own metrics, written in Embedded Metric
#   Format on its 4xx/5xx lines and its summed metrics line (lambda/loki_ingest/observability/
#   metrics.py). Only the four the rate alarms read: every metric name x dimension value is a
#   billed custom metric, so the dashboard reads AWS/Lambda and AWS/Firehose (free) for the rest.
# * AWS/Logs EMFValidationErrors / EMFParsingErrors, dimension LogGroupName: the handler's
#   metrics stopped being extracted
#   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CloudWatch-Logs-Monitoring-CloudWatch-Metrics.html).

locals {
  # lambda/loki_ingest/observability/metrics.py NAMESPACE (tests/unit/test_metrics.py checks they agree).
  metrics_namespace = "LokiIngest"

  alarm_actions = compact([var.alarm_topic_arn, try(aws_sns_topic.alarms[0].arn, null)])

  # Firehose writes an object when its buffer interval ends (or the size hint fills first), so
  # a healthy stream's oldest record is at most about one interval old; 300 s on top is the
  # time S3 and the metric itself may lag. Failing deliveries are retried for up to 24 hours,
  # and the age keeps growing meanwhile.
  freshness_threshold = coalesce(var.alarm_thresholds.data_freshness_seconds, var.firehose_buffering_interval_seconds + 300)

  function_dimensions = { FunctionName = aws_lambda_function.this.function_name }
  stream_dimensions   = { DeliveryStreamName = aws_kinesis_firehose_delivery_stream.this.name }

  # One alarm on one metric each. treat_missing_data: "notBreaching" where no data means no
  # traffic (Firehose publishes delivery metrics only while it delivers).
  metric_alarms = {
    "delivery-freshness" = {
      description = "Records wait in Firehose longer than ${local.freshness_threshold} s (buffer interval ${var.firehose_buffering_interval_seconds} s + 300 s): deliveries to S3 are failing or falling behind (KMS or bucket policy, deleted bucket, throttling). Why: the Firehose log group ${aws_cloudwatch_log_group.this["firehose"].name} and the errors/ prefix of the bucket."
      namespace   = "AWS/Firehose", metric = "DeliveryToS3.DataFreshness", dimensions = local.stream_dimensions
      statistic   = "Maximum", period = 60, evaluation_periods = 3, datapoints = 2
      comparison  = "GreaterThanThreshold", threshold = local.freshness_threshold
    }
    "delivery-success" = {
      description = "Firehose's S3 PUTs fail (DeliveryToS3.Success below 1 in two 5-minute periods in a row). Why: the Firehose log group ${aws_cloudwatch_log_group.this["firehose"].name}."
      namespace   = "AWS/Firehose", metric = "DeliveryToS3.Success", dimensions = local.stream_dimensions
      statistic   = "Average", period = 300, evaluation_periods = 2, datapoints = 2
      comparison  = "LessThanThreshold", threshold = 1
    }
    "firehose-throttled" = {
      description = "Firehose throttled more than ${var.alarm_thresholds.firehose_throttled_records} records in 5 minutes: the stream's quota (5 MiB/s in the largest Regions, 1 MiB/s elsewhere) is reached. The handler retries, then answers 503; request a quota increase."
      namespace   = "AWS/Firehose", metric = "ThrottledRecords", dimensions = local.stream_dimensions
      statistic   = "Sum", period = 300, evaluation_periods = 1, datapoints = 1
      comparison  = "GreaterThanThreshold", threshold = var.alarm_thresholds.firehose_throttled_records
    }
    "lambda-errors" = {
      description = "More than ${var.alarm_thresholds.lambda_errors} failed invocations in 5 minutes (crash, timeout or failed initialisation; the handler answers its own errors, so this is never a client's doing). See the log group ${aws_cloudwatch_log_group.this["lambda"].name}."
      namespace   = "AWS/Lambda", metric = "Errors", dimensions = local.function_dimensions
      statistic   = "Sum", period = 300, evaluation_periods = 1, datapoints = 1
      comparison  = "GreaterThanThreshold", threshold = var.alarm_thresholds.lambda_errors
    }
    "lambda-throttles" = {
      description = "More than ${var.alarm_thresholds.lambda_throttles} throttled invocations in 5 minutes: concurrency (reserved_concurrency or the account quota) is exhausted and clients get 429."
      namespace   = "AWS/Lambda", metric = "Throttles", dimensions = local.function_dimensions
      statistic   = "Sum", period = 300, evaluation_periods = 1, datapoints = 1
      comparison  = "GreaterThanThreshold", threshold = var.alarm_thresholds.lambda_throttles
    }
    "url-5xx" = {
      description = "The function URL answered 5xx more than ${var.alarm_thresholds.url_5xx} times in 5 minutes (the handler's 500/503, function errors, timeouts). Loki clients retry 5xx; sustained 5xx means lines wait at the senders. Reasons: the saved query ${var.name}/errors-by-message."
      namespace   = "AWS/Lambda", metric = "Url5xxCount", dimensions = local.function_dimensions
      statistic   = "Sum", period = 300, evaluation_periods = 1, datapoints = 1
      comparison  = "GreaterThanThreshold", threshold = var.alarm_thresholds.url_5xx
    }
    "duration-near-timeout" = {
      description = "An invocation took more than ${var.alarm_thresholds.duration_percent_of_timeout}% of the ${var.lambda_timeout_seconds} s timeout: pushes are too large for the memory size, or Firehose or Secrets Manager are slow. The slowest requests: the saved query ${var.name}/slowest-requests."
      namespace   = "AWS/Lambda", metric = "Duration", dimensions = local.function_dimensions
      statistic   = "Maximum", period = 300, evaluation_periods = 1, datapoints = 1
      comparison  = "GreaterThanThreshold", threshold = var.lambda_timeout_seconds * 1000 * var.alarm_thresholds.duration_percent_of_timeout / 100
    }
    "metrics-broken" = {
      description = "CloudWatch Logs could not extract the handler's Embedded Metric Format metrics from ${aws_cloudwatch_log_group.this["lambda"].name}: the alarms on the LokiIngest metrics are blind until this is fixed."
      namespace   = "AWS/Logs", metric = "EMFValidationErrors", dimensions = { LogGroupName = aws_cloudwatch_log_group.this["lambda"].name }
      statistic   = "Sum", period = 300, evaluation_periods = 1, datapoints = 1
      comparison  = "GreaterThanThreshold", threshold = 0
    }
    # A line that is not one valid JSON document (cut for size, or written by something other
    # than the handler's logger) is an EMFParsingErrors, not an EMFValidationErrors.
    "metrics-unparsable" = {
      description = "CloudWatch Logs could not parse log lines of ${aws_cloudwatch_log_group.this["lambda"].name} as Embedded Metric Format JSON (a line cut for size, or not JSON): the LokiIngest metrics of those requests are missing and the alarms on them undercount."
      namespace   = "AWS/Logs", metric = "EMFParsingErrors", dimensions = { LogGroupName = aws_cloudwatch_log_group.this["lambda"].name }
      statistic   = "Sum", period = 300, evaluation_periods = 1, datapoints = 1
      comparison  = "GreaterThanThreshold", threshold = 0
    }
  }

  # Rates of the handler's own metrics, over three 5-minute periods: a rate of one bad push
  # out of two says little, a sustained one does.
  rate_alarms = {
    "rejected-entries" = {
      description = "More than ${var.alarm_thresholds.rejected_entries_percent}% of pushed entries were refused by a limit (400 partial success) for 15 minutes: Loki clients drop them, so these lines are lost at the sender. Which limits: the saved query ${var.name}/4xx-by-reason."
      numerator   = "RejectedEntries", denominator = "EntriesReceived", threshold = var.alarm_thresholds.rejected_entries_percent
    }
    "push-503" = {
      description = "More than ${var.alarm_thresholds.push_503_percent}% of pushes were answered 503 for 15 minutes: Firehose or Secrets Manager keep failing (clients retry, lines wait at the senders). The reason words: the saved query ${var.name}/errors-by-message."
      numerator   = "Pushes503", denominator = "Pushes", threshold = var.alarm_thresholds.push_503_percent
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "metric" {
  for_each = var.alarms_enabled ? local.metric_alarms : {}

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = each.value.period
  evaluation_periods  = each.value.evaluation_periods
  datapoints_to_alarm = each.value.datapoints
  comparison_operator = each.value.comparison
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags
}

resource "aws_cloudwatch_metric_alarm" "rate" {
  for_each = var.alarms_enabled ? local.rate_alarms : {}

  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  evaluation_periods  = 3
  datapoints_to_alarm = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
  tags                = local.tags

  metric_query {
    id          = "rate"
    expression  = "IF(total > 0, 100 * part / total, 0)"
    label       = "${each.value.numerator} / ${each.value.denominator} (%)"
    return_data = true
  }

  metric_query {
    id = "part"
    metric {
      metric_name = each.value.numerator
      namespace   = local.metrics_namespace
      dimensions  = local.function_dimensions
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "total"
    metric {
      metric_name = each.value.denominator
      namespace   = local.metrics_namespace
      dimensions  = local.function_dimensions
      stat        = "Sum"
      period      = 300
    }
  }
}

# ---------------------------------------------------------------------------------------
# Notifications
# ---------------------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  #checkov:skip=CKV_AWS_26:Encrypted with alarm_topic_kms_key_arn when given (prod gives its CMK); CloudWatch cannot publish to a topic under the AWS managed aws/sns key, and the notifications carry alarm names and metric values only.
  count = var.alarms_enabled && var.create_alarm_topic ? 1 : 0

  name              = "${var.name}-alarms"
  kms_master_key_id = var.alarm_topic_kms_key_arn
  tags              = local.tags
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = toset(var.alarms_enabled && var.create_alarm_topic ? var.alarm_email_addresses : [])

  topic_arn = aws_sns_topic.alarms[0].arn
  protocol  = "email"
  endpoint  = each.value
}

# ---------------------------------------------------------------------------------------
# Dashboard (body format: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html)
# ---------------------------------------------------------------------------------------

locals {
  function_name_value = aws_lambda_function.this.function_name
  stream_name_value   = aws_kinesis_firehose_delivery_stream.this.name

  # [namespace, metric, dimension, value, {options}] rows of a metric widget. The handler's own
  # metrics (custom, $0.30 a month each) are the rate alarms' four; answers by status class,
  # latency, bytes and records come from AWS/Lambda and AWS/Firehose, which are free.
  handler_rows = {
    for name in ["Pushes", "Pushes503", "EntriesReceived", "RejectedEntries"] :
    name => [local.metrics_namespace, name, "FunctionName", local.function_name_value]
  }

  dashboard_widgets = [
    {
      type = "text", x = 0, y = 0, width = 24, height = 2
      properties = {
        markdown = join("", [
          "## ${var.name}: Loki push endpoint → Firehose `${local.stream_name_value}` → s3://${local.bucket_id}/${var.s3_prefix_root}\n",
          "Function `${local.function_name_value}`; logs `${aws_cloudwatch_log_group.this["lambda"].name}` (saved queries under `${var.name}/`), ",
          "delivery errors `${aws_cloudwatch_log_group.this["firehose"].name}`. End-to-end check: `make verify ENV=<env>`.",
        ])
      }
    },
    {
      type = "metric", x = 0, y = 2, width = 8, height = 6
      properties = {
        title = "Pushes and answers (per 5 min)", region = local.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          concat(local.handler_rows["Pushes"], [{ label = "pushes" }]),
          concat(local.handler_rows["Pushes503"], [{ label = "pushes answered 503" }]),
          ["AWS/Lambda", "UrlRequestCount", "FunctionName", local.function_name_value, { label = "function URL requests" }],
          ["AWS/Lambda", "Url4xxCount", "FunctionName", local.function_name_value, { label = "function URL 4xx" }],
          ["AWS/Lambda", "Url5xxCount", "FunctionName", local.function_name_value, { label = "function URL 5xx" }],
          ["AWS/Lambda", "Throttles", "FunctionName", local.function_name_value, { label = "throttled invocations" }],
        ]
      }
    },
    {
      type = "metric", x = 8, y = 2, width = 8, height = 6
      properties = {
        title = "Entries (per 5 min)", region = local.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          concat(local.handler_rows["EntriesReceived"], [{ label = "received" }]),
          concat(local.handler_rows["RejectedEntries"], [{ label = "rejected by a limit" }]),
        ]
      }
    },
    {
      type = "metric", x = 16, y = 2, width = 8, height = 6
      properties = {
        title = "Bytes (per 5 min)", region = local.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          ["AWS/Firehose", "IncomingBytes", "DeliveryStreamName", local.stream_name_value, { label = "into Firehose" }],
          ["AWS/Firehose", "DeliveryToS3.Bytes", "DeliveryStreamName", local.stream_name_value, { label = "delivered to S3" }],
        ]
      }
    },
    {
      type = "metric", x = 0, y = 8, width = 8, height = 6
      properties = {
        title = "Latency (ms)", region = local.region, view = "timeSeries", period = 300
        metrics = [
          ["AWS/Lambda", "Duration", "FunctionName", local.function_name_value, { stat = "p50", label = "invocation p50" }],
          ["AWS/Lambda", "Duration", "FunctionName", local.function_name_value, { stat = "p90", label = "invocation p90" }],
          ["AWS/Lambda", "Duration", "FunctionName", local.function_name_value, { stat = "p99", label = "invocation p99" }],
          ["AWS/Lambda", "UrlRequestLatency", "FunctionName", local.function_name_value, { stat = "p99", label = "function URL p99" }],
          # What a small push mostly waits for (and is billed for): the README's cost model assumes 40 ms.
          ["AWS/Firehose", "PutRecordBatch.Latency", "DeliveryStreamName", local.stream_name_value, { stat = "Average", label = "Firehose PutRecordBatch average" }],
          ["AWS/Lambda", "Duration", "FunctionName", local.function_name_value, { stat = "Maximum", label = "invocation max" }],
        ]
        annotations = { horizontal = [{ label = "timeout", value = var.lambda_timeout_seconds * 1000 }] }
      }
    },
    {
      type = "metric", x = 8, y = 8, width = 8, height = 6
      properties = {
        title = "Firehose records: incoming vs delivered (per 5 min)", region = local.region, view = "timeSeries", stat = "Sum", period = 300
        metrics = [
          ["AWS/Firehose", "IncomingRecords", "DeliveryStreamName", local.stream_name_value, { label = "into Firehose" }],
          ["AWS/Firehose", "DeliveryToS3.Records", "DeliveryStreamName", local.stream_name_value, { label = "delivered to S3" }],
          ["AWS/Firehose", "ThrottledRecords", "DeliveryStreamName", local.stream_name_value, { label = "throttled" }],
        ]
      }
    },
    {
      type = "metric", x = 16, y = 8, width = 8, height = 6
      properties = {
        title = "Delivery freshness (s) and success", region = local.region, view = "timeSeries", period = 60
        metrics = [
          ["AWS/Firehose", "DeliveryToS3.DataFreshness", "DeliveryStreamName", local.stream_name_value, { stat = "Maximum", label = "oldest record waiting (s)" }],
          ["AWS/Firehose", "DeliveryToS3.Success", "DeliveryStreamName", local.stream_name_value, { stat = "Minimum", label = "S3 PUT success ratio", yAxis = "right" }],
        ]
        annotations = { horizontal = [{ label = "alarm", value = local.freshness_threshold }] }
      }
    },
  ]

  alarm_arns = concat(
    [for alarm in aws_cloudwatch_metric_alarm.metric : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.rate : alarm.arn],
    [for alarm in aws_cloudwatch_metric_alarm.canary : alarm.arn],
  )
  alarm_widget = length(local.alarm_arns) == 0 ? [] : [{
    type       = "alarm", x = 0, y = 14, width = 24, height = 3
    properties = { title = "Alarms", alarms = local.alarm_arns, sortBy = "stateUpdatedTimestamp" }
  }]
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.dashboard_enabled ? 1 : 0

  dashboard_name = var.name
  dashboard_body = jsonencode({ widgets = concat(local.dashboard_widgets, local.alarm_widget) })
}
