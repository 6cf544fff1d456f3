//! Terraform: one module per account (and per extra region) under `terraform/modules/`, and
//! either (layout `single`) a root `terraform/main.tf` with one aliased `aws` provider per
//! account that assumes the account's deploy role, wiring module outputs to module inputs —
//! Terraform orders resources across modules by those references, so the root applies in one
//! run — or (layout `per-account`) one root per module under `terraform/accounts/`, each with
//! the account's own credentials and state, and `terraform/apply.sh`, which applies them in
//! dependency order and hands each root's outputs to the later roots' variables.

use super::checkov::{self, Flavor};
use super::{hcl, TemplateError, Templates};
use crate::aws::key_arn_parts;
use crate::lower::{known, producer, Lowered, Resource, UnitId};
use crate::model::{Image, TerraformLayout};
use crate::names::{access_policy_name, managed_policy_name, snake};
use crate::plan::Step;
use crate::policy::{PolicyDocument, Ref};
use serde::Serialize;
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// A module: everything one account deploys in one region.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ModuleId {
    account: String,
    region: String,
}

impl ModuleId {
    fn of(unit: &UnitId) -> Self {
        ModuleId {
            account: unit.account.clone(),
            region: unit.region.clone(),
        }
    }

    fn dir(&self, home_region: &str) -> String {
        crate::names::unit_dir(&self.account, &self.region, home_region)
    }
}

fn output_name(reference: &Ref) -> String {
    match reference {
        Ref::KeyArn(key) => format!("key_arn_{}", snake(key)),
        Ref::RoleArn(role) => format!("role_arn_{}", snake(role)),
        Ref::InstanceProfile(instance) => format!("instance_profile_{}", snake(instance)),
    }
}

struct TfRefs<'a> {
    lowered: &'a Lowered,
    module: &'a ModuleId,
}

impl TfRefs<'_> {
    fn local(&self, reference: &Ref) -> bool {
        producer(self.lowered, reference).is_some_and(|unit| ModuleId::of(&unit) == *self.module)
    }

    fn expression(&self, reference: &Ref) -> String {
        if let Some(text) = known(&self.lowered.scenario, reference) {
            return hcl::string(&text);
        }
        if !self.local(reference) {
            return format!("var.{}", output_name(reference));
        }
        local_expression(self.lowered, reference)
    }

    fn document(&self, policy: &PolicyDocument) -> Json {
        policy.to_typed_json(&|reference| hcl::expression(self.expression(reference)))
    }
}

/// The expression for a reference inside the module that creates it.
fn local_expression(lowered: &Lowered, reference: &Ref) -> String {
    match reference {
        Ref::KeyArn(key) => format!("aws_kms_key.{}.arn", snake(key)),
        Ref::RoleArn(role) => format!("aws_iam_role.{}.arn", snake(role)),
        Ref::InstanceProfile(instance) => format!(
            "aws_iam_instance_profile.{}.name",
            snake(&lowered.scenario.instances[instance].role)
        ),
    }
}

#[derive(Serialize)]
struct ModuleView {
    keys: Vec<TfKeyView>,
    buckets: Vec<TfBucketView>,
    roles: Vec<TfRoleView>,
    role_policies: Vec<TfRolePolicyView>,
    managed_policies: Vec<TfRolePolicyView>,
    instances: Vec<TfInstanceView>,
    /// Policies of buckets and keys that exist already.
    existing_policies: Vec<TfExistingPolicyView>,
    access_points: Vec<TfAccessPointView>,
    variables: Vec<VariableView>,
    outputs: Vec<TfOutputView>,
}

#[derive(Serialize)]
struct TfAccessPointView {
    id: String,
    name: String,
    /// The bucket: `aws_s3_bucket.<id>.id` when the module creates it, else its name quoted.
    bucket: String,
    bucket_account_id: String,
    policy: Option<Json>,
}

#[derive(Serialize)]
struct TfKeyView {
    id: String,
    description: String,
    rotation: bool,
    deletion_window_days: u32,
    policy: Json,
    alias_name: String,
    tags: Json,
}

/// The policy of a bucket or key that exists already: the resource it goes on, by name or ARN.
#[derive(Serialize)]
struct TfExistingPolicyView {
    /// `aws_s3_bucket_policy` or `aws_kms_key_policy`.
    resource: &'static str,
    id: String,
    /// The argument naming the bucket or key, and its value.
    target_argument: &'static str,
    target: String,
    /// The bucket's name, or the key as people know it.
    name: String,
    bucket: bool,
    live_file: Option<String>,
    checkov_skips: Vec<checkov::Skip>,
    policy: Json,
}

