output "function_url" {
  description = "The function URL (https://<url-id>.lambda-url.<region>.on.aws/)."
  value       = aws_lambda_function_url.this.function_url
}

output "push_url" {
  description = "Full Loki push URL for clients that take a URL (Promtail, Alloy, libraries)."
  value       = "${trimsuffix(aws_lambda_function_url.this.function_url, "/")}/loki/api/v1/push"
}

output "otlp_endpoint" {
  description = "Base URL for OpenTelemetry OTLP/HTTP exporters (Collector otlphttp, Alloy otelcol.exporter.otlphttp), which append /v1/logs."
  value       = "${trimsuffix(aws_lambda_function_url.this.function_url, "/")}/otlp"
}

output "stytch_hostname" {
  description = "Paste into Stytch > Event Log Streaming > Grafana Loki > Hostname (Stytch adds https:// and /loki/api/v1/push)."
  value       = trimsuffix(trimprefix(aws_lambda_function_url.this.function_url, "https://"), "/")
}

output "username" {
  description = "HTTP Basic username."
  value       = var.username
}

output "secret_arn" {
  description = "ARN of the Secrets Manager secret holding {\"username\",\"password\"}. The password is never in Terraform state or outputs."
  value       = aws_secretsmanager_secret.auth.arn
}

output "secret_name" {
  description = "Name of the credentials secret."
  value       = aws_secretsmanager_secret.auth.name
}

output "password_command" {
  description = "Command that prints the current password."
  value       = "aws secretsmanager get-secret-value --region ${local.region} --secret-id '${aws_secretsmanager_secret.auth.arn}' --query SecretString --output text | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"password\"])'"
}

output "bucket_name" {
  description = "Bucket the logs land in."
  value       = local.bucket_id
}

output "bucket_arn" {
  description = "ARN of the log bucket."
  value       = local.bucket_arn
}

output "access_log_bucket_name" {
  description = "Bucket receiving S3 server access logs (null when disabled)."
  value       = try(aws_s3_bucket.access_logs[0].id, null)
}

output "s3_prefix" {
  description = "Firehose key prefix of the log objects."
  value       = local.s3_prefix
}

output "firehose_stream_name" {
  description = "Name of the Firehose delivery stream."
  value       = aws_kinesis_firehose_delivery_stream.this.name
}

output "firehose_stream_arn" {
  description = "ARN of the Firehose delivery stream."
  value       = aws_kinesis_firehose_delivery_stream.this.arn
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "lambda_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.lambda.arn
}

output "firehose_role_arn" {
  description = "ARN of the role Firehose uses to write to S3."
  value       = aws_iam_role.firehose.arn
}

output "lambda_log_group_name" {
  description = "CloudWatch log group of the function (one JSON line per request)."
  value       = aws_cloudwatch_log_group.this["lambda"].name
}

output "glue_database_name" {
  description = "Glue database for Athena (null when enable_athena is false)."
  value       = try(aws_glue_catalog_database.this[0].name, null)
}

output "glue_table_name" {
  description = "Glue table for Athena (null when enable_athena is false)."
  value       = try(aws_glue_catalog_table.records[0].name, null)
}

output "athena_workgroup" {
  description = "Athena workgroup to run queries in (it sets the result location a fresh account lacks); null when enable_athena is false."
  value       = try(aws_athena_workgroup.this[0].name, null)
}

output "athena_results_location" {
  description = "Where the workgroup writes query results (null when enable_athena is false)."
  value       = try(aws_athena_workgroup.this[0].configuration[0].result_configuration[0].output_location, null)
}

output "firehose_buffering_interval_seconds" {
  description = "Firehose buffer interval: the longest a line waits before it is in S3 (`make verify` waits that long and a little more)."
  value       = aws_kinesis_firehose_delivery_stream.this.extended_s3_configuration[0].buffering_interval
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the handler's own metrics (Embedded Metric Format in its log lines), dimension FunctionName."
  value       = local.metrics_namespace
}

output "alarm_names" {
  description = "Names of the CloudWatch alarms (empty when alarms_enabled is false)."
  value = concat(
    [for alarm in aws_cloudwatch_metric_alarm.metric : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.rate : alarm.alarm_name],
    [for alarm in aws_cloudwatch_metric_alarm.canary : alarm.alarm_name],
  )
}

output "alarm_topic_arn" {
  description = "SNS topic create_alarm_topic created (null otherwise): subscribe to it to be told when an alarm fires."
  value       = try(aws_sns_topic.alarms[0].arn, null)
}

output "alarm_notification_topics" {
  description = "Every SNS topic the alarms notify: alarm_topic_arn and the created topic. Empty: alarms fire and nobody is told."
  value       = local.alarm_actions
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard (null when dashboard_enabled is false)."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}

output "dashboard_url" {
  description = "Console URL of the dashboard (null when dashboard_enabled is false, or outside the aws partition)."
  value       = var.dashboard_enabled && local.partition == "aws" ? "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${var.name}" : null
}

output "saved_queries" {
  description = "Names of the saved CloudWatch Logs Insights queries and Athena named queries."
  value = {
    logs_insights = [for query in aws_cloudwatch_query_definition.this : query.name]
    athena        = [for query in aws_athena_named_query.this : query.name]
  }
}

output "canary_function_name" {
  description = "The scheduled canary's Lambda function (null unless canary_schedule_expression is set); `aws lambda invoke --invocation-type Event --function-name <it> /dev/null` starts one run (a run outlasts the CLI's 60 s read timeout; the result is in its log group)."
  value       = try(aws_lambda_function.canary[0].function_name, null)
}
