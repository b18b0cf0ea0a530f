provider "aws" {
  region = var.region

  default_tags {
    tags = {
      environment = "prod"
      managed-by  = "terraform"
    }
  }
}
