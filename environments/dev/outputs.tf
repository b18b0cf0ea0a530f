# What a Stytch admin needs, plus every module output in one object
# (terraform output -json loki_ingest).

output "stytch_hostname" {
  description = "Paste into Stytch > Event Log Streaming > Grafana Loki > Hostname."
  value       = module.loki_ingest.stytch_hostname
}

output "push_url" {
  description = "Loki push URL for other clients."
  value       = module.loki_ingest.push_url
}

output "otlp_endpoint" {
  description = "OTLP/HTTP base URL for OpenTelemetry exporters (they append /v1/logs)."
  value       = module.loki_ingest.otlp_endpoint
}

output "username" {
  description = "HTTP Basic username."
  value       = module.loki_ingest.username
}

output "password_command" {
  description = "Prints the current password (it is never in state or outputs)."
  value       = module.loki_ingest.password_command
}

output "athena_workgroup" {
  description = "Athena workgroup to run the README's queries in (it sets the query result location)."
  value       = module.loki_ingest.athena_workgroup
}

output "dashboard_url" {
  description = "The CloudWatch dashboard of this deployment."
  value       = module.loki_ingest.dashboard_url
}

output "loki_ingest" {
  description = "Every output of the module: bucket, stream, function, roles, secret, Glue table."
  value       = module.loki_ingest
}
