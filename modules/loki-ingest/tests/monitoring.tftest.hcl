# Alarms, notifications, saved queries and the scheduled canary (monitoring.tf, queries.tf,
# canary.tf), planned against the emulator like module.tftest.hcl. What only exists after an apply (the dashboard body, the
# alarms as CloudWatch stores them) is checked on the applied prod root
# (tests/terraform/test_prod_stack.py) and the dev root (tests/e2e/test_verify.py).

variables {
  name          = "tftest-mon"
  force_destroy = true
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
}

run "alarms_watch_delivery_lambda_the_url_and_the_handler_by_default" {
  command = plan

  assert {
    condition = toset(keys(aws_cloudwatch_metric_alarm.metric)) == toset([
      "delivery-freshness", "delivery-success", "firehose-throttled", "lambda-errors", "lambda-throttles",
      "url-5xx", "duration-near-timeout", "metrics-broken", "metrics-unparsable",
    ]) && toset(keys(aws_cloudwatch_metric_alarm.rate)) == toset(["rejected-entries", "push-503"])
    error_message = "the default alarm set"
  }
  assert {
    condition = alltrue([
      for key in ["delivery-freshness", "delivery-success", "firehose-throttled"] :
      aws_cloudwatch_metric_alarm.metric[key].namespace == "AWS/Firehose" &&
      aws_cloudwatch_metric_alarm.metric[key].dimensions == tomap({ DeliveryStreamName = "tftest-mon" })
    ])
    error_message = "the Firehose alarms watch this stream"
  }
  assert {
    condition = alltrue([
      for key in ["lambda-errors", "lambda-throttles", "url-5xx", "duration-near-timeout"] :
      aws_cloudwatch_metric_alarm.metric[key].namespace == "AWS/Lambda" &&
      aws_cloudwatch_metric_alarm.metric[key].dimensions == tomap({ FunctionName = "tftest-mon" })
    ])
    error_message = "the Lambda and function URL alarms watch this function"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.metric["delivery-freshness"].metric_name == "DeliveryToS3.DataFreshness" &&
      aws_cloudwatch_metric_alarm.metric["delivery-freshness"].threshold == 600 &&
      aws_cloudwatch_metric_alarm.metric["delivery-success"].metric_name == "DeliveryToS3.Success" &&
      aws_cloudwatch_metric_alarm.metric["delivery-success"].comparison_operator == "LessThanThreshold" &&
      aws_cloudwatch_metric_alarm.metric["delivery-success"].threshold == 1 &&
      aws_cloudwatch_metric_alarm.metric["firehose-throttled"].metric_name == "ThrottledRecords" &&
      aws_cloudwatch_metric_alarm.metric["url-5xx"].metric_name == "Url5xxCount" &&
      aws_cloudwatch_metric_alarm.metric["url-5xx"].threshold == 5
    )
    error_message = "freshness above the 300 s buffer interval + 300 s, S3 success below 1, throttling, URL 5xx"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["duration-near-timeout"].threshold == var.lambda_timeout_seconds * 800 && aws_cloudwatch_metric_alarm.metric["duration-near-timeout"].statistic == "Maximum"
    error_message = "duration alarm at 80% of the function's timeout (in ms)"
  }
  assert {
    condition = alltrue([
      for key, metric in { "metrics-broken" = "EMFValidationErrors", "metrics-unparsable" = "EMFParsingErrors" } :
      aws_cloudwatch_metric_alarm.metric[key].namespace == "AWS/Logs" &&
      aws_cloudwatch_metric_alarm.metric[key].metric_name == metric &&
      aws_cloudwatch_metric_alarm.metric[key].statistic == "Sum" &&
      aws_cloudwatch_metric_alarm.metric[key].threshold == 0 &&
      aws_cloudwatch_metric_alarm.metric[key].dimensions == tomap({ LogGroupName = "/aws/lambda/tftest-mon" })
    ])
    error_message = "the EMF validation and parsing alarms watch the function's log group"
  }
  assert {
    condition = alltrue(flatten([
      for alarm in aws_cloudwatch_metric_alarm.rate : [
        for query in alarm.metric_query :
        query.metric[0].namespace == "LokiIngest" && query.metric[0].dimensions == tomap({ FunctionName = "tftest-mon" })
        if length(query.metric) > 0
      ]
    ]))
    error_message = "the rate alarms read the handler's own metrics of this function"
  }
  assert {
    condition = (
      [for q in aws_cloudwatch_metric_alarm.rate["rejected-entries"].metric_query : q.metric[0].metric_name if q.id == "part"] == ["RejectedEntries"] &&
      [for q in aws_cloudwatch_metric_alarm.rate["push-503"].metric_query : q.metric[0].metric_name if q.id == "part"] == ["Pushes503"] &&
      aws_cloudwatch_metric_alarm.rate["rejected-entries"].threshold == 1 && aws_cloudwatch_metric_alarm.rate["push-503"].threshold == 5
    )
    error_message = "rejected entries above 1% and push 503s above 5%"
  }
  assert {
    condition     = alltrue([for alarm in aws_cloudwatch_metric_alarm.metric : try(length(alarm.alarm_actions), 0) == 0]) && length(aws_sns_topic.alarms) == 0
    error_message = "no topic and no actions unless asked for"
  }
  assert {
    condition = (
      toset(keys(aws_cloudwatch_query_definition.this)) == toset(["errors-by-message", "slowest-requests", "4xx-by-reason"]) &&
      alltrue([for q in aws_cloudwatch_query_definition.this : q.log_group_names == tolist(["/aws/lambda/tftest-mon"]) && startswith(q.name, "tftest-mon/")]) &&
      toset(keys(aws_athena_named_query.this)) == toset(["recent-events", "events-by-event-id", "deduplicated-events"]) &&
      alltrue([for q in aws_athena_named_query.this : q.database == "tftest_mon_logs" && strcontains(q.query, "\"tftest_mon_logs\".\"records\"")])
    )
    error_message = "the saved queries"
  }
  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 0
    error_message = "no dashboard unless asked for ($3 a month)"
  }
}

