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

resource "aws_iam_policy" "app-access-1" {
  name = "crossgrant-shared-data-app-1"
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
        Condition = {
          StringEquals = {
            "kms:ViaService" = "s3.ap-northeast-1.amazonaws.com"
          }
        }
      },
    ]
  })
}

resource "aws_iam_role_policy_attachment" "app-access-1" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.app-access-1.arn
}

data "aws_ssm_parameter" "app_image" {
  name = var.app_image_parameter
}

resource "aws_instance" "app" {
  #checkov:skip=CKV_AWS_135:Current instance types are EBS-optimized by default; forcing it fails on types without support
  #checkov:skip=CKV_AWS_126:One-minute metrics are billed per instance; basic monitoring suffices for a bucket consumer
  ami                  = data.aws_ssm_parameter.app_image.insecure_value
  instance_type        = var.app_instance_type
  subnet_id            = var.app_subnet_id
  iam_instance_profile = aws_iam_instance_profile.app.name

  metadata_options {
    http_tokens = "required"
  }

  root_block_device {
    encrypted = true
  }

  tags = {
    Name    = "shared-data-app"
    project = "shared-data"
  }

  # The parameter names a new AMI whenever Amazon publishes one: without this, every apply
  # would replace the instance. To move to the current AMI on purpose:
  # terraform apply -replace=aws_instance.app
  lifecycle {
    ignore_changes = [ami]
  }
}

