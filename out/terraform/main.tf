# Scenario shared-data: one provider per account, each assuming the account's deploy role.
terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0, < 6.0"
    }
  }
}

provider "aws" {
  alias  = "app"
  region = "ap-northeast-1"

  assume_role {
    role_arn     = "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole"
    session_name = "crossgrant-shared-data"
  }
}

provider "aws" {
  alias  = "data"
  region = "ap-northeast-1"

  assume_role {
    role_arn     = "arn:aws:iam::111111111111:role/OrganizationAccountAccessRole"
    session_name = "crossgrant-shared-data"
  }
}

module "app" {
  source       = "./modules/app"
  key_arn_data = module.data.key_arn_data

  providers = {
    aws = aws.app
  }
}

module "data" {
  source = "./modules/data"

  providers = {
    aws = aws.data
  }
}

output "app_role_arn_app" {
  value = module.app.role_arn_app
}

output "data_key_arn_data" {
  value = module.data.key_arn_data
}

output "data_bucket_arn_shared" {
  value = module.data.bucket_arn_shared
}
