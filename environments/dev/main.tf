# Dev: cheap and disposable. Short retention, objects expire, buckets and secret can be
# destroyed immediately, and Firehose flushes every minute so pushes show up quickly.
module "loki_ingest" {
  source = "../../modules/loki-ingest"

  name                = var.name
  lambda_architecture = var.lambda_architecture
  lambda_zip_path     = coalesce(var.lambda_zip_path, "${path.root}/../../dist/lambda-${var.lambda_architecture}.zip")

  username         = var.username
  password_version = var.password_version

  reserved_concurrency                = var.reserved_concurrency
  log_retention_days                  = 14
  firehose_buffering_interval_seconds = 60
  firehose_buffering_size_mb          = 5
  expiration_days                     = 90
  noncurrent_version_expiration_days  = 7
  force_destroy                       = true
  secret_recovery_window_days         = 0
  handler_settings                    = { previous_password_grace_seconds = 3600 }
  dashboard_enabled                   = var.dashboard_enabled

  tags = {
    environment = "dev"
  }
}
