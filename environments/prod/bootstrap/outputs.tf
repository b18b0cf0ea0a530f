output "bucket_name" {
  description = "The state bucket."
  value       = aws_s3_bucket.state.id
}

output "backend_hcl" {
  description = "Contents of environments/prod/backend.hcl (`make bootstrap` writes it)."
  value       = <<-EOT
    # Written by `make bootstrap` from environments/prod/bootstrap; passed by `make init ENV=prod`.
    bucket       = "${aws_s3_bucket.state.id}"
    key          = "${var.state_key}"
    region       = "${var.region}"
    encrypt      = true
    use_lockfile = true
  EOT
}