run "the_dashboard_when_asked_for_is_named_like_the_deployment" {
  command = plan

  variables {
    dashboard_enabled = true
  }
  assert {
    condition     = length(aws_cloudwatch_dashboard.this) == 1 && aws_cloudwatch_dashboard.this[0].dashboard_name == "tftest-mon"
    error_message = "the dashboard is named like the deployment"
  }
}

run "freshness_follows_the_buffer_interval_unless_set" {
  command = plan
  variables {
    firehose_buffering_interval_seconds = 60
    lambda_timeout_seconds              = 30
    alarm_thresholds                    = { duration_percent_of_timeout = 50, url_5xx = 0 }
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.metric["delivery-freshness"].threshold == 360 &&
      aws_cloudwatch_metric_alarm.metric["duration-near-timeout"].threshold == 15000 &&
      aws_cloudwatch_metric_alarm.metric["url-5xx"].threshold == 0 &&
      aws_cloudwatch_metric_alarm.rate["push-503"].threshold == 5
    )
    error_message = "derived and given thresholds"
  }
}

run "an_explicit_freshness_threshold_wins" {
  command = plan
  variables {
    alarm_thresholds = { data_freshness_seconds = 1800 }
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.metric["delivery-freshness"].threshold == 1800
    error_message = "data_freshness_seconds overrides the derived threshold"
  }
}

