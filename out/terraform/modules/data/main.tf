resource "aws_kms_key" "data" {
  description             = "Encrypts the S3 data of scenario shared-data"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "EnableIamPolicies"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::111111111111:root"
        }
        Action   = "kms:*"
        Resource = "*"
      },
      {
        Sid    = "AppUseKey"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::222222222222:root"
        }
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = "*"
        Condition = {
          ArnEquals = {
            "aws:PrincipalArn" = "arn:aws:iam::222222222222:role/app-s3-cross-account"
          }
          StringLike = {
            "kms:EncryptionContext:aws:s3:arn" = "arn:aws:s3:::acme-shared-data"
          }
        }
      },
    ]
  })
  tags = {
    project = "shared-data"
  }
}

resource "aws_kms_alias" "data" {
  name          = "alias/shared-data"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_s3_bucket" "shared" {
  bucket = "acme-shared-data"
  tags = {
    project = "shared-data"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "shared" {
  bucket = aws_s3_bucket.shared.id

  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_ownership_controls" "shared" {
  bucket = aws_s3_bucket.shared.id

  rule {
    object_ownership = "BucketOwnerPreferred"
  }
}

resource "aws_s3_bucket_public_access_block" "shared" {
  bucket                  = aws_s3_bucket.shared.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "shared" {
  bucket = aws_s3_bucket.shared.id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_policy" "shared" {
  bucket = aws_s3_bucket.shared.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid    = "AppList"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::222222222222:root"
        }
        Action   = "s3:ListBucket"
        Resource = "arn:aws:s3:::acme-shared-data"
        Condition = {
          ArnEquals = {
            "aws:PrincipalArn" = "arn:aws:iam::222222222222:role/app-s3-cross-account"
          }
        }
      },
      {
        Sid    = "AppObjects"
        Effect = "Allow"
        Principal = {
          AWS = "arn:aws:iam::222222222222:root"
        }
        Action   = ["s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:PutObjectAcl"]
        Resource = "arn:aws:s3:::acme-shared-data/*"
        Condition = {
          ArnEquals = {
            "aws:PrincipalArn" = "arn:aws:iam::222222222222:role/app-s3-cross-account"
          }
        }
      },
    ]
  })

  # S3 refuses a bucket policy while Block Public Access is being changed.
  depends_on = [aws_s3_bucket_public_access_block.shared]
}

