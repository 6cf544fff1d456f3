resource "aws_iam_role" "app" {
  name = "app-s3-cross-account"
  path = "/"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "AssumeByService"
        Effect = "Allow"
        Principal = {
          Service = "ec2.amazonaws.com"
        }
        Action = "sts:AssumeRole"
      },
    ]
  })
  tags = {
    project = "shared-data"
  }
}

resource "aws_iam_instance_profile" "app" {
  name = "app-s3-cross-account"
  path = "/"
  role = aws_iam_role.app.name
}

resource "aws_iam_role_policy" "app" {
  name = "crossgrant-shared-data"
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "SharedObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"]
        Resource = "arn:aws:s3:::acme-shared-data/*"
      },
      {
        Sid      = "SharedList"
        Effect   = "Allow"
        Action   = "s3:ListBucket"
        Resource = "arn:aws:s3:::acme-shared-data"
      },
      {
        Sid      = "UseDataKey"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = var.key_arn_data
      },
    ]
  })
}

data "aws_ssm_parameter" "app_image" {
  name = var.app_image_parameter
}

resource "aws_instance" "app" {
  ami                  = data.aws_ssm_parameter.app_image.insecure_value
  instance_type        = var.app_instance_type
  subnet_id            = var.app_subnet_id
  iam_instance_profile = aws_iam_instance_profile.app.name

  metadata_options {
    http_tokens = "required"
  }

  tags = {
    Name    = "shared-data-app"
    project = "shared-data"
  }
}

