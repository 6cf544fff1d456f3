//! CloudFormation: one template per deploy unit (`<account>-<phase>.yaml`, or `.json`), and
//! `deploy.sh`, which runs `aws cloudformation deploy` for each in plan order and feeds a key
//! ARN created by one stack to the parameters of the next.

use super::checkov;
use super::{tag_views, yaml, Format, TagView, TemplateError, Templates};
use crate::aws;
use crate::lower::stacks::TemplateSize;
use crate::lower::{known, producer, Lowered, Resource, Unit, UnitId};
use crate::model::Image;
use crate::names::{
    access_policy_name, environment_name, key_logical, key_parameter, key_variable,
    managed_policy_name, pascal,
};
use crate::plan::Step;
use crate::policy::{PolicyDocument, Ref};
use serde::Serialize;
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

#[derive(Serialize)]
struct StackView {
    description: String,
    parameters: Vec<ParameterView>,
    keys: Vec<CfnKeyView>,
    buckets: Vec<CfnBucketView>,
    roles: Vec<CfnRoleView>,
    role_policies: Vec<CfnRolePolicyView>,
    managed_policies: Vec<CfnRolePolicyView>,
    instances: Vec<CfnInstanceView>,
    outputs: Vec<CfnOutputView>,
    /// Policies of buckets that exist already.
    existing_bucket_policies: Vec<PolicyView>,
    access_points: Vec<CfnAccessPointView>,
}

#[derive(Serialize)]
struct CfnAccessPointView {
    logical: String,
    name: String,
    /// The bucket, by `!Ref` when the stack creates it, else by name.
    bucket: Json,
    bucket_account_id: String,
    policy: Option<Json>,
}

impl StackView {
    /// How many resources the template declares.
    fn resources(&self) -> usize {
        self.keys.len() * 2
            + self.buckets.len()
            + self.buckets.iter().filter(|b| b.policy.is_some()).count()
            + self.existing_bucket_policies.len()
            + self.roles.len()
            + self
                .roles
                .iter()
                .filter(|r| r.instance_profile.is_some())
                .count()
            + self.role_policies.len()
            + self.managed_policies.len()
            + self.instances.len()
            + self.access_points.len()
    }
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
struct CfnKeyView {
    logical: String,
    alias_logical: String,
    alias_name: String,
    description: String,
    rotation: bool,
    deletion_window_days: u32,
    /// The key policy as a mapping, as the bucket policy is, so scanners read it.
    policy: Json,
    #[serde(flatten)]
    skips: checkov::CloudFormationSkips,
    tags: Vec<TagView>,
}

#[derive(Serialize)]
struct CfnBucketView {
    logical: String,
    bucket_name: String,
    kms_key: Option<Json>,
    bucket_key: bool,
    object_ownership: &'static str,
    block_public_access: bool,
    versioning: bool,
    access_logs: Option<CfnAccessLogsView>,
    abort_incomplete_uploads_days: Option<u32>,
    #[serde(flatten)]
    skips: checkov::CloudFormationSkips,
    tags: Vec<TagView>,
    policy: Option<PolicyView>,
}

#[derive(Serialize)]
struct CfnAccessLogsView {
    bucket_name: String,
    prefix: String,
}

#[derive(Serialize)]
struct PolicyView {
    logical: String,
    /// The bucket, by `!Ref` when the stack creates it, else by name.
    bucket: Json,
    bucket_name: String,
    /// The live policy whose statements it keeps, for a bucket that exists already.
    live_file: Option<String>,
    /// Kept when the stack is deleted: the policy of a bucket that exists already.
    retain: bool,
    document: Json,
}

#[derive(Serialize)]
struct CfnRoleView {
    logical: String,
    role_name: String,
    path: String,
    trust: Json,
    managed_policy_arns: Vec<String>,
    permissions_boundary: Option<String>,
    tags: Vec<TagView>,
    instance_profile: Option<String>,
    #[serde(flatten)]
    skips: checkov::CloudFormationSkips,
}

#[derive(Serialize)]
struct CfnRolePolicyView {
    logical: String,
    #[serde(flatten)]
    skips: checkov::CloudFormationSkips,
    policy_name: String,
    role: Json,
    document: Json,
}

#[derive(Serialize)]
struct CfnInstanceView {
    logical: String,
    image: Json,
    instance_type: Json,
    subnet: Option<Json>,
    profile: Json,
    #[serde(flatten)]
    skips: checkov::CloudFormationSkips,
    tags: Vec<TagView>,
}

#[derive(Serialize)]
struct CfnOutputView {
    name: String,
    description: String,
    value: Json,
}

/// The logical id of a bucket's access point for one account.
fn access_point_logical(bucket: &str, account: &str) -> String {
    format!("{}{}AccessPoint", pascal(bucket), pascal(account))
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
    /// What the unit's own resources create.
    local: BTreeSet<Ref>,
}

impl<'a> CfnRefs<'a> {
    fn new(lowered: &'a Lowered, unit: &Unit) -> Self {
        CfnRefs {
            lowered,
            local: unit
                .resources
                .iter()
                .flat_map(|resource| resource.produces(&lowered.scenario))
                .collect(),
        }
    }