#[derive(Serialize)]
struct TfBucketView {
    id: String,
    bucket_name: String,
    kms_key: Option<String>,
    bucket_key: bool,
    object_ownership: &'static str,
    block_public_access: bool,
    versioning: bool,
    access_logs: Option<TfAccessLogsView>,
    abort_incomplete_uploads_days: Option<u32>,
    checkov_skips: Vec<checkov::Skip>,
    ownership_checkov_skips: Vec<checkov::Skip>,
    policy_checkov_skips: Vec<checkov::Skip>,
    tags: Json,
    policy: Option<Json>,
}

#[derive(Serialize)]
struct TfAccessLogsView {
    bucket_name: String,
    prefix: String,
}

#[derive(Serialize)]
struct TfRoleView {
    id: String,
    role_name: String,
    path: String,
    trust: Json,
    managed_policy_arns: Vec<ManagedPolicyView>,
    permissions_boundary: Option<String>,
    tags: Json,
    instance_profile: bool,
    checkov_skips: Vec<checkov::Skip>,
}

#[derive(Serialize)]
struct ManagedPolicyView {
    id: String,
    arn: String,
}

#[derive(Serialize)]
struct TfRolePolicyView {
    id: String,
    policy_name: String,
    role: String,
    document: Json,
}

#[derive(Serialize)]
struct TfInstanceView {
    id: String,
    ami_parameter: bool,
    profile: String,
    subnet: bool,
    checkov_skips: Vec<checkov::Skip>,
    tags: Json,
}

#[derive(Serialize)]
struct VariableView {
    /// The other module's output this input is wired to, if it is one.
    #[serde(skip)]
    reference: Option<Ref>,
    name: String,
    description: String,
    default: Option<String>,
    nullable_default: bool,
}

#[derive(Serialize)]
struct TfOutputView {
    name: String,
    description: String,
    value: String,
}

#[derive(Serialize)]
struct RootView {
    scenario: String,
    providers: Vec<ProviderView>,
    modules: Vec<RootModuleView>,
    outputs: Vec<RootOutputView>,
}

#[derive(Serialize)]
struct ProviderView {
    alias: String,
    region: String,
    account_id: String,
    role_arn: String,
    session_name: String,
}

#[derive(Serialize)]
struct RootModuleView {
    id: String,
    dir: String,
    provider: String,
    inputs: Vec<InputView>,
}

#[derive(Serialize)]
struct InputView {
    name: String,
    value: String,
}

#[derive(Serialize)]
struct RootOutputView {
    name: String,
    value: String,
}

fn tags(tags: &BTreeMap<String, String>) -> Json {
    Json::Object(
        tags.iter()
            .map(|(key, value)| (key.clone(), Json::String(value.clone())))
            .collect(),
    )
}

