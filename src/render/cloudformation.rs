//! CloudFormation: one template per deploy unit (`<account>-<phase>.yaml`, or `.json`), and
//! `deploy.sh`, which runs `aws cloudformation deploy` for each in plan order and feeds a key
//! ARN created by one stack to the parameters of the next.

use super::checkov::{self, Flavor};
use super::{
    filled, shell_quote, tag_views, truthy, yaml, yaml_str, yaml_text, Format, TagView,
    TemplateError, Templates,
};
use crate::lower::{producer, Lowered, Resource, UnitId};
use crate::model::Image;
use crate::names::{access_policy_name, key_logical, key_parameter, managed_policy_name, pascal};
use crate::plan::Step;
use crate::policy::{PolicyDocument, Ref};
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Serialize)]
struct StackView {
    description: String,
    parameters: Vec<ParameterView>,
    keys: Vec<KeyView>,
    buckets: Vec<BucketView>,
    roles: Vec<RoleView>,
    role_policies: Vec<RolePolicyView>,
    managed_policies: Vec<RolePolicyView>,
    instances: Vec<InstanceView>,
    outputs: Vec<OutputView>,
}

#[derive(Serialize)]
struct ParameterView {
    name: String,
    kind: String,
    description: String,
    default: Option<String>,
    allowed_pattern: Option<String>,
}

#[derive(Serialize)]
struct KeyView {
    logical: String,
    alias_logical: String,
    alias_name: String,
    description: String,
    rotation: bool,
    deletion_window_days: u32,
    /// The key policy as a JSON string: some tools (and local emulators) only accept a string.
    policy: String,
    tags: Vec<TagView>,
}

#[derive(Serialize)]
struct BucketView {
    logical: String,
    bucket_name: String,
    kms_key: Option<Json>,
    bucket_key: bool,
    object_ownership: &'static str,
    block_public_access: bool,
    versioning: bool,
    access_logs: Option<AccessLogsView>,
    abort_incomplete_uploads_days: Option<u32>,
    checkov_skips: Vec<checkov::Skip>,
    tags: Vec<TagView>,
    policy: Option<PolicyView>,
}

#[derive(Serialize)]
struct AccessLogsView {
    bucket_name: String,
    prefix: String,
}

#[derive(Serialize)]
struct PolicyView {
    logical: String,
    document: Json,
}

#[derive(Serialize)]
struct RoleView {
    logical: String,
    role_name: String,
    path: String,
    trust: Json,
    managed_policy_arns: Vec<String>,
    tags: Vec<TagView>,
    instance_profile: Option<String>,
}

#[derive(Serialize)]
struct RolePolicyView {
    logical: String,
    policy_name: String,
    role: Json,
    document: Json,
}

#[derive(Serialize)]
struct InstanceView {
    logical: String,
    image: Json,
    instance_type: Json,
    subnet: Option<Json>,
    profile: Json,
    checkov_skips: Vec<checkov::Skip>,
    tags: Vec<TagView>,
}

#[derive(Serialize)]
struct OutputView {
    name: String,
    description: String,
    value: Json,
}

fn role_logical(role: &str) -> String {
    format!("{}Role", pascal(role))
}

fn profile_logical(role: &str) -> String {
    format!("{}InstanceProfile", pascal(role))
}

/// Resolves references from inside `unit`: local resources by `!Ref`/`!GetAtt`, key ARNs of
/// other stacks through parameters, and names known up front as literals (the plan orders
/// the stacks that create them first).
struct CfnRefs<'a> {
    lowered: &'a Lowered,
    unit: &'a UnitId,
}

impl CfnRefs<'_> {
    fn local(&self, reference: &Ref) -> bool {
        producer(self.lowered, reference) == *self.unit
    }

    fn resolve(&self, reference: &Ref) -> Json {
        let scenario = &self.lowered.scenario;
        match reference {
            Ref::KeyArn(key) if self.local(reference) => {
                json!({ "Fn::GetAtt": [key_logical(key), "Arn"] })
            }
            Ref::KeyArn(key) => json!({ "Ref": key_parameter(key) }),
            Ref::RoleArn(role) => Json::String(scenario.role_arn(role)),
            Ref::InstanceProfile(instance) => {
                let role = &scenario.instances[instance].role;
                if self.local(reference) {
                    json!({ "Ref": profile_logical(role) })
                } else {
                    Json::String(scenario.roles[role].role_name.clone())
                }
            }
        }
    }

    fn document(&self, policy: &PolicyDocument) -> Json {
        policy.to_json(&|reference| self.resolve(reference))
    }
}