run "an_existing_topic_is_notified_on_alarm_and_recovery" {
  command = plan
  variables {
    alarm_topic_arn = "arn:aws:sns:us-east-1:123456789012:ops-pager"
  }
  assert {
    condition = alltrue(concat(
      [for alarm in aws_cloudwatch_metric_alarm.metric : alarm.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:ops-pager"]) && alarm.ok_actions == toset(["arn:aws:sns:us-east-1:123456789012:ops-pager"])],
      [for alarm in aws_cloudwatch_metric_alarm.rate : alarm.alarm_actions == toset(["arn:aws:sns:us-east-1:123456789012:ops-pager"])],
    )) && length(aws_sns_topic.alarms) == 0
    error_message = "every alarm notifies the given topic"
  }
}

run "a_created_topic_gets_the_key_and_the_subscribers" {
  command = plan
  variables {
    create_alarm_topic      = true
    alarm_email_addresses   = ["ops@example.com", "oncall@example.com"]
    alarm_topic_kms_key_arn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
  }
  assert {
    condition = (
      aws_sns_topic.alarms[0].name == "tftest-mon-alarms" &&
      aws_sns_topic.alarms[0].kms_master_key_id == "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555" &&
      toset(keys(aws_sns_topic_subscription.alarm_email)) == toset(["ops@example.com", "oncall@example.com"]) &&
      alltrue([for s in aws_sns_topic_subscription.alarm_email : s.protocol == "email"])
    )
    error_message = "the created topic, encrypted, with one email subscription per address"
  }
}

run "monitoring_can_be_turned_off" {
  command = plan
  variables {
    alarms_enabled        = false
    dashboard_enabled     = false
    saved_queries_enabled = false
    create_alarm_topic    = true
  }
  assert {
    condition = (
      length(aws_cloudwatch_metric_alarm.metric) + length(aws_cloudwatch_metric_alarm.rate) + length(aws_sns_topic.alarms) +
      length(aws_cloudwatch_dashboard.this) + length(aws_cloudwatch_query_definition.this) + length(aws_athena_named_query.this) == 0
    )
    error_message = "nothing is created when it is turned off"
  }
}

run "no_named_queries_without_athena" {
  command = plan
  variables {
    enable_athena = false
  }
  assert {
    condition     = length(aws_athena_named_query.this) == 0 && length(aws_cloudwatch_query_definition.this) == 3
    error_message = "the Athena queries need the workgroup and the table"
  }
}

# One invalid value per run: a run with several passes while any one validation still holds.
run "rejects_a_freshness_threshold_inside_the_buffer_interval" {
  command = plan
  variables {
    alarm_thresholds = { data_freshness_seconds = 100 }
  }
  expect_failures = [var.alarm_thresholds]
}

run "rejects_a_count_threshold_that_is_not_whole" {
  command = plan
  variables {
    alarm_thresholds = { url_5xx = 1.5 }
  }
  expect_failures = [var.alarm_thresholds]
}

run "rejects_a_zero_percent_threshold" {
  command = plan
  variables {
    alarm_thresholds = { push_503_percent = 0 }
  }
  expect_failures = [var.alarm_thresholds]
}

run "rejects_alarms_above_info_logging" {
  command = plan
  variables {
    log_level = "WARNING"
  }
  expect_failures = [var.alarms_enabled]
}

run "warning_logs_without_alarms_are_fine" {
  command = plan
  variables {
    log_level      = "WARNING"
    alarms_enabled = false
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.rate) == 0
    error_message = "no rate alarms without alarms_enabled"
  }
}

run "rejects_subscribers_without_a_created_topic" {
  command = plan
  variables {
    alarm_email_addresses = ["ops@example.com"]
  }
  expect_failures = [var.alarm_email_addresses]
}

run "rejects_a_topic_arn_that_is_not_one" {
  command = plan
  variables {
    alarm_topic_arn = "arn:aws:sqs:us-east-1:123456789012:queue"
  }
  expect_failures = [var.alarm_topic_arn]
}

# --- the scheduled canary (canary.tf) ------------------------------------------------------

run "no_scheduled_canary_by_default" {
  command = plan
  assert {
    condition = (
      length(aws_lambda_function.canary) + length(aws_cloudwatch_event_rule.canary) + length(aws_iam_role.canary) +
      length(aws_cloudwatch_metric_alarm.canary) == 0 && output.canary_function_name == null
    )
    error_message = "the canary is off unless scheduled"
  }
}