fn module_view(lowered: &Lowered, module: &ModuleId, units: &[&crate::lower::Unit]) -> ModuleView {
    let scenario = &lowered.scenario;
    let resolver = TfRefs { lowered, module };
    let resources: Vec<&Resource> = units.iter().flat_map(|unit| &unit.resources).collect();
    let mut view = ModuleView {
        keys: Vec::new(),
        buckets: Vec::new(),
        roles: Vec::new(),
        role_policies: Vec::new(),
        managed_policies: Vec::new(),
        instances: Vec::new(),
        existing_policies: Vec::new(),
        access_points: Vec::new(),
        variables: Vec::new(),
        outputs: Vec::new(),
    };
    let mut inputs: BTreeSet<Ref> = BTreeSet::new();
    for resource in &resources {
        let refs = resource
            .policy()
            .map(|policy| policy.refs().into_iter().cloned().collect())
            .unwrap_or_else(Vec::new);
        inputs.extend(
            refs.into_iter()
                .chain(resource.direct_refs())
                .filter(|reference| {
                    !resolver.local(reference) && known(scenario, reference).is_none()
                }),
        );
    }
    for reference in &inputs {
        view.variables.push(VariableView {
            reference: Some(reference.clone()),
            name: output_name(reference),
            description: describe_ref(lowered, reference),
            default: None,
            nullable_default: false,
        });
    }
    let bucket_policies: BTreeMap<&str, &PolicyDocument> = resources
        .iter()
        .filter_map(|resource| match resource {
            Resource::BucketPolicy { bucket, policy } => Some((bucket.as_str(), policy)),
            _ => None,
        })
        .collect();
    for resource in &resources {
        match resource {
            Resource::Key { key, policy } => {
                let key = &scenario.keys[key];
                view.keys.push(TfKeyView {
                    id: snake(&key.name),
                    description: key.description.clone(),
                    rotation: key.rotation,
                    deletion_window_days: key.deletion_window_days,
                    policy: resolver.document(policy),
                    alias_name: format!("alias/{}", key.alias),
                    tags: tags(&key.tags),
                });
                let reference = Ref::KeyArn(key.name.clone());
                view.outputs.push(TfOutputView {
                    name: output_name(&reference),
                    description: describe_ref(lowered, &reference),
                    value: local_expression(lowered, &reference),
                });
            }
            Resource::Bucket { bucket } => {
                let bucket = &scenario.buckets[bucket];
                view.buckets.push(TfBucketView {
                    id: snake(&bucket.name),
                    bucket_name: bucket.bucket_name.clone(),
                    kms_key: bucket
                        .key()
                        .map(|key| resolver.expression(&Ref::KeyArn(key.to_string()))),
                    bucket_key: bucket.bucket_key,
                    object_ownership: bucket.object_ownership.as_str(),
                    block_public_access: bucket.block_public_access,
                    versioning: bucket.versioning,
                    access_logs: bucket.access_logs.as_ref().map(|logs| TfAccessLogsView {
                        bucket_name: logs.bucket_name.clone(),
                        prefix: logs.prefix.clone(),
                    }),
                    abort_incomplete_uploads_days: bucket.abort_incomplete_uploads_days,
                    checkov_skips: checkov::bucket(bucket).checkov(Flavor::Terraform),
                    ownership_checkov_skips: checkov::ownership_controls(bucket)
                        .checkov(Flavor::Terraform),
                    policy_checkov_skips: bucket_policies
                        .get(bucket.name.as_str())
                        .map(|policy| checkov::bucket_policy(policy).checkov(Flavor::Terraform))
                        .unwrap_or_default(),
                    tags: tags(&bucket.tags),
                    policy: bucket_policies
                        .get(bucket.name.as_str())
                        .map(|policy| resolver.document(policy)),
                });
                view.outputs.push(TfOutputView {
                    name: format!("bucket_arn_{}", snake(&bucket.name)),
                    description: format!("ARN of bucket {}", bucket.bucket_name),
                    value: format!("aws_s3_bucket.{}.arn", snake(&bucket.name)),
                });
            }
            Resource::Role { role, trust } => {
                let role = &scenario.roles[role];
                view.roles.push(TfRoleView {
                    id: snake(&role.name),
                    role_name: role.role_name.clone(),
                    path: role.path.clone(),
                    trust: resolver.document(trust),
                    managed_policy_arns: role
                        .managed_policy_arns
                        .iter()
                        .enumerate()
                        .map(|(index, arn)| ManagedPolicyView {
                            id: format!("{}_{}", snake(&role.name), index + 1),
                            arn: arn.clone(),
                        })
                        .collect(),
                    permissions_boundary: role.permissions_boundary.clone(),
                    tags: tags(&role.tags),
                    instance_profile: role.instance_profile,
                    checkov_skips: checkov::role(trust).checkov(Flavor::Terraform),
                });
                let reference = Ref::RoleArn(role.name.clone());
                view.outputs.push(TfOutputView {
                    name: output_name(&reference),
                    description: describe_ref(lowered, &reference),
                    value: local_expression(lowered, &reference),
                });
            }
            Resource::RolePolicy { role, policy } => {
                let role_expression = if resolver.local(&Ref::RoleArn(role.clone())) {
                    format!("aws_iam_role.{}.id", snake(role))
                } else {
                    hcl::string(&scenario.roles[role].role_name)
                };
                view.role_policies.push(TfRolePolicyView {
                    id: snake(role),
                    policy_name: access_policy_name(&scenario.name),
                    role: role_expression,
                    document: resolver.document(policy),
                });
            }
            Resource::ManagedPolicy {
                role,
                number,
                policy,
            } => {
                let role_expression = if resolver.local(&Ref::RoleArn(role.clone())) {
                    format!("aws_iam_role.{}.name", snake(role))
                } else {
                    hcl::string(&scenario.roles[role].role_name)
                };
                view.managed_policies.push(TfRolePolicyView {
                    // A hyphen never occurs in the snake-case ids of other resources.
                    id: format!("{}-access-{number}", snake(role)),
                    policy_name: managed_policy_name(&scenario.name, role, *number),
                    role: role_expression,
                    document: resolver.document(policy),
                });
            }
            Resource::Instance { instance } => {
                let instance = &scenario.instances[instance];
                let id = snake(&instance.name);
                let (image_variable, image_default, ami_parameter) = match &instance.image {
                    Image::Ami(ami) => (format!("{id}_image_id"), ami.clone(), false),
                    Image::SsmParameter(path) => {
                        (format!("{id}_image_parameter"), path.clone(), true)
                    }
                };
                view.variables.push(VariableView {
                    reference: None,
                    name: image_variable,
                    description: if ami_parameter {
                        format!(
                            "SSM parameter holding the AMI of instance {}",
                            instance.name
                        )
                    } else {
                        format!("AMI of instance {}", instance.name)
                    },
                    default: Some(hcl::string(&image_default)),
                    nullable_default: false,
                });
                view.variables.push(VariableView {
                    reference: None,
                    name: format!("{id}_instance_type"),
                    description: format!("EC2 instance type of instance {}", instance.name),
                    default: Some(hcl::string(&instance.instance_type)),
                    nullable_default: false,
                });
                view.variables.push(VariableView {
                    reference: None,
                    name: format!("{id}_subnet_id"),
                    description: format!(
                        "Subnet of instance {} (null: the default VPC's)",
                        instance.name
                    ),
                    default: Some(
                        instance
                            .subnet
                            .as_deref()
                            .map_or_else(|| "null".to_string(), hcl::string),
                    ),
                    nullable_default: instance.subnet.is_none(),
                });
                let mut instance_tags = instance.tags.clone();
                instance_tags
                    .entry("Name".into())
                    .or_insert_with(|| format!("{}-{}", scenario.name, instance.name));
                view.instances.push(TfInstanceView {
                    id,
                    ami_parameter,
                    profile: resolver.expression(&Ref::InstanceProfile(instance.name.clone())),
                    subnet: true,
                    checkov_skips: checkov::instance(instance).checkov(Flavor::Terraform),
                    tags: tags(&instance_tags),
                });
            }
            Resource::AccessPoint {
                bucket,
                account,
                policy,
            } => {
                let bucket = &scenario.buckets[bucket];
                let creates_bucket = resources.iter().any(
                    |other| matches!(other, Resource::Bucket { bucket: name } if *name == bucket.name),
                );
                let id = format!("{}_{}", snake(&bucket.name), snake(account));
                view.access_points.push(TfAccessPointView {
                    id: id.clone(),
                    name: bucket.access_points[account].clone(),
                    bucket: if creates_bucket {
                        format!("aws_s3_bucket.{}.id", snake(&bucket.name))
                    } else {
                        serde_json::to_string(&bucket.bucket_name).unwrap_or_default()
                    },
                    bucket_account_id: scenario.account(&bucket.account).id.clone(),
                    policy: policy.as_ref().map(|policy| resolver.document(policy)),
                });
                for (attribute, what) in [("arn", "ARN"), ("alias", "alias")] {
                    view.outputs.push(TfOutputView {
                        name: format!("access_point_{attribute}_{id}"),
                        description: super::access_point_output(what, account, &bucket.bucket_name),
                        value: format!("aws_s3_access_point.{id}.{attribute}"),
                    });
                }
            }
            Resource::BucketPolicy { bucket, policy } => {
                let bucket = &scenario.buckets[bucket];
                if bucket.existing.is_some() {
                    view.existing_policies.push(TfExistingPolicyView {
                        resource: "aws_s3_bucket_policy",
                        id: snake(&bucket.name),
                        target_argument: "bucket",
                        target: bucket.bucket_name.clone(),
                        name: bucket.bucket_name.clone(),
                        bucket: true,
                        live_file: bucket.live_policy().map(|live| live.file.clone()),
                        checkov_skips: checkov::bucket_policy(policy).checkov(Flavor::Terraform),
                        policy: resolver.document(policy),
                    });
                }
            }
            Resource::KeyPolicy { key, policy } => {
                let key = &scenario.keys[key];
                view.existing_policies.push(TfExistingPolicyView {
                    resource: "aws_kms_key_policy",
                    id: snake(&key.name),
                    // The provider reads `key_id` back as the bare key id: an ARN here would
                    // never stop showing as a change.
                    target_argument: "key_id",
                    target: key
                        .known_arn()
                        .and_then(|arn| key_arn_parts(arn).ok())
                        .map(|(_, _, id)| id.to_string())
                        .unwrap_or_default(),
                    name: key.label(),
                    bucket: false,
                    live_file: key.live_policy().map(|live| live.file.clone()),
                    checkov_skips: Vec::new(),
                    policy: resolver.document(policy),
                });
            }
            Resource::Alias { .. } | Resource::InstanceProfile { .. } => {}
        }
    }
    for reference in exported_profiles(lowered, module) {
        view.outputs.push(TfOutputView {
            name: output_name(&reference),
            description: describe_ref(lowered, &reference),
            value: local_expression(lowered, &reference),
        });
    }
    view
}

