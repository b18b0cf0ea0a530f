# A plain AWS provider. Against a local emulator, run Terraform through tflocal
# (PyPI terraform-local): it points every service at AWS_ENDPOINT_URL with a temporary
# override file, so this root needs no emulator settings (see `make run`, docs/local.md).
provider "aws" {
  region = var.region

  default_tags {
    tags = {
      environment = "dev"
      managed-by  = "terraform"
    }
  }
}
