variable "key_arn_data" {
  description = "ARN of KMS key alias/shared-data in account data"
  type        = string
}

variable "app_image_parameter" {
  description = "SSM parameter holding the AMI of instance app"
  type        = string
  default     = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
}

variable "app_instance_type" {
  description = "EC2 instance type of instance app"
  type        = string
  default     = "t3.micro"
}

variable "app_subnet_id" {
  description = "Subnet of instance app (null: the default VPC's)"
  type        = string
  default     = null
}