/// Instance profiles this module creates for instances that other modules (other regions)
/// launch.
fn exported_profiles(lowered: &Lowered, module: &ModuleId) -> Vec<Ref> {
    lowered
        .scenario
        .instances
        .values()
        .map(|instance| Ref::InstanceProfile(instance.name.clone()))
        .filter(|reference| {
            let Some(from) = producer(lowered, reference).map(|unit| ModuleId::of(&unit)) else {
                return false;
            };
            let user = lowered
                .units
                .iter()
                .find(|unit| {
                    unit.resources
                        .iter()
                        .any(|resource| resource.direct_refs().contains(reference))
                })
                .map(|unit| ModuleId::of(&unit.id));
            from == *module && user.is_some_and(|user| user != *module)
        })
        .collect()
}

fn describe_ref(lowered: &Lowered, reference: &Ref) -> String {
    let scenario = &lowered.scenario;
    match reference {
        Ref::KeyArn(key) => {
            let key = &scenario.keys[key];
            format!("ARN of {} in account {}", key.label(), key.account)
        }
        Ref::RoleArn(role) => format!("ARN of role {}", scenario.roles[role].role_name),
        Ref::InstanceProfile(instance) => format!(
            "Instance profile of instance {}",
            scenario.instances[instance].name
        ),
    }
}

