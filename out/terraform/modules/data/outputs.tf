output "key_arn_data" {
  description = "ARN of KMS key alias/shared-data in account data"
  value       = aws_kms_key.data.arn
}

output "bucket_arn_shared" {
  description = "ARN of bucket acme-shared-data"
  value       = aws_s3_bucket.shared.arn
}