pub fn file_name(step: &Step, format: Format) -> PathBuf {
    let extension = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    PathBuf::from(format!("cloudformation/{}.{extension}", step.stem))
}

fn stack_view(lowered: &Lowered, step: &Step) -> StackView {
    let scenario = &lowered.scenario;
    let unit = &lowered.units[step.unit];
    let resolver = CfnRefs {
        lowered,
        unit: &unit.id,
    };
    let account = scenario.account(&unit.id.account);
    let mut view = StackView {
        description: format!(
            "crossgrant {}: {} of account {} ({}) in {}",
            scenario.name,
            unit.id.phase.as_str(),
            account.name,
            account.id,
            unit.id.region
        ),
        parameters: Vec::new(),
        keys: Vec::new(),
        buckets: Vec::new(),
        roles: Vec::new(),
        role_policies: Vec::new(),
        managed_policies: Vec::new(),
        instances: Vec::new(),
        outputs: Vec::new(),
    };
    for references in step.needs.values() {
        for reference in references {
            if let Ref::KeyArn(key) = reference {
                let key = &scenario.keys[key];
                view.parameters.push(ParameterView {
                    name: key_parameter(&key.name),
                    kind: "String".into(),
                    description: format!(
                        "ARN of KMS key alias/{} in account {} ({})",
                        key.alias,
                        key.account,
                        scenario.account(&key.account).id
                    ),
                    default: None,
                    allowed_pattern: Some(
                        "^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$".into(),
                    ),
                });
            }
        }
    }
    let mut bucket_policies: BTreeMap<&str, &PolicyDocument> = BTreeMap::new();
    for resource in &unit.resources {
        if let Resource::BucketPolicy { bucket, policy } = resource {
            bucket_policies.insert(bucket, policy);
        }
    }
    for resource in &unit.resources {
        match resource {
            Resource::Key { key, policy } => {
                let key = &scenario.keys[key];
                let document = resolver.document(policy);
                view.keys.push(KeyView {
                    logical: key_logical(&key.name),
                    alias_logical: format!("{}KeyAlias", pascal(&key.name)),
                    alias_name: format!("alias/{}", key.alias),
                    description: key.description.clone(),
                    rotation: key.rotation,
                    deletion_window_days: key.deletion_window_days,
                    policy: serde_json::to_string_pretty(&document).unwrap_or_default() + "\n",
                    tags: tag_views(&key.tags),
                });
                view.outputs.push(OutputView {
                    name: key_parameter(&key.name),
                    description: format!("ARN of KMS key alias/{}", key.alias),
                    value: json!({ "Fn::GetAtt": [key_logical(&key.name), "Arn"] }),
                });
            }
            Resource::Bucket { bucket } => {
                let bucket = &scenario.buckets[bucket];
                let logical = format!("{}Bucket", pascal(&bucket.name));
                let kms_key = bucket
                    .key()
                    .map(|key| resolver.resolve(&Ref::KeyArn(key.to_string())));
                let policy = bucket_policies
                    .get(bucket.name.as_str())
                    .map(|policy| PolicyView {
                        logical: format!("{logical}Policy"),
                        document: resolver.document(policy),
                    });
                view.outputs.push(OutputView {
                    name: format!("{logical}Arn"),
                    description: format!("ARN of bucket {}", bucket.bucket_name),
                    value: json!({ "Fn::GetAtt": [logical, "Arn"] }),
                });
                view.buckets.push(BucketView {
                    logical,
                    bucket_name: bucket.bucket_name.clone(),
                    kms_key,
                    bucket_key: bucket.bucket_key,
                    object_ownership: bucket.object_ownership.as_str(),
                    block_public_access: bucket.block_public_access,
                    versioning: bucket.versioning,
                    access_logs: bucket.access_logs.as_ref().map(|logs| AccessLogsView {
                        bucket_name: logs.bucket_name.clone(),
                        prefix: logs.prefix.clone(),
                    }),
                    abort_incomplete_uploads_days: bucket.abort_incomplete_uploads_days,
                    checkov_skips: checkov::bucket(bucket, Flavor::CloudFormation),
                    tags: tag_views(&bucket.tags),
                    policy,
                });
            }
            Resource::Role { role, trust } => {
                let role = &scenario.roles[role];
                let has_profile = unit.resources.iter().any(|other| {
                    matches!(other, Resource::InstanceProfile { role: name } if *name == role.name)
                });
                view.roles.push(RoleView {
                    logical: role_logical(&role.name),
                    role_name: role.role_name.clone(),
                    path: role.path.clone(),
                    trust: resolver.document(trust),
                    managed_policy_arns: role.managed_policy_arns.clone(),
                    tags: tag_views(&role.tags),
                    instance_profile: has_profile.then(|| profile_logical(&role.name)),
                });
                view.outputs.push(OutputView {
                    name: format!("{}Arn", role_logical(&role.name)),
                    description: format!("ARN of role {}", role.role_name),
                    value: json!({ "Fn::GetAtt": [role_logical(&role.name), "Arn"] }),
                });
            }
            Resource::RolePolicy { role, policy } => {
                view.role_policies.push(RolePolicyView {
                    logical: format!("{}AccessPolicy", pascal(role)),
                    policy_name: access_policy_name(&scenario.name),
                    role: role_reference(lowered, &unit.resources, role),
                    document: resolver.document(policy),
                });
            }
            Resource::ManagedPolicy {
                role,
                number,
                policy,
            } => {
                view.managed_policies.push(RolePolicyView {
                    logical: format!("{}ManagedPolicy{number}", pascal(role)),
                    policy_name: managed_policy_name(&scenario.name, role, *number),
                    role: role_reference(lowered, &unit.resources, role),
                    document: resolver.document(policy),
                });
            }
            Resource::Instance { instance } => {
                let instance = &scenario.instances[instance];
                let base = pascal(&instance.name);
                let (kind, default) = match &instance.image {
                    Image::Ami(id) => ("AWS::EC2::Image::Id", id.clone()),
                    Image::SsmParameter(path) => (
                        "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>",
                        path.clone(),
                    ),
                };
                view.parameters.push(ParameterView {
                    name: format!("{base}ImageId"),
                    kind: kind.into(),
                    description: format!("AMI of instance {}", instance.name),
                    default: Some(default),
                    allowed_pattern: None,
                });
                view.parameters.push(ParameterView {
                    name: format!("{base}InstanceType"),
                    kind: "String".into(),
                    description: format!("EC2 instance type of instance {}", instance.name),
                    default: Some(instance.instance_type.clone()),
                    allowed_pattern: None,
                });
                let subnet = instance.subnet.as_ref().map(|subnet| {
                    view.parameters.push(ParameterView {
                        name: format!("{base}SubnetId"),
                        kind: "AWS::EC2::Subnet::Id".into(),
                        description: format!("Subnet of instance {}", instance.name),
                        default: Some(subnet.clone()),
                        allowed_pattern: None,
                    });
                    json!({ "Ref": format!("{base}SubnetId") })
                });
                let mut tags = instance.tags.clone();
                tags.entry("Name".into())
                    .or_insert_with(|| format!("{}-{}", scenario.name, instance.name));
                view.instances.push(InstanceView {
                    logical: format!("{base}Instance"),
                    image: json!({ "Ref": format!("{base}ImageId") }),
                    instance_type: json!({ "Ref": format!("{base}InstanceType") }),
                    subnet,
                    profile: resolver.resolve(&Ref::InstanceProfile(instance.name.clone())),
                    checkov_skips: checkov::instance(Flavor::CloudFormation),
                    tags: tag_views(&tags),
                });
            }
            Resource::Alias { .. }
            | Resource::BucketPolicy { .. }
            | Resource::InstanceProfile { .. } => {}
        }
    }
    view
}