/// Every module of the scenario with its view, in the order the plan first reaches it.
fn module_views(lowered: &Lowered, steps: &[Step]) -> Vec<(ModuleId, ModuleView)> {
    let mut modules: BTreeMap<ModuleId, Vec<&crate::lower::Unit>> = BTreeMap::new();
    let mut first_reached: Vec<ModuleId> = Vec::new();
    // Plan order within a module keeps related resources together in the file.
    for step in steps {
        let unit = &lowered.units[step.unit];
        let module = ModuleId::of(&unit.id);
        if !first_reached.contains(&module) {
            first_reached.push(module.clone());
        }
        modules.entry(module).or_default().push(unit);
    }
    let mut views: Vec<(ModuleId, ModuleView)> = modules
        .iter()
        .map(|(module, units)| (module.clone(), module_view(lowered, module, units)))
        .collect();
    views.sort_by_key(|(module, _)| first_reached.iter().position(|m| m == module));
    views
}

/// The modules whose outputs the inputs of `view` are wired to, with the inputs, by name.
fn module_inputs(lowered: &Lowered, view: &ModuleView) -> Vec<(ModuleId, String)> {
    view.variables
        .iter()
        .filter_map(|variable| Some((variable, variable.reference.as_ref()?)))
        .filter_map(|(variable, reference)| {
            let from = ModuleId::of(&producer(lowered, reference)?);
            Some((from, variable.name.clone()))
        })
        .collect()
}