run "a_scheduled_canary_runs_the_package_read_only_and_alarms_when_a_run_fails_or_none_reports" {
  command = plan
  variables {
    canary_schedule_expression = "rate(30 minutes)"
  }
  assert {
    condition = (
      aws_lambda_function.canary[0].function_name == "tftest-mon-canary" &&
      aws_lambda_function.canary[0].handler == "loki_canary.handler.handler" &&
      aws_lambda_function.canary[0].timeout == 630 &&
      aws_lambda_function.canary[0].source_code_hash == filebase64sha256(var.lambda_zip_path)
    )
    error_message = "the canary function: the same package, waiting as long as the freshness alarm (buffer + 300 s) and 30 s to report"
  }
  assert {
    condition     = aws_lambda_function_event_invoke_config.canary[0].maximum_retry_attempts == 0
    error_message = "a failed run is reported, not retried (each retry would push another line)"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.canary[0].schedule_expression == "rate(30 minutes)" && aws_lambda_permission.canary[0].principal == "events.amazonaws.com"
    error_message = "EventBridge runs it on the schedule"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.canary[0].metric_name == "CanarySuccess" &&
      aws_cloudwatch_metric_alarm.canary[0].namespace == "LokiIngest" &&
      aws_cloudwatch_metric_alarm.canary[0].dimensions == tomap({ FunctionName = "tftest-mon" }) &&
      aws_cloudwatch_metric_alarm.canary[0].period == 3600 &&
      aws_cloudwatch_metric_alarm.canary[0].statistic == "Minimum" &&
      aws_cloudwatch_metric_alarm.canary[0].treat_missing_data == "breaching"
    )
    error_message = "the canary alarm: the worst run of two intervals, and no report is a failure"
  }
}

run "an_hourly_canary_alarms_after_two_hours" {
  command = plan
  variables {
    canary_schedule_expression = "rate(1 hour)"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.canary[0].period == 7200
    error_message = "hourly runs: the alarm looks at two hours"
  }
}

run "rejects_a_canary_schedule_that_is_not_a_rate" {
  command = plan
  variables {
    canary_schedule_expression = "cron(0 * * * ? *)"
  }
  expect_failures = [var.canary_schedule_expression]
}

# EventBridge's rate(): 1 takes the singular unit, other values the plural.
run "rejects_a_plural_unit_for_one" {
  command = plan
  variables {
    canary_schedule_expression = "rate(1 hours)"
  }
  expect_failures = [var.canary_schedule_expression]
}

run "rejects_a_singular_unit_for_more_than_one" {
  command = plan
  variables {
    canary_schedule_expression = "rate(5 hour)"
  }
  expect_failures = [var.canary_schedule_expression]
}

run "rejects_a_canary_that_cannot_wait_one_buffer_in_one_invocation" {
  command = plan
  variables {
    canary_schedule_expression          = "rate(1 hour)"
    firehose_buffering_interval_seconds = 900
  }
  expect_failures = [var.canary_schedule_expression]
}

run "a_canary_waits_for_an_explicit_fractional_threshold_within_lambdas_limit" {
  command = plan
  variables {
    canary_schedule_expression = "rate(1 hour)"
    alarm_thresholds           = { data_freshness_seconds = 450.5 }
  }
  assert {
    condition     = aws_lambda_function.canary[0].timeout == 481
    error_message = "the timeout is a whole number of seconds: the threshold rounded up + 30 s"
  }
}

run "a_canary_timeout_never_passes_lambdas_15_minutes" {
  command = plan
  variables {
    canary_schedule_expression = "rate(1 hour)"
    alarm_thresholds           = { data_freshness_seconds = 3600 }
  }
  assert {
    condition     = aws_lambda_function.canary[0].timeout == 900
    error_message = "Lambda's limit is 900 s"
  }
}