/// A role as a policy names it: by `!Ref` inside the stack that creates it, else by name.
fn role_reference(lowered: &Lowered, resources: &[Resource], role: &str) -> Json {
    let in_unit = resources
        .iter()
        .any(|other| matches!(other, Resource::Role { role: name, .. } if name == role));
    if in_unit {
        json!({ "Ref": role_logical(role) })
    } else {
        Json::String(lowered.scenario.roles[role].role_name.clone())
    }
}

pub fn render(
    templates: &Templates,
    lowered: &Lowered,
    steps: &[Step],
    format: Format,
) -> Result<BTreeMap<PathBuf, String>, TemplateError> {
    let mut files = BTreeMap::new();
    for step in steps {
        let yaml_text = templates.render(
            "cloudformation/stack.yaml",
            &stack_view(lowered, step),
            write_stack,
        )?;
        let invalid = |error: serde_yaml::Error| TemplateError::Yaml {
            name: "cloudformation/stack.yaml".into(),
            message: error.to_string(),
        };
        // A template from the override directory may emit anything: its output is parsed
        // before it is written. The embedded template's output is valid YAML by construction
        // (every value goes through the YAML emitter; the test suite parses and lints it for
        // every example and for hostile and fuzzed values), so it is parsed only to make JSON.
        let text = match format {
            Format::Yaml if !templates.overridden() => yaml_text,
            Format::Yaml => {
                yaml::to_json(&yaml_text).map_err(invalid)?;
                yaml_text
            }
            Format::Json => {
                let document = yaml::to_json(&yaml_text).map_err(invalid)?;
                serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
            }
        };
        files.insert(file_name(step, format), text);
    }
    files.insert(
        PathBuf::from("cloudformation/deploy.sh"),
        templates.render(
            "cloudformation/deploy.sh",
            &deploy_view(lowered, steps, format),
            write_deploy,
        )?,
    );
    Ok(files)
}