    fn local(&self, reference: &Ref) -> bool {
        self.local.contains(reference)
    }

    fn resolve(&self, reference: &Ref) -> Json {
        let scenario = &self.lowered.scenario;
        if let Some(text) = known(scenario, reference) {
            return Json::String(text);
        }
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
        policy.to_typed_json(&|reference| self.resolve(reference))
    }
}

pub fn file_name(step: &Step, format: Format) -> PathBuf {
    let extension = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    PathBuf::from(format!("cloudformation/{}.{extension}", step.stem))
}

fn stack_view(lowered: &Lowered, unit: &Unit, needs: &BTreeMap<UnitId, Vec<Ref>>) -> StackView {
    let scenario = &lowered.scenario;
    let resolver = CfnRefs::new(lowered, unit);
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
        access_points: Vec::new(),
        keys: Vec::new(),
        buckets: Vec::new(),
        roles: Vec::new(),
        role_policies: Vec::new(),
        managed_policies: Vec::new(),
        instances: Vec::new(),
        outputs: Vec::new(),
        existing_bucket_policies: Vec::new(),
    };
    for references in needs.values() {
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
                view.keys.push(CfnKeyView {
                    logical: key_logical(&key.name),
                    alias_logical: format!("{}KeyAlias", pascal(&key.name)),
                    alias_name: format!("alias/{}", key.alias),
                    description: key.description.clone(),
                    rotation: key.rotation,
                    deletion_window_days: key.deletion_window_days,
                    policy: document,
                    skips: checkov::key_policy(policy).cloudformation(),
                    tags: tag_views(&key.tags),
                });
                view.outputs.push(CfnOutputView {
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
                        bucket: json!({ "Ref": logical }),
                        bucket_name: bucket.bucket_name.clone(),
                        live_file: None,
                        retain: false,
                        document: resolver.document(policy),
                    });
                view.outputs.push(CfnOutputView {
                    name: format!("{logical}Arn"),
                    description: format!("ARN of bucket {}", bucket.bucket_name),
                    value: json!({ "Fn::GetAtt": [logical, "Arn"] }),
                });
                view.buckets.push(CfnBucketView {
                    logical,
                    bucket_name: bucket.bucket_name.clone(),
                    kms_key,
                    bucket_key: bucket.bucket_key,
                    object_ownership: bucket.object_ownership.as_str(),
                    block_public_access: bucket.block_public_access,
                    versioning: bucket.versioning,
                    access_logs: bucket.access_logs.as_ref().map(|logs| CfnAccessLogsView {
                        bucket_name: logs.bucket_name.clone(),
                        prefix: logs.prefix.clone(),
                    }),
                    abort_incomplete_uploads_days: bucket.abort_incomplete_uploads_days,
                    skips: checkov::bucket(bucket).cloudformation(),
                    tags: tag_views(&bucket.tags),
                    policy,
                });
            }
            Resource::AccessPoint {
                bucket,
                account,
                policy,
            } => {
                let bucket = &scenario.buckets[bucket];
                let bucket_logical = format!("{}Bucket", pascal(&bucket.name));
                let creates_bucket = unit
                    .resources
                    .iter()
                    .any(|other| matches!(other, Resource::Bucket { bucket: name } if *name == bucket.name));
                let logical = access_point_logical(&bucket.name, account);
                view.access_points.push(CfnAccessPointView {
                    logical: logical.clone(),
                    name: bucket.access_points[account].clone(),
                    bucket: if creates_bucket {
                        json!({ "Ref": bucket_logical })
                    } else {
                        json!(bucket.bucket_name)
                    },
                    bucket_account_id: scenario.account(&bucket.account).id.clone(),
                    policy: policy.as_ref().map(|policy| resolver.document(policy)),
                });
                for (attribute, what) in [("Arn", "ARN"), ("Alias", "alias")] {
                    view.outputs.push(CfnOutputView {
                        name: format!("{logical}{attribute}"),
                        description: super::access_point_output(what, account, &bucket.bucket_name),
                        value: json!({ "Fn::GetAtt": [logical, attribute] }),
                    });
                }
            }
            Resource::Role { role, trust } => {
                let role = &scenario.roles[role];
                let has_profile = unit.resources.iter().any(|other| {
                    matches!(other, Resource::InstanceProfile { role: name } if *name == role.name)
                });
                view.roles.push(CfnRoleView {
                    logical: role_logical(&role.name),
                    role_name: role.role_name.clone(),
                    path: role.path.clone(),
                    trust: resolver.document(trust),
                    managed_policy_arns: role.managed_policy_arns.clone(),
                    permissions_boundary: role.permissions_boundary.clone(),
                    tags: tag_views(&role.tags),
                    instance_profile: has_profile.then(|| profile_logical(&role.name)),
                    skips: checkov::role(trust).cloudformation(),
                });
                view.outputs.push(CfnOutputView {
                    name: format!("{}Arn", role_logical(&role.name)),
                    description: format!("ARN of role {}", role.role_name),
                    value: json!({ "Fn::GetAtt": [role_logical(&role.name), "Arn"] }),
                });
            }
            Resource::RolePolicy { role, policy } => {
                view.role_policies.push(CfnRolePolicyView {
                    logical: format!("{}AccessPolicy", pascal(role)),
                    skips: checkov::Exemptions::default().cloudformation(),
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
                view.managed_policies.push(CfnRolePolicyView {
                    logical: format!("{}ManagedPolicy{number}", pascal(role)),
                    skips: checkov::managed_policy().cloudformation(),
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
                view.instances.push(CfnInstanceView {
                    logical: format!("{base}Instance"),
                    image: json!({ "Ref": format!("{base}ImageId") }),
                    instance_type: json!({ "Ref": format!("{base}InstanceType") }),
                    subnet,
                    profile: resolver.resolve(&Ref::InstanceProfile(instance.name.clone())),
                    skips: checkov::instance(instance).cloudformation(),
                    tags: tag_views(&tags),
                });
            }
            Resource::BucketPolicy { bucket, policy } => {
                let bucket = &scenario.buckets[bucket];
                if bucket.existing.is_some() {
                    view.existing_bucket_policies.push(PolicyView {
                        logical: format!("{}BucketPolicy", pascal(&bucket.name)),
                        bucket: Json::String(bucket.bucket_name.clone()),
                        bucket_name: bucket.bucket_name.clone(),
                        live_file: bucket.live_policy().map(|live| live.file.clone()),
                        retain: true,
                        document: resolver.document(policy),
                    });
                }
            }
            // Applied by the deploy script: CloudFormation cannot manage the policy of a key
            // it did not create.
            Resource::KeyPolicy { .. }
            | Resource::Alias { .. }
            | Resource::InstanceProfile { .. } => {}
        }
    }
    view
}

/// Whether a unit has anything for CloudFormation: a unit that only sets the policies of
/// existing keys has no stack.
fn has_stack(unit: &crate::lower::Unit) -> bool {
    unit.resources
        .iter()
        .any(|resource| !matches!(resource, Resource::KeyPolicy { .. }))
}

/// Where the deploy script finds the key policy it applies to an existing key, and the live
/// policy captured for it, relative to `cloudformation/` (a directory of their own, apart from
/// the templates, which tools find by extension).
fn key_policy_files(key: &str) -> (String, String) {
    (
        format!("key-policies/{key}.json"),
        format!("key-policies/{key}.captured.json"),
    )
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

/// The template of one unit, as written.
fn render_stack(
    templates: &Templates,
    view: &StackView,
    format: Format,
) -> Result<String, TemplateError> {
    let yaml_text = templates.render("cloudformation/stack.yaml", view)?;
    let invalid = |error: serde_yaml::Error| TemplateError::Yaml {
        name: "cloudformation/stack.yaml".into(),
        message: error.to_string(),
    };
    // A template from the override directory may emit anything: its output is parsed
    // before it is written. The embedded template's output is valid YAML by construction
    // (every value goes through the YAML emitter; the test suite parses and lints it for
    // every example and for hostile and fuzzed values), so it is parsed only to make JSON.
    Ok(match format {
        Format::Yaml if !templates.overridden() => yaml_text,
        Format::Yaml => {
            yaml::to_json(&yaml_text).map_err(invalid)?;
            yaml_text
        }
        Format::Json => {
            let document = yaml::to_json(&yaml_text).map_err(invalid)?;
            serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
        }
    })
}

/// A template rendered to be measured, with the references between stacks it was rendered
/// for: `render` writes it as it is when the plan gives its unit the same ones.
pub struct RenderedStack {
    pub needs: BTreeMap<UnitId, Vec<Ref>>,
    pub text: String,
}

/// The last template measured for each unit.
pub type RenderedStacks = BTreeMap<UnitId, RenderedStack>;

/// The size and counts of the template `unit` renders to, against CloudFormation's limits,
/// with its text; `None` for a unit that deploys no stack. What the unit's resources do not
/// create themselves it receives as parameters, as a stack of its own would.
pub fn measure(
    templates: &Templates,
    lowered: &Lowered,
    unit: &Unit,
    format: Format,
) -> Result<Option<(TemplateSize, RenderedStack)>, TemplateError> {
    if !has_stack(unit) {
        return Ok(None);
    }
    let scenario = &lowered.scenario;
    let local: BTreeSet<Ref> = unit
        .resources
        .iter()
        .flat_map(|resource| resource.produces(scenario))
        .collect();
    let mut needs: BTreeMap<UnitId, Vec<Ref>> = BTreeMap::new();
    for reference in unit
        .resources
        .iter()
        .flat_map(|resource| resource.refs_in(scenario))
    {
        if local.contains(&reference) {
            continue;
        }
        if let Some(from) = producer(lowered, &reference) {
            let list = needs.entry(from).or_default();
            if !list.contains(&reference) {
                list.push(reference);
            }
        }
    }
    let view = stack_view(lowered, unit, &needs);
    let text = render_stack(templates, &view, format)?;
    let size = TemplateSize {
        bytes: text.len(),
        resources: view.resources(),
        parameters: view.parameters.iter().map(|p| p.name.clone()).collect(),
        outputs: view.outputs.len(),
    };
    Ok(Some((size, RenderedStack { needs, text })))
}

/// Every CloudFormation file; a stack whose template was rendered already to be measured, for
/// the references the plan gives it, is taken from `rendered`.
pub fn render(
    templates: &Templates,
    lowered: &Lowered,
    steps: &[Step],
    format: Format,
    rendered: &RenderedStacks,
) -> Result<BTreeMap<PathBuf, String>, TemplateError> {
    let mut files = BTreeMap::new();
    // The byte size of each unit's template, which decides how deploy.sh passes it.
    let mut sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for step in steps {
        let unit = &lowered.units[step.unit];
        for resource in &unit.resources {
            if let Resource::KeyPolicy { key, policy } = resource {
                let resolver = CfnRefs::new(lowered, unit);
                let (merged, captured) = key_policy_files(key);
                let json_view = |document: &Json| json!({ "document": document });
                files.insert(
                    PathBuf::from("cloudformation").join(merged),
                    templates.render("policy.json", &json_view(&resolver.document(policy)))?,
                );
                if let Some(live) = lowered.scenario.keys[key].live_policy() {
                    files.insert(
                        PathBuf::from("cloudformation").join(captured),
                        templates.render("policy.json", &json_view(&live.document))?,
                    );
                }
            }
        }
        if !has_stack(unit) {
            continue;
        }
        let text = match rendered.get(&unit.id) {
            Some(stack) if stack.needs == step.needs => stack.text.clone(),
            _ => render_stack(templates, &stack_view(lowered, unit, &step.needs), format)?,
        };
        sizes.insert(step.unit, text.len());
        files.insert(file_name(step, format), text);
    }
    let view = deploy_view(lowered, steps, format, &sizes);
    files.insert(
        PathBuf::from("cloudformation/deploy.sh"),
        templates.render("cloudformation/deploy.sh", &view)?,
    );
    files.insert(
        PathBuf::from("cloudformation/destroy.sh"),
        templates.render("cloudformation/destroy.sh", &view)?,
    );
    Ok(files)
}

#[derive(Serialize)]
struct DeployView {
    scenario: String,
    /// The accounts whose templates deploy through an S3 bucket.
    artifact_buckets: Vec<ArtifactBucketView>,
    /// Whether a step takes instance parameters from the environment.
    instances: bool,
    /// The steps in reverse plan order, for `destroy.sh`.
    destroy: Vec<DestroyStepView>,
    principal_style: &'static str,
    /// Whether the script applies the policy of an existing key.
    existing_keys: bool,
    /// Every profile the script uses, with the account it must reach.
    accounts: Vec<AccountCheckView>,
    total: usize,
    steps: Vec<DeployStepView>,
}

/// An account with templates over 51,200 bytes, which deploy through an S3 bucket.
#[derive(Serialize)]
struct ArtifactBucketView {
    account: String,
    /// The account's name in `CROSSGRANT_ARTIFACT_BUCKET_<suffix>` and in the shell variable
    /// `ARTIFACT_BUCKET_<suffix>` the script keeps it in.
    suffix: String,
    /// The scenario's `artifact_bucket`; empty when it names none.
    default: String,
    templates: Vec<String>,
}

#[derive(Serialize)]
struct DestroyStepView {
    stack_name: String,
    account: String,
    profile: String,
    region: String,
    has_stack: bool,
    /// What CloudFormation keeps when the stack is deleted (`DeletionPolicy: Retain`).
    retained: Vec<RetainedView>,
}

/// One thing a stack keeps when it is deleted: `kind` is `key`, `bucket`, `bucket-policy` (of
/// an existing bucket) or `key-policy` (of an existing key, which no stack holds).
#[derive(Serialize)]
struct RetainedView {
    kind: &'static str,
    name: String,
}

#[derive(Serialize)]
struct AccountCheckView {
    profile: String,
    account: String,
    account_id: String,
    /// The partition the account is in (`aws`, `aws-cn`, `aws-us-gov`).
    partition: &'static str,
}

#[derive(Serialize)]
struct DeployStepView {
    /// The shell variable holding the artifact bucket, for a template over 51,200 bytes.
    s3_bucket: Option<String>,
    /// Parameters the environment may set (instance type, image, subnet).
    environment_overrides: Vec<OverrideView>,
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
    has_stack: bool,
    key_policies: Vec<KeyPolicyStepView>,
}

/// A key policy the deploy script applies to an existing key.
#[derive(Serialize)]
struct KeyPolicyStepView {
    arn: String,
    file: String,
    /// The live policy captured for the scenario; empty when none was.
    captured: String,
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

/// The instance parameters of a unit's stack that `deploy.sh` takes from the environment when
/// set: `CROSSGRANT_<INSTANCE>_INSTANCE_TYPE`, `…_IMAGE_ID` and, where the stack has one,
/// `…_SUBNET_ID`.
fn environment_overrides(lowered: &Lowered, unit: &Unit) -> Vec<OverrideView> {
    let mut overrides = Vec::new();
    for resource in &unit.resources {
        if let Resource::Instance { instance } = resource {
            let instance = &lowered.scenario.instances[instance];
            let base = pascal(&instance.name);
            let variable =
                |what: &str| format!("CROSSGRANT_{}_{what}", environment_name(&instance.name));
            overrides.push(OverrideView {
                parameter: format!("{base}InstanceType"),
                variable: variable("INSTANCE_TYPE"),
            });
            overrides.push(OverrideView {
                parameter: format!("{base}ImageId"),
                variable: variable("IMAGE_ID"),
            });
            if instance.subnet.is_some() {
                overrides.push(OverrideView {
                    parameter: format!("{base}SubnetId"),
                    variable: variable("SUBNET_ID"),
                });
            }
        }
    }
    overrides
}

/// A step of `destroy.sh`: the stack to delete and what it keeps.
fn destroy_step(lowered: &Lowered, step: &Step) -> DestroyStepView {
    let scenario = &lowered.scenario;
    let unit = &lowered.units[step.unit];
    let account = scenario.account(&step.id.account);
    let retained = unit
        .resources
        .iter()
        .filter_map(|resource| {
            let (kind, name) = match resource {
                Resource::Key { key, .. } => ("key", scenario.keys[key].label()),
                Resource::KeyPolicy { key, .. } => ("key-policy", scenario.keys[key].label()),
                Resource::Bucket { bucket } => {
                    ("bucket", scenario.buckets[bucket].bucket_name.clone())
                }
                Resource::BucketPolicy { bucket, .. }
                    if scenario.buckets[bucket].existing.is_some() =>
                {
                    (
                        "bucket-policy",
                        scenario.buckets[bucket].bucket_name.clone(),
                    )
                }
                _ => return None,
            };
            Some(RetainedView { kind, name })
        })
        .collect();
    DestroyStepView {
        stack_name: step.stack_name.clone(),
        account: account.name.clone(),
        profile: account.profile.clone(),
        region: step.id.region.clone(),
        has_stack: has_stack(unit),
        retained,
    }
}

fn deploy_view(
    lowered: &Lowered,
    plan_steps: &[Step],
    format: Format,
    sizes: &BTreeMap<usize, usize>,
) -> DeployView {
    let scenario = &lowered.scenario;
    let steps: Vec<DeployStepView> = plan_steps
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
            let over_body_limit = sizes
                .get(&step.unit)
                .is_some_and(|bytes| *bytes > aws::TEMPLATE_BODY_BYTES);
            DeployStepView {
                s3_bucket: over_body_limit
                    .then(|| format!("ARTIFACT_BUCKET_{}", environment_name(&account.name))),
                environment_overrides: environment_overrides(lowered, unit),
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
                has_stack: has_stack(unit),
                key_policies: unit
                    .resources
                    .iter()
                    .filter_map(|resource| match resource {
                        Resource::KeyPolicy { key, .. } => {
                            let (file, captured) = key_policy_files(key);
                            let key = &scenario.keys[key];
                            Some(KeyPolicyStepView {
                                arn: key.known_arn().unwrap_or_default().to_string(),
                                file,
                                captured: if key.live_policy().is_some() {
                                    captured
                                } else {
                                    String::new()
                                },
                            })
                        }
                        _ => None,
                    })
                    .collect(),
            }
        })
        .collect();
    let mut accounts: Vec<AccountCheckView> = Vec::new();
    for step in &steps {
        if !accounts.iter().any(|known| known.profile == step.profile) {
            accounts.push(AccountCheckView {
                profile: step.profile.clone(),
                account: step.account.clone(),
                account_id: step.account_id.clone(),
                partition: scenario.partition.id(),
            });
        }
    }
    let mut artifact_buckets: Vec<ArtifactBucketView> = Vec::new();
    for step in steps.iter().filter(|step| step.s3_bucket.is_some()) {
        let template = step.template.clone();
        match artifact_buckets
            .iter_mut()
            .find(|bucket| bucket.account == step.account)
        {
            Some(bucket) => bucket.templates.push(template),
            None => artifact_buckets.push(ArtifactBucketView {
                account: step.account.clone(),
                suffix: environment_name(&step.account),
                default: scenario
                    .account(&step.account)
                    .artifact_bucket
                    .clone()
                    .unwrap_or_default(),
                templates: vec![template],
            }),
        }
    }
    DeployView {
        artifact_buckets,
        instances: steps
            .iter()
            .any(|step| !step.environment_overrides.is_empty()),
        destroy: plan_steps
            .iter()
            .rev()
            .map(|step| destroy_step(lowered, step))
            .collect(),
        scenario: scenario.name.clone(),
        principal_style: scenario.principal_style.as_str(),
        existing_keys: scenario.keys.values().any(|key| key.existing.is_some()),
        accounts,
        total: steps.len(),
        steps,
    }
}
