# Prod: durable and locked down. Long retention, customer managed KMS everywhere, buckets
# that refuse to be destroyed with data in them, a 30-day recovery window on the
# credentials secret, and alarms that notify an SNS topic. Concurrency stays unreserved unless reserved_concurrency is set: a
# reservation fails on accounts whose quota is below reservation + 100 (new ones have 10).
module "loki_ingest" {
  source = "../../modules/loki-ingest"

  name            = var.name
  lambda_zip_path = coalesce(var.lambda_zip_path, "${path.root}/../../dist/lambda-arm64.zip")

  username         = var.username
  password_version = var.password_version

  reserved_concurrency        = var.reserved_concurrency
  log_retention_days          = 365
  expiration_days             = var.expiration_days
  force_destroy               = false
  secret_recovery_window_days = 30

  s3_kms_key_arn       = aws_kms_key.this.arn
  firehose_kms_key_arn = aws_kms_key.this.arn
  secret_kms_key_arn   = aws_kms_key.this.arn
  lambda_kms_key_arn   = aws_kms_key.this.arn
  logs_kms_key_arn     = aws_kms_key.this.arn

  # Alarms notify a topic of this deployment, encrypted with the same key (kms.tf lets
  # CloudWatch use it); subscribe to the alarm_topic_arn output or list addresses here.
  create_alarm_topic      = true
  alarm_topic_kms_key_arn = aws_kms_key.this.arn
  alarm_email_addresses   = var.alarm_email_addresses

  # `make verify` every hour from inside AWS, so a deployment without traffic is checked too.
  canary_schedule_expression = var.canary_schedule_expression
  dashboard_enabled          = var.dashboard_enabled

  tags = {
    environment = "prod"
  }
}