/// `templates/cloudformation/stack.yaml.hbs`, compiled in.
fn write_stack(view: &StackView, out: &mut String) {
    put!(
        out,
        "AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: {}\n",
        yaml_str(&view.description)
    );
    if !view.parameters.is_empty() {
        out.push_str("Parameters:\n");
    }
    for parameter in &view.parameters {
        put!(
            out,
            "  {}:\n    Type: {}\n    Description: {}\n",
            parameter.name,
            yaml_str(&parameter.kind),
            yaml_str(&parameter.description)
        );
        if let Some(default) = filled(&parameter.default) {
            put!(out, "    Default: {}\n", yaml_str(default));
        }
        if let Some(pattern) = filled(&parameter.allowed_pattern) {
            put!(out, "    AllowedPattern: {}\n", yaml_str(pattern));
        }
    }
    out.push_str("Resources:\n");
    for key in &view.keys {
        put!(
            out,
            "  {}:\n    Type: AWS::KMS::Key\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n    Properties:\n      Description: {}\n      EnableKeyRotation: {}\n      PendingWindowInDays: {}\n      KeyPolicy:{}\n",
            key.logical,
            yaml_str(&key.description),
            key.rotation,
            key.deletion_window_days,
            yaml_text(&Json::String(key.policy.clone()), Some(8))
        );
        write_tags(&key.tags, out);
        put!(
            out,
            "  {}:\n    Type: AWS::KMS::Alias\n    Properties:\n      AliasName: {}\n      TargetKeyId: !Ref {}\n",
            key.alias_logical,
            yaml_str(&key.alias_name),
            key.logical
        );
    }
    for bucket in &view.buckets {
        put!(
            out,
            "  {}:\n    Type: AWS::S3::Bucket\n    DeletionPolicy: Retain\n    UpdateReplacePolicy: Retain\n",
            bucket.logical
        );
        write_skips(&bucket.checkov_skips, out);
        put!(
            out,
            "    Properties:\n      BucketName: {}\n      BucketEncryption:\n        ServerSideEncryptionConfiguration:\n          - ServerSideEncryptionByDefault:\n              SSEAlgorithm: aws:kms\n",
            yaml_str(&bucket.bucket_name)
        );
        if let Some(key) = bucket.kms_key.as_ref().filter(|key| truthy(key)) {
            put!(
                out,
                "              KMSMasterKeyID: {}\n",
                yaml_text(key, None)
            );
        }
        put!(
            out,
            "            BucketKeyEnabled: {}\n      OwnershipControls:\n        Rules:\n          - ObjectOwnership: {}\n",
            bucket.bucket_key,
            bucket.object_ownership
        );
        if bucket.block_public_access {
            out.push_str("      PublicAccessBlockConfiguration:\n        BlockPublicAcls: true\n        BlockPublicPolicy: true\n        IgnorePublicAcls: true\n        RestrictPublicBuckets: true\n");
        }
        if bucket.versioning {
            out.push_str("      VersioningConfiguration:\n        Status: Enabled\n");
        }
        if let Some(days) = bucket
            .abort_incomplete_uploads_days
            .filter(|days| *days != 0)
        {
            put!(
                out,
                "      LifecycleConfiguration:\n        Rules:\n          - Id: abort-incomplete-multipart-uploads\n            Status: Enabled\n            AbortIncompleteMultipartUpload:\n              DaysAfterInitiation: {days}\n"
            );
        }
        if let Some(logs) = &bucket.access_logs {
            put!(
                out,
                "      LoggingConfiguration:\n        DestinationBucketName: {}\n        LogFilePrefix: {}\n",
                yaml_str(&logs.bucket_name),
                yaml_str(&logs.prefix)
            );
        }
        write_tags(&bucket.tags, out);
        if let Some(policy) = &bucket.policy {
            put!(
                out,
                "  {}:\n    Type: AWS::S3::BucketPolicy\n    Properties:\n      Bucket: !Ref {}\n      PolicyDocument:\n{}\n",
                policy.logical,
                bucket.logical,
                yaml::block(&policy.document, 8)
            );
        }
    }
    for role in &view.roles {
        put!(
            out,
            "  {}:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: {}\n      Path: {}\n      AssumeRolePolicyDocument:\n{}\n",
            role.logical,
            yaml_str(&role.role_name),
            yaml_str(&role.path),
            yaml::block(&role.trust, 8)
        );
        if !role.managed_policy_arns.is_empty() {
            out.push_str("      ManagedPolicyArns:\n");
        }
        for arn in &role.managed_policy_arns {
            put!(out, "        - {}\n", yaml_str(arn));
        }
        write_tags(&role.tags, out);
        if let Some(profile) = filled(&role.instance_profile) {
            put!(
                out,
                "  {profile}:\n    Type: AWS::IAM::InstanceProfile\n    Properties:\n      InstanceProfileName: {}\n      Path: {}\n      Roles:\n        - !Ref {}\n",
                yaml_str(&role.role_name),
                yaml_str(&role.path),
                role.logical
            );
        }
    }
    for (policies, kind, name_property) in [
        (&view.role_policies, "AWS::IAM::Policy", "PolicyName"),
        (
            &view.managed_policies,
            "AWS::IAM::ManagedPolicy",
            "ManagedPolicyName",
        ),
    ] {
        for policy in policies {
            put!(
                out,
                "  {}:\n    Type: {kind}\n    Properties:\n      {name_property}: {}\n      Roles:\n        - {}\n      PolicyDocument:\n{}\n",
                policy.logical,
                yaml_str(&policy.policy_name),
                yaml_text(&policy.role, None),
                yaml::block(&policy.document, 8)
            );
        }
    }
    for instance in &view.instances {
        put!(
            out,
            "  {}:\n    Type: AWS::EC2::Instance\n",
            instance.logical
        );
        write_skips(&instance.checkov_skips, out);
        put!(
            out,
            "    Properties:\n      ImageId: {}\n      InstanceType: {}\n      IamInstanceProfile: {}\n",
            yaml_text(&instance.image, None),
            yaml_text(&instance.instance_type, None),
            yaml_text(&instance.profile, None)
        );
        if let Some(subnet) = instance.subnet.as_ref().filter(|subnet| truthy(subnet)) {
            put!(out, "      SubnetId: {}\n", yaml_text(subnet, None));
        }
        out.push_str("      MetadataOptions:\n        HttpTokens: required\n      Tags:\n");
        write_tag_items(&instance.tags, out);
    }
    if !view.outputs.is_empty() {
        out.push_str("Outputs:\n");
    }
    for output in &view.outputs {
        put!(
            out,
            "  {}:\n    Description: {}\n    Value: {}\n",
            output.name,
            yaml_str(&output.description),
            yaml_text(&output.value, None)
        );
    }
}

