output "stytch_hostname" {
  description = "Paste into Stytch > Event Log Streaming > Grafana Loki > Hostname."
  value       = module.loki_ingest.stytch_hostname
}

output "push_url" {
  description = "Loki push URL for other clients (Promtail, Alloy, libraries)."
  value       = module.loki_ingest.push_url
}

output "username" {
  description = "HTTP Basic username."
  value       = module.loki_ingest.username
}

output "password_command" {
  description = "Prints the current password (it is never in state or outputs)."
  value       = module.loki_ingest.password_command
}
