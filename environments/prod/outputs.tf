output "push_url" {
  description = "Loki push URL."
  value       = module.loki_ingest.push_url
}

output "stytch_hostname" {
  description = "Hostname to paste into Stytch's Grafana Loki destination."
  value       = module.loki_ingest.stytch_hostname
}

output "function_url" {
  description = "Function URL."
  value       = module.loki_ingest.function_url
}

output "username" {
  description = "HTTP Basic username."
  value       = module.loki_ingest.username
}

output "secret_arn" {
  description = "Secret holding the credentials."
  value       = module.loki_ingest.secret_arn
}

output "password_command" {
  description = "Prints the current password."
  value       = module.loki_ingest.password_command
}

output "bucket_name" {
  description = "Log bucket."
  value       = module.loki_ingest.bucket_name
}

output "s3_prefix" {
  description = "Key prefix of log objects."
  value       = module.loki_ingest.s3_prefix
}

output "firehose_stream_name" {
  description = "Firehose delivery stream."
  value       = module.loki_ingest.firehose_stream_name
}

output "function_name" {
  description = "Lambda function."
  value       = module.loki_ingest.function_name
}

output "glue_database_name" {
  description = "Glue database for Athena."
  value       = module.loki_ingest.glue_database_name
}

output "glue_table_name" {
  description = "Glue table for Athena."
  value       = module.loki_ingest.glue_table_name
}

output "invoke_function_permission_command" {
  description = "Only for hashicorp/aws < 6.28 (see README)."
  value       = module.loki_ingest.invoke_function_permission_command
}