/// A resource's `Tags` property, when it has tags.
fn write_tags(tags: &[TagView], out: &mut String) {
    if !tags.is_empty() {
        out.push_str("      Tags:\n");
        write_tag_items(tags, out);
    }
}

fn write_tag_items(tags: &[TagView], out: &mut String) {
    for tag in tags {
        put!(
            out,
            "        - Key: {}\n          Value: {}\n",
            yaml_str(&tag.key),
            yaml_str(&tag.value)
        );
    }
}

/// A resource's checkov skips, as its `Metadata`.
fn write_skips(skips: &[checkov::Skip], out: &mut String) {
    if skips.is_empty() {
        return;
    }
    out.push_str("    Metadata:\n      checkov:\n        skip:\n");
    for skip in skips {
        put!(
            out,
            "          - id: {}\n            comment: {}\n",
            skip.id,
            yaml_str(skip.comment)
        );
    }
}

#[derive(Serialize)]
struct DeployView {
    scenario: String,
    principal_style: &'static str,
    steps: Vec<DeployStepView>,
}

#[derive(Serialize)]
struct DeployStepView {
    number: usize,
    stack_name: String,
    template: String,
    account: String,
    account_id: String,
    profile: String,
    region: String,
    phase: &'static str,
    needs: Vec<String>,
    overrides: Vec<OverrideView>,
    key_lookups: Vec<KeyLookupView>,
}