/// The per-account roots in the order they apply: each after every root whose outputs it
/// takes, otherwise in the order the plan first reaches them. `Err` names the roots that
/// need each other's outputs, which no order of separate applies can satisfy.
fn root_order(
    lowered: &Lowered,
    views: &[(ModuleId, ModuleView)],
) -> Result<Vec<usize>, Vec<String>> {
    let needs: Vec<BTreeSet<usize>> = views
        .iter()
        .enumerate()
        .map(|(index, (_, view))| {
            module_inputs(lowered, view)
                .iter()
                .filter_map(|(from, _)| views.iter().position(|(module, _)| module == from))
                .filter(|from| *from != index)
                .collect()
        })
        .collect();
    let mut order: Vec<usize> = Vec::new();
    while order.len() < views.len() {
        let next = (0..views.len()).find(|index| {
            !order.contains(index) && needs[*index].iter().all(|n| order.contains(n))
        });
        match next {
            Some(index) => order.push(index),
            None => {
                // The roots left that lie on a cycle, not those that only wait for one.
                let on_cycle = |start: usize| {
                    let mut seen = BTreeSet::new();
                    let mut pending: Vec<usize> = needs[start].iter().copied().collect();
                    while let Some(index) = pending.pop() {
                        if index == start {
                            return true;
                        }
                        if seen.insert(index) {
                            pending.extend(needs[index].iter().copied());
                        }
                    }
                    false
                };
                return Err((0..views.len())
                    .filter(|index| !order.contains(index) && on_cycle(*index))
                    .map(|index| views[index].0.dir(&lowered.scenario.region))
                    .collect());
            }
        }
    }
    Ok(order)
}

/// The per-account roots that need each other's outputs, if the scenario has such roots (a
/// role-style principal in one account's policy and that account's key ARN in the other's).
pub fn per_account_cycle(lowered: &Lowered, steps: &[Step]) -> Option<Vec<String>> {
    root_order(lowered, &module_views(lowered, steps)).err()
}

pub fn render(
    templates: &Templates,
    lowered: &Lowered,
    steps: &[Step],
) -> Result<BTreeMap<PathBuf, String>, TemplateError> {
    let scenario = &lowered.scenario;
    let mut modules = module_views(lowered, steps);
    let mut files = BTreeMap::new();
    for (module, view) in &modules {
        let dir = module.dir(&scenario.region);
        let module_files = [
            ("terraform/module/main.tf", "main.tf"),
            ("terraform/module/variables.tf", "variables.tf"),
            ("terraform/module/outputs.tf", "outputs.tf"),
            ("terraform/versions.tf", "versions.tf"),
        ];
        for (template, file) in module_files {
            let text = templates.render(template, view)?;
            files.insert(
                PathBuf::from(format!("terraform/modules/{dir}/{file}")),
                hcl::align(&text),
            );
        }
    }
    match scenario.terraform_layout {
        TerraformLayout::PerAccount => {
            files.extend(render_per_account(templates, lowered, &modules)?)
        }
        TerraformLayout::Single => {
            // The single root lists its modules as the files do, by account and region.
            modules.sort_by(|(a, _), (b, _)| a.cmp(b));
            files.insert(
                PathBuf::from("terraform/main.tf"),
                render_single_root(templates, lowered, &modules)?,
            );
        }
    }
    Ok(files)
}

/// `terraform/main.tf`: one aliased provider per account, assuming its deploy role, and every
/// module wired to the outputs of the others.
fn render_single_root(
    templates: &Templates,
    lowered: &Lowered,
    modules: &[(ModuleId, ModuleView)],
) -> Result<String, TemplateError> {
    let scenario = &lowered.scenario;
    let mut root = RootView {
        scenario: scenario.name.clone(),
        providers: Vec::new(),
        modules: Vec::new(),
        outputs: Vec::new(),
    };
    for (module, view) in modules {
        let dir = module.dir(&scenario.region);
        let account = scenario.account(&module.account);
        let provider = snake(&dir);
        root.providers.push(ProviderView {
            alias: provider.clone(),
            region: module.region.clone(),
            account_id: account.id.clone(),
            role_arn: account.deploy_role_arn(),
            session_name: crate::names::session_name(&scenario.name),
        });
        let inputs = module_inputs(lowered, view)
            .into_iter()
            .map(|(from, name)| InputView {
                value: format!("module.{}.{}", snake(&from.dir(&scenario.region)), name),
                name,
            })
            .collect();
        root.outputs
            .extend(view.outputs.iter().map(|output| RootOutputView {
                name: format!("{}_{}", snake(&dir), output.name),
                value: format!("module.{}.{}", snake(&dir), output.name),
            }));
        root.modules.push(RootModuleView {
            id: snake(&dir),
            dir,
            provider,
            inputs,
        });
    }
    Ok(hcl::align(&templates.render("terraform/main.tf", &root)?))
}

