#!/usr/bin/env bash
# Deletes the stacks of scenario shared-data in reverse plan order, each after the stacks that
# need it. What the stacks retain (DeletionPolicy) stays, and is listed at the end:
# the data outlives the stacks, as it does in the Terraform output.
set -euo pipefail
cd "$(dirname "$0")"

# A profile that reaches another account (or partition) than the scenario says would deploy
# there.
check_account() {
  local profile=$1 expected=$2 account=$3 partition=$4 identity actual arn
  if ! identity=$(aws sts get-caller-identity --profile "$profile" --query '[Account, Arn]' --output text 2>&1); then
    printf 'profile %s (account %s) cannot be used: %s\nnothing was deployed\n' "$profile" "$account" "$identity" >&2
    exit 1
  fi
  read -r actual arn <<<"$identity"
  if [[ $arn != "arn:$partition:"* ]]; then
    printf 'profile %s signs in as %s, but the scenario deploys account %s in the %s partition with it\nnothing was deployed\n' "$profile" "$arn" "$account" "$partition" >&2
    exit 1
  fi
  if [[ $actual != "$expected" ]]; then
    printf 'profile %s reaches account %s, but the scenario deploys account %s (%s) with it\nnothing was deployed\n' "$profile" "$actual" "$account" "$expected" >&2
    exit 1
  fi
}

# Before anything is deleted: every profile must reach the account the scenario names.
check_account data 111111111111 data aws
check_account app 222222222222 app aws

printf '==> deleting %s\n' shared-data-app-access
aws cloudformation delete-stack --stack-name shared-data-app-access --profile app --region ap-northeast-1
aws cloudformation wait stack-delete-complete --stack-name shared-data-app-access --profile app --region ap-northeast-1

printf '==> deleting %s\n' shared-data-data-data
aws cloudformation delete-stack --stack-name shared-data-data-data --profile data --region ap-northeast-1
aws cloudformation wait stack-delete-complete --stack-name shared-data-data-data --profile data --region ap-northeast-1

echo "Kept, as the stacks retain them:"
printf '  %s (account %s)\n' 'KMS key alias/shared-data' data
printf '  S3 bucket %s (account %s)\n' acme-shared-data data
