# A stack of your own that uses the module from git, with only the inputs it requires.
# Replace the source with where you host this repository and the tag (or commit) you
# deploy; `//modules/loki-ingest` is the module's folder in it. Nothing else is needed:
# `terraform init && terraform apply` creates the endpoint, both of its function URL
# permission statements included (modules/loki-ingest/README.md, "Function URL permissions").
module "loki_ingest" {
  source = "git::https://github.com/YOUR-ORG/loki-ingest.git//modules/loki-ingest?ref=v1.0.0"

  name            = var.name
  lambda_zip_path = var.lambda_zip_path
}
