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
          StringEquals = {
            "kms:CallerAccount" = "222222222222"
            "kms:ViaService"    = "s3.ap-northeast-1.amazonaws.com"
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

  # The data outlives the stack, as CloudFormation's DeletionPolicy keeps it:
  # destroying the key would make every object encrypted with it unreadable.
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "data" {
  name          = "alias/shared-data"
  target_key_id = aws_kms_key.data.key_id
}

resource "aws_s3_bucket" "shared" {
  #checkov:skip=CKV_AWS_18:Server access logs need a log bucket outside this scenario; set access_log_bucket to enable them
  #checkov:skip=CKV_AWS_144:Cross-region replication needs a second bucket and key in another region, outside this scenario
  #checkov:skip=CKV2_AWS_62:Nothing in this scenario consumes bucket event notifications
  bucket = "acme-shared-data"
  tags = {
    project = "shared-data"
  }

  # The bucket and its objects outlive the stack, as CloudFormation's DeletionPolicy keeps
  # them.
  lifecycle {
    prevent_destroy = true
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
  #checkov:skip=CKV2_AWS_65:The scenario keeps legacy ACLs on purpose (object_ownership is not BucketOwnerEnforced)
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

resource "aws_s3_bucket_lifecycle_configuration" "shared" {
  bucket = aws_s3_bucket.shared.id

  rule {
    id     = "abort-incomplete-multipart-uploads"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "shared" {
  bucket = aws_s3_bucket.shared.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = ["arn:aws:s3:::acme-shared-data", "arn:aws:s3:::acme-shared-data/*"]
        Condition = {
          Bool = {
            "aws:SecureTransport" = false
          }
        }
      },
      {
        Sid       = "DenyOtherEncryption"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "arn:aws:s3:::acme-shared-data/*"
        Condition = {
          Null = {
            "s3:x-amz-server-side-encryption" = "false"
          }
          StringNotEquals = {
            "s3:x-amz-server-side-encryption" = "aws:kms"
          }
        }
      },
      {
        Sid       = "DenyOtherKmsKey"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "arn:aws:s3:::acme-shared-data/*"
        Condition = {
          Null = {
            "s3:x-amz-server-side-encryption-aws-kms-key-id" = "false"
          }
          StringNotEquals = {
            "s3:x-amz-server-side-encryption-aws-kms-key-id" = aws_kms_key.data.arn
          }
        }
      },
      {
        Sid       = "DenyKmsWithoutKeyArn"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:PutObject"
        Resource  = "arn:aws:s3:::acme-shared-data/*"
        Condition = {
          Null = {
            "s3:x-amz-server-side-encryption-aws-kms-key-id" = "true"
          }
          StringEquals = {
            "s3:x-amz-server-side-encryption" = "aws:kms"
          }
        }
      },
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

