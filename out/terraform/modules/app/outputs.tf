output "role_arn_app" {
  description = "ARN of role app-s3-cross-account"
  value       = aws_iam_role.app.arn
}