/// `terraform/accounts/<dir>/`: one root per module, applied with the account's own profile
/// and state, and `terraform/apply.sh`, which applies them in order and hands each root's
/// outputs to the roots that take them.
fn render_per_account(
    templates: &Templates,
    lowered: &Lowered,
    modules: &[(ModuleId, ModuleView)],
) -> Result<BTreeMap<PathBuf, String>, TemplateError> {
    let scenario = &lowered.scenario;
    // A cycle is refused before rendering (`per_account_cycle`); should one reach here, the
    // roots still render, in the order the plan reaches them.
    let order = root_order(lowered, modules).unwrap_or_else(|_| (0..modules.len()).collect());
    let mut files = BTreeMap::new();
    let mut apply = ApplyView {
        scenario: scenario.name.clone(),
        total: order.len(),
        roots: Vec::new(),
    };
    for (number, &index) in order.iter().enumerate() {
        let (module, view) = &modules[index];
        let dir = module.dir(&scenario.region);
        let account = scenario.account(&module.account);
        let inputs: Vec<AccountInputView> = module_inputs(lowered, view)
            .into_iter()
            .map(|(from, name)| {
                let description = view
                    .variables
                    .iter()
                    .find(|variable| variable.name == name)
                    .map(|variable| variable.description.clone())
                    .unwrap_or_default();
                AccountInputView {
                    name,
                    description,
                    from: from.dir(&scenario.region),
                }
            })
            .collect();
        let root = AccountRootView {
            scenario: scenario.name.clone(),
            id: snake(&dir),
            dir: dir.clone(),
            account: account.name.to_string(),
            account_id: account.id.clone(),
            region: module.region.clone(),
            profile: account.profile.clone(),
            profile_description: format!(
                "AWS CLI profile with the credentials of account {} ({})",
                account.name, account.id
            ),
            inputs,
            outputs: view
                .outputs
                .iter()
                .map(|output| AccountOutputView {
                    name: output.name.clone(),
                    description: output.description.clone(),
                })
                .collect(),
        };
        for (template, file) in [
            ("terraform/account/main.tf", "main.tf"),
            ("terraform/account/variables.tf", "variables.tf"),
            ("terraform/account/backend.tf", "backend.tf"),
        ] {
            files.insert(
                PathBuf::from(format!("terraform/accounts/{dir}/{file}")),
                hcl::align(&templates.render(template, &root)?),
            );
        }
        // What the later roots take from this one, root by root, in apply order.
        let hands = order[number + 1..]
            .iter()
            .filter_map(|&later| {
                let (later_module, later_view) = &modules[later];
                let names: Vec<String> = module_inputs(lowered, later_view)
                    .into_iter()
                    .filter(|(from, _)| from == module)
                    .map(|(_, name)| name)
                    .collect();
                (!names.is_empty()).then(|| HandView {
                    to: later_module.dir(&scenario.region),
                    names,
                })
            })
            .collect();
        apply.roots.push(ApplyRootView {
            number: number + 1,
            dir,
            account: root.account,
            account_id: root.account_id,
            region: root.region,
            hands,
        });
    }
    files.insert(
        PathBuf::from("terraform/apply.sh"),
        templates.render("terraform/apply.sh", &apply)?,
    );
    Ok(files)
}

/// A per-account root.
#[derive(Serialize)]
struct AccountRootView {
    scenario: String,
    /// The module block's name.
    id: String,
    dir: String,
    account: String,
    account_id: String,
    region: String,
    profile: String,
    profile_description: String,
    inputs: Vec<AccountInputView>,
    outputs: Vec<AccountOutputView>,
}

/// An input of a per-account root: an output of an earlier root, which `apply.sh` writes.
#[derive(Serialize)]
struct AccountInputView {
    name: String,
    description: String,
    /// The root whose output it is.
    from: String,
}

#[derive(Serialize)]
struct AccountOutputView {
    name: String,
    description: String,
}

#[derive(Serialize)]
struct ApplyView {
    scenario: String,
    total: usize,
    roots: Vec<ApplyRootView>,
}

#[derive(Serialize)]
struct ApplyRootView {
    number: usize,
    dir: String,
    account: String,
    account_id: String,
    region: String,
    hands: Vec<HandView>,
}

/// Outputs of one root that a later root takes as variables of the same names.
#[derive(Serialize)]
struct HandView {
    to: String,
    names: Vec<String>,
}
