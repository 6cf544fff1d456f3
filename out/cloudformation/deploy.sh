#!/usr/bin/env bash
# Deploys scenario shared-data with `aws cloudformation deploy`, one stack at a time in plan
# order (principal style: account). Each account is selected by its AWS CLI profile;
# a KMS key ARN created by one stack is looked up by alias and passed to the stacks that need it.
# Safe to re-run: a stack without changes is left as it is.
set -euo pipefail
cd "$(dirname "$0")"

# deploy [--s3-bucket BUCKET] STACK TEMPLATE PROFILE REGION [PARAMETER=VALUE…]
# A template over 51,200 bytes, more than CloudFormation takes in the request, goes through
# the account's artifact bucket.
deploy() {
  local s3=()
  if [[ $1 == --s3-bucket ]]; then
    s3=(--s3-bucket "$2")
    shift 2
  fi
  local stack=$1 template=$2 profile=$3 region=$4
  shift 4
  local output status extra=()
  if (($#)); then
    extra=(--parameter-overrides "$@")
  fi
  # A stack whose first create failed stays in ROLLBACK_COMPLETE, which CloudFormation can only
  # delete: delete it, then create it again.
  status=$(aws cloudformation describe-stacks --stack-name "$stack" --profile "$profile" \
    --region "$region" --query 'Stacks[0].StackStatus' --output text 2>/dev/null) || status=
  if [[ $status == ROLLBACK_COMPLETE ]]; then
    printf '%s: its first create failed (ROLLBACK_COMPLETE); deleting it before deploying again\n' "$stack"
    aws cloudformation delete-stack --stack-name "$stack" --profile "$profile" --region "$region"
    aws cloudformation wait stack-delete-complete --stack-name "$stack" --profile "$profile" --region "$region"
  fi
  if output=$(aws cloudformation deploy \
    --stack-name "$stack" \
    --template-file "$template" \
    --profile "$profile" \
    --region "$region" \
    --capabilities CAPABILITY_NAMED_IAM \
    --no-fail-on-empty-changeset \
    ${s3[@]+"${s3[@]}"} \
    ${extra[@]+"${extra[@]}"} 2>&1); then
    printf '%s\n' "$output"
  elif grep -q "No updates are to be performed" <<<"$output"; then
    printf '%s: no changes\n' "$stack"
  else
    printf '%s\n' "$output" >&2
    return 1
  fi
}

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

# Adds PARAMETER=value to the overrides of the next deploy when the environment sets VARIABLE.
environment_override() {
  local variable=$1 parameter=$2
  if [[ -n ${!variable:-} ]]; then
    overrides+=("$parameter=${!variable}")
  fi
}

key_arn() {
  aws kms describe-key --key-id "$3" --profile "$1" --region "$2" \
    --query KeyMetadata.Arn --output text
}

# Before anything is deployed: every profile must reach the account the scenario names.
check_account data 111111111111 data aws
check_account app 222222222222 app aws

# 1. shared-data-data-data: data of account data (111111111111) in ap-northeast-1
printf '==> step %s of %s: %s\n' 1 2 shared-data-data-data
deploy shared-data-data-data data-data.yaml data ap-northeast-1
KEY_ARN_DATA=$(key_arn data ap-northeast-1 alias/shared-data)

# 2. shared-data-app-access: access of account app (222222222222) in ap-northeast-1
#    after: data-data
printf '==> step %s of %s: %s\n' 2 2 shared-data-app-access
overrides=()
environment_override CROSSGRANT_APP_INSTANCE_TYPE AppInstanceType
environment_override CROSSGRANT_APP_IMAGE_ID AppImageId
deploy shared-data-app-access app-access.yaml app ap-northeast-1 "DataKeyArn=$KEY_ARN_DATA" ${overrides[@]+"${overrides[@]}"}