#[derive(Serialize)]
struct OverrideView {
    parameter: String,
    variable: String,
}

#[derive(Serialize)]
struct KeyLookupView {
    variable: String,
    alias: String,
}

/// `templates/cloudformation/deploy.sh.hbs`, compiled in.
fn write_deploy(view: &DeployView, out: &mut String) {
    let (scenario, principal_style) = (&view.scenario, view.principal_style);
    put!(
        out,
        r#"#!/usr/bin/env bash
# Deploys scenario {scenario} with `aws cloudformation deploy`, one stack at a time in plan
# order (principal style: {principal_style}). Each account is selected by its AWS CLI profile;
# a KMS key ARN created by one stack is looked up by alias and passed to the stacks that need it.
# Safe to re-run: a stack without changes is left as it is.
set -euo pipefail
cd "$(dirname "$0")"

deploy() {{
  local stack=$1 template=$2 profile=$3 region=$4
  shift 4
  local output extra=()
  if (($#)); then
    extra=(--parameter-overrides "$@")
  fi
  if output=$(aws cloudformation deploy \
    --stack-name "$stack" \
    --template-file "$template" \
    --profile "$profile" \
    --region "$region" \
    --capabilities CAPABILITY_NAMED_IAM \
    --no-fail-on-empty-changeset \
    ${{extra[@]+"${{extra[@]}}"}} 2>&1); then
    printf '%s\n' "$output"
  elif grep -q "No updates are to be performed" <<<"$output"; then
    printf '%s: no changes\n' "$stack"
  else
    printf '%s\n' "$output" >&2
    return 1
  fi
}}

key_arn() {{
  aws kms describe-key --key-id "$3" --profile "$1" --region "$2" \
    --query KeyMetadata.Arn --output text
}}
"#
    );
    for step in &view.steps {
        put!(
            out,
            "\n# {}. {}: {} of account {} ({}) in {}\n",
            step.number,
            step.stack_name,
            step.phase,
            step.account,
            step.account_id,
            step.region
        );
        if !step.needs.is_empty() {
            put!(out, "#    after: {}\n", step.needs.join(", "));
        }
        put!(
            out,
            "deploy {} {} {} {}",
            shell_quote(&step.stack_name),
            shell_quote(&step.template),
            shell_quote(&step.profile),
            shell_quote(&step.region)
        );
        for parameter in &step.overrides {
            put!(out, " \"{}=${}\"", parameter.parameter, parameter.variable);
        }
        out.push('\n');
        for lookup in &step.key_lookups {
            put!(
                out,
                "{}=$(key_arn {} {} {})\n",
                lookup.variable,
                shell_quote(&step.profile),
                shell_quote(&step.region),
                shell_quote(&lookup.alias)
            );
        }
    }
}

fn key_variable(key: &str) -> String {
    format!("KEY_ARN_{}", key.replace('-', "_").to_uppercase())
}

fn deploy_view(lowered: &Lowered, steps: &[Step], format: Format) -> DeployView {
    let scenario = &lowered.scenario;
    let steps = steps
        .iter()
        .enumerate()
        .map(|(index, step)| {
            let account = scenario.account(&step.id.account);
            let unit = &lowered.units[step.unit];
            let overrides = step
                .needs
                .values()
                .flatten()
                .filter_map(|reference| match reference {
                    Ref::KeyArn(key) => Some(OverrideView {
                        parameter: key_parameter(key),
                        variable: key_variable(key),
                    }),
                    _ => None,
                })
                .collect();
            let key_lookups = unit
                .resources
                .iter()
                .filter_map(|resource| match resource {
                    Resource::Key { key, .. } => Some(KeyLookupView {
                        variable: key_variable(key),
                        alias: format!("alias/{}", scenario.keys[key].alias),
                    }),
                    _ => None,
                })
                .collect();
            DeployStepView {
                number: index + 1,
                stack_name: step.stack_name.clone(),
                template: file_name(step, format)
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                account: account.name.clone(),
                account_id: account.id.clone(),
                profile: account.profile.clone(),
                region: step.id.region.clone(),
                phase: step.id.phase.as_str(),
                needs: step
                    .needs
                    .keys()
                    .map(|id| crate::plan::stem(lowered, id))
                    .collect(),
                overrides,
                key_lookups,
            }
        })
        .collect();
    DeployView {
        scenario: scenario.name.clone(),
        principal_style: scenario.principal_style.as_str(),
        steps,
    }
}
