//! The requests `crossgrant check` asks about a lowered scenario, and what the scenario means
//! each answer to be. For every caller (each scenario role, plus probe callers that were granted
//! nothing: an administrator role and an unprivileged role in every account, an administrator
//! of an unrelated account, an administrator of an account of the scenario's organization that
//! the scenario does not name (when it declares one), and an anonymous caller) and every bucket,
//! every S3 operation a grant can imply is asked together with the KMS call S3 makes for it,
//! carrying the context AWS would attach; so are operations no grant implies. [`ProbePlan`]
//! builds them caller by caller and bucket by bucket; `check` leaves out the scenario roles
//! that no document of a bucket can let in ([`super::reach`]).
//!
//! What a request *should* get comes from the grants alone ([`intended`]), never from the
//! generated policies, so a lowering mistake shows up as a disagreement.

use super::engine::{through_access_point, GuardrailPolicies, Layer, NamedPolicy, PolicySet};
use super::guardrail;
use super::matching::glob_ignore_case;
use super::request::{Caller, Context, Request};
use super::resolve::{aws_managed_s3_key_policy, ScenarioArns};
use crate::aws::{
    condition_key, is_bucket_level, kms, s3, s3_arn, s3_encryption_context, split_action, sts,
    LEGACY_ACL_ACTION, SSE_KMS,
};
use crate::aws::{is_account_id, Partition};
use crate::lower::Lowered;
use crate::model::{
    Bucket, Encryption, EncryptionEnforcement, Grant, GuardrailKind, Scenario, Trust,
};
use crate::policy::{Clause, Effect, Name, PolicyDocument, Principal, Statement, Value};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// Object key probed under each granted prefix.
pub const PROBE_OBJECT: &str = "probe.bin";
/// A prefix no grant is meant to cover (unless a grant covers the whole bucket).
pub const OUTSIDE_PREFIX: &str = "crossgrant-outside/";
const ADMIN_ROLE: &str = "crossgrant-probe-admin";
const UNPRIVILEGED_ROLE: &str = "crossgrant-probe-unprivileged";
const ADMIN_POLICY: &str = "AdministratorAccess";

/// Who asks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum CallerKind {
    /// A role of the scenario, with the identity policy crossgrant gives it.
    Role {
        role: Name,
    },
    /// A role in a scenario account allowed everything by its identity policy; asked only about
    /// buckets of other accounts (in its own account, IAM alone rightly lets it in).
    Admin {
        account: Name,
    },
    /// A role with no permissions in a scenario account; asked about that account's buckets.
    Unprivileged {
        account: Name,
    },
    /// An administrator of an account outside the scenario (and outside its organization).
    Stranger {
        account_id: String,
    },
    /// An administrator of an account of the scenario's organization that the scenario does not
    /// name; asked only when the scenario declares its organization.
    OrganizationMember {
        account_id: String,
    },
    /// A role that is not `role` but resembles it, asked about the buckets `role` is granted:
    /// a policy that names `role` by a pattern wider than its ARN lets it in. It is allowed
    /// everything by its identity policy when it asks about another account's bucket (so only
    /// the bucket and key policies stand in its way), and nothing when it asks about its own
    /// account's (where IAM alone would let an administrator in).
    LookAlike {
        role: Name,
        resemblance: Resemblance,
        privileged: bool,
    },
    /// A principal that a statement kept from a live policy names, allowed everything by its
    /// identity policy: what the kept statements let it do is listed, not judged.
    Kept {
        principal: String,
    },
    Anonymous,
}

/// How a look-alike differs from the granted role it resembles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Resemblance {
    /// The same name under another IAM path of the same account.
    OtherPath,
    /// A name that starts with the granted one, under the same path.
    LongerName,
    /// The same path and name in an account outside the scenario.
    OtherAccount,
}

impl fmt::Display for Resemblance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resemblance::OtherPath => "same name, another path",
            Resemblance::LongerName => "longer name, same path",
            Resemblance::OtherAccount => "same name and path, another account",
        })
    }
}

impl fmt::Display for CallerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallerKind::Role { role } => write!(f, "role {role}"),
            CallerKind::Admin { account } => write!(f, "admin role in {account}"),
            CallerKind::Unprivileged { account } => write!(f, "unprivileged role in {account}"),
            CallerKind::Stranger { account_id } => {
                write!(f, "admin role in unrelated account {account_id}")
            }
            CallerKind::OrganizationMember { account_id } => {
                write!(f, "admin role in organization account {account_id}")
            }
            CallerKind::LookAlike {
                role,
                resemblance,
                privileged,
            } => {
                let policy = if *privileged {
                    "allowed everything"
                } else {
                    "no policy"
                };
                write!(f, "look-alike of role {role} ({resemblance}; {policy})")
            }
            CallerKind::Kept { principal } => {
                write!(f, "{principal}, named by a kept statement")
            }
            CallerKind::Anonymous => f.write_str("anonymous"),
        }
    }
}

/// What the caller tries, as an S3 client would see it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "operation", rename_all = "kebab-case")]
pub enum Operation {
    GetObject {
        key: String,
    },
    GetObjectVersion {
        key: String,
    },
    /// PutObject without encryption headers: the bucket's default encryption applies.
    PutObject {
        key: String,
    },
    /// PutObject naming SSE-KMS in its headers, and the bucket's key id when it has its own key.
    PutObjectSseKms {
        key: String,
    },
    CreateMultipartUpload {
        key: String,
    },
    UploadPart {
        key: String,
    },
    CompleteMultipartUpload {
        key: String,
    },
    /// ListObjectsV2 with `prefix` (none: the whole bucket).
    ListBucket {
        prefix: Option<String>,
    },
    /// An object-level action no access level implies.
    OtherObjectAction {
        action: String,
        key: String,
    },
    /// A bucket-level action no access level implies.
    OtherBucketAction {
        action: String,
    },
    /// The KMS call S3 makes to read an object, asked on its own.
    KmsDecrypt {
        key: String,
    },
    /// The KMS call S3 makes to write an object, asked on its own.
    KmsGenerateDataKey {
        key: String,
    },
    /// PutObject whose SSE-KMS headers name a key other than the bucket's; probed where a
    /// policy constrains that header.
    PutObjectOtherKey {
        key: String,
    },
    /// kms:Decrypt called directly, not through S3; probed where a policy pins key use to S3
    /// with `kms:ViaService`.
    KmsDirectDecrypt {
        key: String,
    },
    /// sts:AssumeRole of an access role granted on the bucket (`via = "owner-role"`).
    AssumeRole {
        role: Name,
        role_name: String,
    },
}

impl Operation {
    pub fn name(&self) -> String {
        match self {
            Operation::GetObject { .. } => "GetObject".into(),
            Operation::GetObjectVersion { .. } => "GetObjectVersion".into(),
            Operation::PutObject { .. } => "PutObject".into(),
            Operation::PutObjectSseKms { .. } => "PutObject (SSE-KMS headers)".into(),
            Operation::CreateMultipartUpload { .. } => "CreateMultipartUpload".into(),
            Operation::UploadPart { .. } => "UploadPart".into(),
            Operation::CompleteMultipartUpload { .. } => "CompleteMultipartUpload".into(),
            Operation::ListBucket { .. } => "ListBucket".into(),
            Operation::OtherObjectAction { action, .. }
            | Operation::OtherBucketAction { action } => split_action(action)
                .map_or(action.as_str(), |(_, name)| name)
                .to_string(),
            Operation::KmsDecrypt { .. } => format!("{} via S3", kms::DECRYPT),
            Operation::KmsGenerateDataKey { .. } => format!("{} via S3", kms::GENERATE_DATA_KEY),
            Operation::PutObjectOtherKey { .. } => "PutObject (SSE-KMS with another key)".into(),
            Operation::KmsDirectDecrypt { .. } => format!("{} called directly", kms::DECRYPT),
            Operation::AssumeRole { .. } => sts::ASSUME_ROLE.into(),
        }
    }

    /// The object key or list prefix the operation targets, for reports.
    pub fn target(&self) -> String {
        match self {
            Operation::ListBucket { prefix: None } => "(whole bucket)".into(),
            Operation::ListBucket {
                prefix: Some(prefix),
            } => format!("prefix {prefix}"),
            Operation::OtherBucketAction { .. } => "(bucket)".into(),
            Operation::AssumeRole { role_name, .. } => format!("access role {role_name}"),
            Operation::GetObject { key }
            | Operation::GetObjectVersion { key }
            | Operation::PutObject { key }
            | Operation::PutObjectSseKms { key }
            | Operation::CreateMultipartUpload { key }
            | Operation::UploadPart { key }
            | Operation::CompleteMultipartUpload { key }
            | Operation::OtherObjectAction { key, .. }
            | Operation::KmsDecrypt { key }
            | Operation::KmsGenerateDataKey { key }
            | Operation::PutObjectOtherKey { key }
            | Operation::KmsDirectDecrypt { key } => key.clone(),
        }
    }
}

/// Which transport the request arrives over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    Https,
    PlainHttp,
    /// Over HTTPS, but not through the VPC endpoints the caller's grant requires.
    OutsideVpcEndpoint,
}

impl Transport {
    /// An operation's name as it arrives over this transport.
    pub fn label(self, operation: String) -> String {
        match self {
            Transport::Https => operation,
            Transport::PlainHttp => format!("{operation} over plain HTTP"),
            Transport::OutsideVpcEndpoint => format!("{operation} from outside its VPC endpoints"),
        }
    }
}

/// Where a caller's requests to a bucket come from and go through: the VPC endpoint (and its
/// VPC) of its S3 requests, whether its grant is also asked from outside its endpoints, and the
/// routes its operations are asked by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Network {
    pub endpoint: Option<(String, Option<String>)>,
    pub restricted: bool,
    pub routes: Vec<Route>,
}

/// How an S3 request reaches a bucket.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Route {
    /// On the bucket itself.
    Bucket,
    /// Through the access point of an account (of a bucket with access points).
    AccessPoint { account: Name, name: String },
}

impl Probe {
    /// The operation as a report names it: with its transport and, through an access point,
    /// which one.
    pub fn label(&self) -> String {
        self.route
            .label(self.transport.label(self.operation.name()))
    }
}

impl Route {
    /// An operation's label as it goes this way.
    pub fn label(&self, operation: String) -> String {
        match self {
            Route::Bucket => operation,
            Route::AccessPoint { name, .. } => format!("{operation} through access point {name}"),
        }
    }
}

/// The routes a caller's operations on a bucket are asked by. A bucket without access points
/// is reached directly. With them, a role is asked through its account's access point (where
/// its grants hold), directly on the bucket, and through one other account's access point
/// (both denied); a look-alike through the access point of the role it resembles; every other
/// caller through its own account's access point if it has one (else the first), and directly;
/// the stranger through every access point.
/// Access point policies name their own account's roles only, so one other account's access
/// point stands for all of them — and a role is also asked through every other access point
/// whose policy names its account, by id, root or ARN (a policy that breaks that rule).
pub fn routes(
    lowered: &Lowered,
    kind: &CallerKind,
    caller: &Caller,
    bucket: &Bucket,
) -> Vec<Route> {
    let scenario = &lowered.scenario;
    if bucket.access_points.is_empty() {
        return vec![Route::Bucket];
    }
    let route = |account: &Name| Route::AccessPoint {
        account: account.clone(),
        name: bucket.access_points[account].clone(),
    };
    let accounts: Vec<&Name> = bucket.access_points.keys().collect();
    let own = match kind {
        CallerKind::Role { role } | CallerKind::LookAlike { role, .. } => {
            Some(&scenario.roles[role].account)
        }
        _ => caller.account().and_then(|id| {
            scenario
                .accounts
                .values()
                .find(|account| account.id == id)
                .map(|account| &account.name)
        }),
    }
    .filter(|account| bucket.access_points.contains_key(*account));
    if let CallerKind::Stranger { .. } = kind {
        // A caller no document names tries every door: which also makes its probes name
        // every access point and its policy (what `check` learns a bucket's documents from).
        return accounts
            .into_iter()
            .map(route)
            .chain([Route::Bucket])
            .collect();
    }
    let first = own.unwrap_or(accounts[0]);
    let mut out = vec![route(first), Route::Bucket];
    if let CallerKind::Role { .. } = kind {
        let at = accounts
            .iter()
            .position(|account| *account == first)
            .unwrap_or(0);
        let other = accounts[(at + 1) % accounts.len()];
        if other != first {
            out.push(route(other));
        }
        let caller_account = caller.account().unwrap_or_default();
        for account in &accounts {
            let naming = lowered
                .access_point_policies
                .get(&(bucket.name.clone(), (*account).clone()))
                .is_some_and(|policy| names_account(policy, caller_account));
            if *account != first && *account != other && naming {
                out.push(route(account));
            }
        }
    }
    out
}

/// Whether a policy's principals or conditions name an account, alone or in an ARN.
fn names_account(policy: &PolicyDocument, account_id: &str) -> bool {
    let mentions = |value: &Value| value.as_lit().is_some_and(|text| text.contains(account_id));
    policy.statements.iter().any(|statement| {
        let principals = match &statement.principal {
            Some(Clause::Is(Principal::Typed(map)) | Clause::Not(Principal::Typed(map))) => {
                map.values().flatten().any(mentions)
            }
            _ => false,
        };
        principals
            || statement
                .condition
                .values()
                .flat_map(|keys| keys.values())
                .flatten()
                .any(mentions)
    })
}

/// Which resource policy governs a request.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Governing {
    Bucket(Name),
    /// A key by ARN (scenario keys and `aws/s3` keys alike).
    Key(String),
    /// A role's trust policy, by the role's ARN.
    Trust(String),
    /// An access point's policy, by the access point's ARN.
    AccessPoint(String),
}

/// One request of an operation, and the resource policy it meets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeStep {
    pub request: Request,
    pub governing: Governing,
}

/// One operation by one caller on one bucket, and whether the grants mean it to succeed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub caller_kind: CallerKind,
    pub bucket: Name,
    pub operation: Operation,
    pub transport: Transport,
    /// How the request reaches the bucket: directly, or through an access point.
    pub route: Route,
    pub intended: bool,
    /// The S3 request first, then the KMS request it causes, if any. The operation succeeds
    /// only if every step is allowed.
    pub steps: Vec<ProbeStep>,
}

/// Every literal document of a lowered scenario, plus those of the probe callers and of the
/// `aws/s3` keys, indexed the way steps refer to them.
#[derive(Clone, Debug, Default)]
pub struct World {
    pub bucket_policies: BTreeMap<Name, (String, PolicyDocument)>,
    pub key_policies: BTreeMap<String, (String, PolicyDocument)>,
    /// Identity policies by caller ARN.
    pub identity_policies: BTreeMap<String, Vec<(String, PolicyDocument)>>,
    /// Trust policies of access roles by role ARN.
    pub trust_policies: BTreeMap<String, (String, PolicyDocument)>,
    /// Access point policies by access point ARN.
    pub access_point_policies: BTreeMap<String, (String, PolicyDocument)>,
    pub guardrails: GuardrailWorld,
}

/// The scenario's guardrails, indexed by what they apply to.
#[derive(Clone, Debug, Default)]
pub struct GuardrailWorld {
    /// SCPs by the id of an account they apply to.
    pub scps: BTreeMap<String, Vec<(String, PolicyDocument)>>,
    /// RCPs by the id of an account they apply to.
    pub rcps: BTreeMap<String, Vec<(String, PolicyDocument)>>,
    /// Endpoint policies by endpoint id.
    pub endpoints: BTreeMap<String, (String, PolicyDocument)>,
    /// Permissions boundaries by role ARN.
    pub boundaries: BTreeMap<String, (String, PolicyDocument)>,
}

impl GuardrailWorld {
    pub fn build(scenario: &Scenario) -> GuardrailWorld {
        let mut world = GuardrailWorld::default();
        for guardrail in &scenario.guardrails {
            let named = || {
                (
                    guardrail::policy_name(&guardrail.kind, &guardrail.file),
                    guardrail.document.clone(),
                )
            };
            match &guardrail.kind {
                GuardrailKind::Scp { accounts } | GuardrailKind::Rcp { accounts } => {
                    let into = match guardrail.kind {
                        GuardrailKind::Scp { .. } => &mut world.scps,
                        _ => &mut world.rcps,
                    };
                    for account in accounts {
                        into.entry(scenario.account(account).id.clone())
                            .or_default()
                            .push(named());
                    }
                }
                GuardrailKind::VpcEndpoint { vpce_id, .. } => {
                    world.endpoints.insert(vpce_id.clone(), named());
                }
                GuardrailKind::PermissionsBoundary { roles, .. } => {
                    for role in roles {
                        world.boundaries.insert(scenario.role_arn(role), named());
                    }
                }
            }
        }
        world
    }

    /// The guardrail layers `request` meets.
    pub fn layers(&self, request: &Request) -> Vec<GuardrailPolicies<'_>> {
        fn named((name, document): &(String, PolicyDocument)) -> NamedPolicy<'_> {
            NamedPolicy { name, document }
        }
        let mut layers = Vec::new();
        let caller_arn = request.caller.arn();
        if let Some(scps) = request.caller.account().and_then(|id| self.scps.get(id)) {
            layers.push(guardrail::scp_layer(scps.iter().map(named).collect()));
        }
        if let Some(rcps) = self.rcps.get(&request.resource_account) {
            layers.push(guardrail::rcp_layer(rcps.iter().map(named).collect()));
        }
        let through = request
            .context
            .get(condition_key::SOURCE_VPCE)
            .and_then(|ids| ids.first())
            .and_then(|id| self.endpoints.get(id));
        if let (true, Some(policy)) = (request.service().eq_ignore_ascii_case(s3::SERVICE), through)
        {
            layers.push(guardrail::single_layer(
                Layer::VpcEndpointPolicy,
                named(policy),
            ));
        }
        if let Some(boundary) = caller_arn.and_then(|arn| self.boundaries.get(arn)) {
            layers.push(guardrail::single_layer(
                Layer::PermissionsBoundary,
                named(boundary),
            ));
        }
        layers
    }
}

impl World {
    pub fn build(lowered: &Lowered) -> World {
        let scenario = &lowered.scenario;
        let arns = ScenarioArns::new(scenario);
        let mut world = World {
            guardrails: GuardrailWorld::build(scenario),
            ..World::default()
        };
        for (bucket, policy) in &lowered.bucket_policies {
            world.bucket_policies.insert(
                bucket.clone(),
                (
                    format!("bucket policy of {}", scenario.buckets[bucket].bucket_name),
                    arns.literal(policy),
                ),
            );
        }
        for (key, policy) in &lowered.key_policies {
            world.key_policies.insert(
                arns.key_arn(key),
                (format!("key policy of key {key}"), arns.literal(policy)),
            );
        }
        for bucket in scenario.buckets.values() {
            if bucket.encryption == Encryption::AwsManaged {
                let account = &scenario.account(&bucket.account).id;
                world.key_policies.insert(
                    arns.aws_managed_key_arn(bucket),
                    (
                        format!("key policy of aws/s3 in {}", bucket.account),
                        aws_managed_s3_key_policy(account, &bucket.region),
                    ),
                );
            }
        }
        for ((bucket, account), policy) in &lowered.access_point_policies {
            let bucket = &scenario.buckets[bucket];
            if let Some(arn) =
                bucket.access_point_arn(&scenario.account(&bucket.account).id, account)
            {
                world.access_point_policies.insert(
                    arn,
                    (
                        format!("policy of access point {}", bucket.access_points[account]),
                        arns.literal(policy),
                    ),
                );
            }
        }
        for (role, policy) in &lowered.trust_policies {
            if scenario.roles[role].access_role_of().is_some() {
                world.trust_policies.insert(
                    scenario.role_arn(role),
                    (format!("trust policy of role {role}"), arns.literal(policy)),
                );
            }
        }
        for (role, policy) in &lowered.role_policies {
            world.identity_policies.insert(
                scenario.role_arn(role),
                vec![(
                    format!("identity policy of role {role}"),
                    arns.literal(policy),
                )],
            );
        }
        let admin = admin_policy();
        for account in scenario.accounts.values() {
            world.identity_policies.insert(
                role_arn(scenario.partition, &account.id, ADMIN_ROLE),
                vec![(ADMIN_POLICY.to_string(), admin.clone())],
            );
        }
        for account_id in outsiders(scenario) {
            world.identity_policies.insert(
                role_arn(scenario.partition, &account_id, ADMIN_ROLE),
                vec![(ADMIN_POLICY.to_string(), admin.clone())],
            );
        }
        for (_, caller) in kept_principals(scenario) {
            if let Some(arn) = caller.arn() {
                world.identity_policies.insert(
                    arn.to_string(),
                    vec![(ADMIN_POLICY.to_string(), admin.clone())],
                );
            }
        }
        for (kind, caller) in look_alikes(scenario) {
            if let (
                CallerKind::LookAlike {
                    privileged: true, ..
                },
                Some(arn),
            ) = (kind, caller.arn())
            {
                world.identity_policies.insert(
                    arn.to_string(),
                    vec![(ADMIN_POLICY.to_string(), admin.clone())],
                );
            }
        }
        world
    }

    /// The same world with only what the live policies give: every `Allow` of crossgrant's
    /// own taken out of the resource policies (its `Deny`s stay). A request still allowed here
    /// is allowed by statements that were there before crossgrant.
    pub fn kept_only(&self) -> World {
        let keep = |(name, document): &(String, PolicyDocument)| {
            let statements = document
                .statements
                .iter()
                .filter(|statement| {
                    statement.verbatim.is_some() || statement.effect == Effect::Deny
                })
                .cloned()
                .collect();
            (name.clone(), PolicyDocument::new(statements))
        };
        World {
            bucket_policies: self
                .bucket_policies
                .iter()
                .map(|(bucket, policy)| (bucket.clone(), keep(policy)))
                .collect(),
            key_policies: self
                .key_policies
                .iter()
                .map(|(key, policy)| (key.clone(), keep(policy)))
                .collect(),
            identity_policies: self.identity_policies.clone(),
            trust_policies: self.trust_policies.clone(),
            access_point_policies: self
                .access_point_policies
                .iter()
                .map(|(arn, policy)| (arn.clone(), keep(policy)))
                .collect(),
            guardrails: self.guardrails.clone(),
        }
    }

    pub fn policies(&self, step: &ProbeStep) -> PolicySet<'_> {
        let identity = step
            .request
            .caller
            .arn()
            .and_then(|arn| self.identity_policies.get(arn))
            .map(|policies| {
                policies
                    .iter()
                    .map(|(name, document)| NamedPolicy { name, document })
                    .collect()
            })
            .unwrap_or_default();
        let resource = match &step.governing {
            Governing::Bucket(bucket) => self.bucket_policies.get(bucket),
            Governing::Key(arn) => self.key_policies.get(arn),
            Governing::Trust(arn) => self.trust_policies.get(arn),
            Governing::AccessPoint(arn) => self.access_point_policies.get(arn),
        }
        .map(|(name, document)| NamedPolicy { name, document });
        let mut guardrails = self.guardrails.layers(&step.request);
        if through_access_point(&step.request) {
            // At the bucket, behind an access point: the identity policy, the caller's
            // guardrails and the endpoint were asked about the access point; the bucket's own
            // RCPs still apply.
            guardrails.retain(|layer| layer.layer == Layer::ResourceControlPolicy);
            return PolicySet {
                identity: Vec::new(),
                resource,
                guardrails,
            };
        }
        PolicySet {
            identity,
            resource,
            guardrails,
        }
    }
}

/// An identity policy that allows everything, as `AdministratorAccess` does.
pub fn admin_policy() -> PolicyDocument {
    PolicyDocument::new(vec![Statement::allow("Everything")
        .actions(["*"])
        .resources([Value::lit("*")])])
}

fn role_arn(partition: Partition, account_id: &str, name: &str) -> String {
    partition.iam_arn(account_id, &format!("role/{name}"))
}

/// Look-alikes of every role that has a grant: the same name under another path, a longer
/// name under the same path, and the same path and name in the stranger's account, each in a
/// privileged and an unprivileged variant where both can apply. A variant is left out where
/// the scenario declares that no such role exists (a declared path holds only declared roles),
/// where IAM could not name it (a name over 64 characters), or where it is a role of the
/// scenario itself.
pub fn look_alikes(scenario: &Scenario) -> Vec<(CallerKind, Caller)> {
    const OTHER_PATHS: [&str; 2] = ["/crossgrant-look-alike/", "/crossgrant-look-alike-admin/"];
    const LONGER_NAMES: [&str; 2] = ["-look-alike", "-look-alike-admin"];
    let scenario_arns: BTreeSet<String> = scenario
        .roles
        .keys()
        .map(|role| scenario.role_arn(role))
        .collect();
    let stranger = stranger_account(scenario);
    // A consumer that reaches a bucket through an access role is named by that role's trust
    // policy: its look-alikes must not get in there either.
    let granted: BTreeSet<&Name> = scenario
        .grants
        .iter()
        .flat_map(|grant| std::iter::once(&grant.role).chain(&grant.via_consumer))
        .collect();
    let mut out = Vec::new();
    for role in granted.into_iter().map(|name| &scenario.roles[name]) {
        let account = scenario.account(&role.account);
        let declared = |path: &str| {
            account.role_paths.iter().any(|declared| declared == path)
                || (scenario.organization.is_some()
                    && scenario
                        .organization_role_paths
                        .iter()
                        .any(|declared| declared == path))
        };
        let arn = |account_id: &str, path: &str, name: &str| {
            scenario
                .partition
                .iam_arn(account_id, &format!("role{path}{name}"))
        };
        let mut variants = Vec::new();
        for (privileged, (path, suffix)) in [false, true]
            .into_iter()
            .zip(OTHER_PATHS.into_iter().zip(LONGER_NAMES))
        {
            let path = if path == role.path { "/" } else { path };
            if !declared(path) {
                variants.push((
                    Resemblance::OtherPath,
                    privileged,
                    arn(&account.id, path, &role.role_name),
                ));
            }
            let longer = format!("{}{suffix}", role.role_name);
            if longer.len() <= 64 && !declared(&role.path) {
                variants.push((
                    Resemblance::LongerName,
                    privileged,
                    arn(&account.id, &role.path, &longer),
                ));
            }
        }
        variants.push((
            Resemblance::OtherAccount,
            true,
            arn(&stranger, &role.path, &role.role_name),
        ));
        for (resemblance, privileged, arn) in variants {
            if scenario_arns.contains(&arn) {
                continue;
            }
            let caller = Caller::role(arn).expect("look-alike ARNs carry a twelve-digit account");
            out.push((
                CallerKind::LookAlike {
                    role: role.name.clone(),
                    resemblance,
                    privileged,
                },
                caller,
            ));
        }
    }
    out
}

/// The principals that `Allow` statements kept from live policies name, each with the buckets
/// whose bucket or key policy names it, as probe callers: a role by its ARN, an account by an
/// administrator role in it. Roles of the scenario are probed as themselves already.
pub fn kept_principals(scenario: &Scenario) -> Vec<(CallerKind, Caller)> {
    kept_principal_buckets(scenario)
        .into_keys()
        .filter_map(|principal| {
            let caller = match principal.strip_suffix(":root") {
                Some(account) => {
                    let id = account.rsplit(':').next().unwrap_or_default();
                    let partition = Partition::of_arn(&principal).unwrap_or(scenario.partition);
                    Caller::role(role_arn(partition, id, ADMIN_ROLE))?
                }
                None => Caller::role(principal.clone())?,
            };
            Some((CallerKind::Kept { principal }, caller))
        })
        .collect()
}

/// Each principal (ARN, or account root) that a kept `Allow` statement names, with the buckets
/// whose policies name it.
fn kept_principal_buckets(scenario: &Scenario) -> BTreeMap<String, BTreeSet<Name>> {
    let scenario_roles: BTreeSet<String> = scenario
        .roles
        .keys()
        .map(|role| scenario.role_arn(role))
        .collect();
    let mut out: BTreeMap<String, BTreeSet<Name>> = BTreeMap::new();
    for bucket in scenario.buckets.values() {
        // The owner account's root only delegates to the owner's IAM policies.
        let owner_root = scenario.account(&bucket.account).root_arn();
        let key_policy = bucket
            .key()
            .and_then(|key| scenario.keys[key].live_policy());
        let kept = bucket
            .live_policy()
            .into_iter()
            .chain(key_policy)
            .flat_map(|live| live.kept());
        for statement in kept {
            if statement.effect != Effect::Allow {
                continue;
            }
            let Some(Clause::Is(Principal::Typed(map))) = &statement.principal else {
                continue;
            };
            for value in map.get("AWS").into_iter().flatten() {
                let Some(arn) = value.as_lit() else { continue };
                // An account id on its own stands for the account's root; patterns and `*`
                // are asked about by the stranger and the anonymous caller.
                let arn = if is_account_id(arn) {
                    scenario.partition.root_arn(arn)
                } else if arn.starts_with("arn:") && !arn.contains(['*', '?']) {
                    arn.to_string()
                } else {
                    continue;
                };
                if scenario_roles.contains(&arn) || arn == owner_root {
                    continue;
                }
                out.entry(arn).or_default().insert(bucket.name.clone());
            }
        }
    }
    out
}

/// An account id no scenario account uses.
pub fn stranger_account(scenario: &Scenario) -> String {
    unused_accounts(scenario)
        .next()
        .expect("some twelve-digit account id is unused")
}

/// The account of the organization the scenario does not name, if it declares one.
pub fn organization_member_account(scenario: &Scenario) -> Option<String> {
    scenario.organization.as_ref()?;
    unused_accounts(scenario).nth(1)
}

/// The accounts of callers from outside the scenario: the stranger, and the organization
/// member when there is an organization.
fn outsiders(scenario: &Scenario) -> Vec<String> {
    std::iter::once(stranger_account(scenario))
        .chain(organization_member_account(scenario))
        .collect()
}

/// Twelve-digit account ids no scenario account uses, from the top down.
fn unused_accounts(scenario: &Scenario) -> impl Iterator<Item = String> + '_ {
    let used: BTreeSet<&str> = scenario
        .accounts
        .values()
        .map(|account| account.id.as_str())
        .collect();
    (0..)
        .map(|n: u64| format!("{:012}", 999_999_999_999 - n))
        .filter(move |id| !used.contains(id.as_str()))
}

/// Whether the bucket policy refuses requests that do not use TLS: a `Deny` applying to every
/// principal when `aws:SecureTransport` is false. Only then are plain-HTTP requests probed.
pub fn enforces_tls(bucket_policy: Option<&PolicyDocument>) -> bool {
    bucket_policy.is_some_and(|policy| {
        policy.statements.iter().any(|statement| {
            statement.effect == Effect::Deny
                && statement.condition.get("Bool").is_some_and(|keys| {
                    keys.iter().any(|(key, values)| {
                        key.eq_ignore_ascii_case(condition_key::SECURE_TRANSPORT)
                            && values.iter().any(|value| value.as_lit() == Some("false"))
                    })
                })
                && matches!(statement.action, Clause::Is(_))
        })
    })
}

/// Whether any of the documents has a condition on `key`.
fn mentions_condition_key<'a>(
    documents: impl IntoIterator<Item = &'a PolicyDocument>,
    key: &str,
) -> bool {
    documents.into_iter().any(|document| {
        document.statements.iter().any(|statement| {
            statement
                .condition
                .values()
                .any(|keys| keys.keys().any(|name| name.eq_ignore_ascii_case(key)))
        })
    })
}

/// Object-level S3 actions no access level implies: deletion, and the ACL pair (meaningful
/// only with ACLs enabled, where writers get `s3:PutObjectAcl`).
pub const UNGRANTED_OBJECT_ACTIONS: [&str; 3] =
    [s3::DELETE_OBJECT, s3::GET_OBJECT_ACL, s3::PUT_OBJECT_ACL];

/// Bucket-level S3 actions no access level implies: taking over the bucket's policy, deleting
/// it, and listing versions (which ListBucket does not cover).
pub const UNGRANTED_BUCKET_ACTIONS: [&str; 3] = [
    s3::PUT_BUCKET_POLICY,
    s3::DELETE_BUCKET,
    s3::LIST_BUCKET_VERSIONS,
];

/// Whether the scenario's grants mean `role` to succeed at `operation` on `bucket`.
pub fn intended(scenario: &Scenario, role: &str, bucket_name: &str, operation: &Operation) -> bool {
    let grants = scenario
        .grants
        .iter()
        .filter(|grant| grant.role == role && grant.bucket == bucket_name);
    intended_by(&scenario.buckets[bucket_name], grants, operation)
}

/// Whether `grants` (a role's grants on `bucket`) mean it to succeed at `operation`.
fn intended_by<'g>(
    bucket: &Bucket,
    grants: impl IntoIterator<Item = &'g Grant>,
    operation: &Operation,
) -> bool {
    let covers_extra = |extra: &[String], action: &str, bucket_level: bool| {
        extra.iter().any(|pattern| {
            is_bucket_level(pattern) == bucket_level && glob_ignore_case(pattern, action)
        })
    };
    grants.into_iter().any(|grant| {
        let inside = |key: &str| key.starts_with(&grant.prefix);
        let reads = grant.access.reads();
        let writes = grant.access.writes();
        match operation {
            Operation::GetObject { key } => {
                inside(key) && (reads || covers_extra(&grant.extra_actions, s3::GET_OBJECT, false))
            }
            Operation::GetObjectVersion { key } => {
                inside(key)
                    && (reads || covers_extra(&grant.extra_actions, s3::GET_OBJECT_VERSION, false))
            }
            Operation::PutObjectSseKms { key } => {
                inside(key) && (writes || covers_extra(&grant.extra_actions, s3::PUT_OBJECT, false))
            }
            // These requests carry no encryption headers; `strict` refuses exactly that. S3
            // takes no such header on UploadPart or CompleteMultipartUpload, so strict mode
            // rules out multipart uploads altogether.
            Operation::PutObject { key }
            | Operation::CreateMultipartUpload { key }
            | Operation::UploadPart { key }
            | Operation::CompleteMultipartUpload { key } => {
                bucket.enforce_encryption != EncryptionEnforcement::Strict
                    && inside(key)
                    && (writes || covers_extra(&grant.extra_actions, s3::PUT_OBJECT, false))
            }
            Operation::ListBucket { prefix } => {
                (reads && (grant.prefix.is_empty() || prefix.as_deref().is_some_and(&inside)))
                    || covers_extra(&grant.extra_actions, s3::LIST_BUCKET, true)
            }
            Operation::OtherObjectAction { action, key } => {
                inside(key)
                    && (covers_extra(&grant.extra_actions, action, false)
                        || (action == LEGACY_ACL_ACTION
                            && writes
                            && bucket.object_ownership.acls_enabled()))
            }
            Operation::OtherBucketAction { action } => {
                covers_extra(&grant.extra_actions, action, true)
            }
            Operation::KmsDecrypt { key } => {
                inside(key) && bucket.key().is_some() && (reads || writes)
            }
            Operation::KmsGenerateDataKey { key } => {
                inside(key) && bucket.key().is_some() && writes
            }
            // The hardening these probes exist for forbids exactly this.
            Operation::PutObjectOtherKey { .. } | Operation::KmsDirectDecrypt { .. } => false,
            // Decided by who the access role is for, not by grants.
            Operation::AssumeRole { .. } => false,
        }
    })
}

struct ProbeTarget<'a> {
    scenario: &'a Scenario,
    arns: ScenarioArns<'a>,
    bucket: &'a Bucket,
    owner_id: &'a str,
    /// The organization id, and the accounts in it (the scenario's and the member outside it).
    organization: Option<(&'a str, &'a BTreeSet<String>)>,
}

impl ProbeTarget<'_> {
    /// The organization of an account, when the scenario declares one and the account is in
    /// it.
    fn organization_of(&self, account: &str) -> Option<&str> {
        self.organization
            .filter(|(_, members)| members.contains(account))
            .map(|(organization, _)| organization)
    }

    fn base_context(&self, caller: &Caller, transport: Transport) -> Context {
        let mut context = Context::of_caller(caller, transport != Transport::PlainHttp);
        if let (Some(account), Some((organization, members))) =
            (caller.account(), self.organization)
        {
            if members.contains(account) {
                context.set(condition_key::PRINCIPAL_ORG_ID, organization);
            }
        }
        context
    }

    fn s3_step(
        &self,
        caller: &Caller,
        transport: Transport,
        action: &str,
        object: Option<&str>,
        extra: impl FnOnce(&mut Context),
    ) -> ProbeStep {
        let mut context = self.base_context(caller, transport);
        context.add_resource(
            self.owner_id,
            self.organization_of(self.owner_id),
            Some(&self.bucket.region),
        );
        extra(&mut context);
        ProbeStep {
            request: Request {
                caller: caller.clone(),
                action: action.to_string(),
                resource: s3_arn(self.bucket.partition(), &self.bucket.bucket_name, object),
                resource_account: self.owner_id.to_string(),
                context,
            },
            governing: Governing::Bucket(self.bucket.name.clone()),
        }
    }

    /// The KMS request S3 sends on the caller's behalf for an object: S3 signs it as the
    /// caller, over TLS, naming itself as `kms:ViaService` and the object's (or, with an S3
    /// Bucket Key, the bucket's) ARN as encryption context.
    fn kms_step(&self, caller: &Caller, action: &str, object: &str) -> ProbeStep {
        let key_arn = self.arns.bucket_key_arn(self.bucket);
        let mut context = self.base_context(caller, Transport::Https);
        context.add_kms_caller(caller);
        context.add_s3_call(
            &self.bucket.region,
            s3_encryption_context(
                self.bucket.partition(),
                &self.bucket.bucket_name,
                Some(object),
                self.bucket.bucket_key,
            ),
        );
        let key_account = key_arn
            .split(':')
            .nth(4)
            .unwrap_or(self.owner_id)
            .to_string();
        let key_region = key_arn.split(':').nth(3).unwrap_or(&self.bucket.region);
        context.add_resource(
            &key_account,
            self.organization_of(&key_account),
            Some(key_region),
        );
        ProbeStep {
            request: Request {
                caller: caller.clone(),
                action: action.to_string(),
                resource: key_arn.clone(),
                resource_account: key_account,
                context,
            },
            governing: Governing::Key(key_arn),
        }
    }

    fn steps(
        &self,
        caller: &Caller,
        operation: &Operation,
        transport: Transport,
    ) -> Vec<ProbeStep> {
        // A client asking for the AWS-managed key names `aws:kms` and no key id.
        let sse_headers = |context: &mut Context| {
            context.set(condition_key::S3_SSE, SSE_KMS);
            if self.bucket.key().is_some() {
                context.set(
                    condition_key::S3_SSE_KMS_KEY_ID,
                    self.arns.bucket_key_arn(self.bucket),
                );
            }
        };
        match operation {
            Operation::GetObject { key } | Operation::GetObjectVersion { key } => {
                let action = match operation {
                    Operation::GetObject { .. } => s3::GET_OBJECT,
                    _ => s3::GET_OBJECT_VERSION,
                };
                vec![
                    self.s3_step(caller, transport, action, Some(key), |_| {}),
                    self.kms_step(caller, kms::DECRYPT, key),
                ]
            }
            Operation::PutObject { key } | Operation::CreateMultipartUpload { key } => vec![
                self.s3_step(caller, transport, s3::PUT_OBJECT, Some(key), |_| {}),
                self.kms_step(caller, kms::GENERATE_DATA_KEY, key),
            ],
            Operation::PutObjectSseKms { key } => vec![
                self.s3_step(caller, transport, s3::PUT_OBJECT, Some(key), sse_headers),
                self.kms_step(caller, kms::GENERATE_DATA_KEY, key),
            ],
            Operation::UploadPart { key } => vec![
                self.s3_step(caller, transport, s3::PUT_OBJECT, Some(key), |_| {}),
                self.kms_step(caller, kms::DECRYPT, key),
            ],
            Operation::CompleteMultipartUpload { key } => {
                vec![self.s3_step(caller, transport, s3::PUT_OBJECT, Some(key), |_| {})]
            }
            Operation::ListBucket { prefix } => {
                vec![
                    self.s3_step(caller, transport, s3::LIST_BUCKET, None, |context| {
                        if let Some(prefix) = prefix {
                            context.set(condition_key::S3_PREFIX, prefix.clone());
                        }
                    }),
                ]
            }
            Operation::OtherObjectAction { action, key } => {
                vec![self.s3_step(caller, transport, action, Some(key), |_| {})]
            }
            Operation::OtherBucketAction { action } => {
                vec![self.s3_step(caller, transport, action, None, |_| {})]
            }
            Operation::KmsDecrypt { key } => vec![self.kms_step(caller, kms::DECRYPT, key)],
            Operation::KmsGenerateDataKey { key } => {
                vec![self.kms_step(caller, kms::GENERATE_DATA_KEY, key)]
            }
            Operation::PutObjectOtherKey { key } => {
                let other_key = format!(
                    "{}/{}",
                    self.arns
                        .bucket_key_arn(self.bucket)
                        .rsplit_once('/')
                        .map(|(base, _)| base)
                        .unwrap_or_default(),
                    super::resolve::deterministic_key_id("another key")
                );
                vec![
                    self.s3_step(caller, transport, s3::PUT_OBJECT, Some(key), |context| {
                        context.set(condition_key::S3_SSE, SSE_KMS);
                        context.set(condition_key::S3_SSE_KMS_KEY_ID, other_key);
                    }),
                ]
            }
            Operation::KmsDirectDecrypt { key } => {
                let mut step = self.kms_step(caller, kms::DECRYPT, key);
                step.request.context.remove(condition_key::KMS_VIA_SERVICE);
                step.request
                    .context
                    .set(condition_key::VIA_AWS_SERVICE, "false");
                vec![step]
            }
            Operation::AssumeRole { role, .. } => vec![self.assume_step(caller, role)],
        }
    }

    /// sts:AssumeRole of an access role, presenting its external id (which is no secret: every
    /// caller is asked with it).
    fn assume_step(&self, caller: &Caller, role: &str) -> ProbeStep {
        let scenario = self.scenario;
        let arn = scenario.role_arn(role);
        let mut context = self.base_context(caller, Transport::Https);
        let account = &scenario.account(&scenario.roles[role].account).id;
        context.add_resource(
            account,
            self.organization_of(account),
            Some(&scenario.region),
        );
        if let Trust::Role {
            external_id: Some(id),
            ..
        } = &scenario.roles[role].trust
        {
            context.set(condition_key::STS_EXTERNAL_ID, id.clone());
        }
        ProbeStep {
            request: Request {
                caller: caller.clone(),
                action: sts::ASSUME_ROLE.to_string(),
                resource: arn.clone(),
                resource_account: scenario.account(&scenario.roles[role].account).id.clone(),
                context,
            },
            governing: Governing::Trust(arn),
        }
    }
}

/// Whether the grants of `role` on `bucket` require its requests to come through VPC
/// endpoints.
fn restricted_to_endpoints(scenario: &Scenario, role: &str, bucket: &str) -> bool {
    scenario.grants.iter().any(|grant| {
        grant.role == role && grant.bucket == bucket && !grant.vpc_endpoints.is_empty()
    })
}

/// The VPC endpoint (and its VPC, if known) the S3 requests of a caller to `bucket` come
/// through: a scenario role's, or a look-alike's of the role it resembles (it stands in the
/// same network, so only its name tells it apart). A role behind a declared endpoint uses
/// that endpoint; otherwise a role whose grant requires endpoints uses the first of them.
pub fn source_vpce(
    scenario: &Scenario,
    kind: &CallerKind,
    bucket: &str,
) -> Option<(String, Option<String>)> {
    let (CallerKind::Role { role } | CallerKind::LookAlike { role, .. }) = kind else {
        return None;
    };
    let declared = scenario
        .guardrails
        .iter()
        .find_map(|guardrail| match &guardrail.kind {
            GuardrailKind::VpcEndpoint {
                vpce_id,
                vpc_id,
                roles,
            } if roles.contains(role) => Some((vpce_id.clone(), vpc_id.clone())),
            _ => None,
        });
    declared.or_else(|| {
        scenario
            .grants
            .iter()
            .filter(|grant| grant.role == *role && grant.bucket == bucket)
            .find_map(|grant| grant.vpc_endpoints.first())
            .map(|id| (id.clone(), None))
    })
}

/// Sends the S3 requests of an operation through an access point of the bucket's account:
/// each becomes the request on the access point (its ARN, or an object's through it), which
/// its policy governs, followed by the same request at the bucket, which the bucket policy
/// governs; both carry what S3 knows of the access point (`s3:DataAccessPointArn`,
/// `s3:DataAccessPointAccount`, `s3:AccessPointNetworkOrigin`). The KMS calls S3 makes stay as
/// they are: the encryption context is the bucket's or object's, whichever way it was reached.
pub fn through_access_point_steps(
    steps: Vec<ProbeStep>,
    bucket_arn: &str,
    access_point_arn: &str,
    owner_id: &str,
) -> Vec<ProbeStep> {
    let mut out = Vec::with_capacity(steps.len() + 1);
    for mut step in steps {
        if !step.request.service().eq_ignore_ascii_case(s3::SERVICE) {
            out.push(step);
            continue;
        }
        let context = &mut step.request.context;
        context.set(condition_key::S3_DATA_ACCESS_POINT_ARN, access_point_arn);
        context.set(condition_key::S3_DATA_ACCESS_POINT_ACCOUNT, owner_id);
        context.set(condition_key::S3_ACCESS_POINT_NETWORK_ORIGIN, "Internet");
        let object = step
            .request
            .resource
            .strip_prefix(bucket_arn)
            .and_then(|rest| rest.strip_prefix('/'));
        let mut at_access_point = step.clone();
        at_access_point.request.resource =
            crate::aws::access_point_request_arn(access_point_arn, object);
        at_access_point.governing = Governing::AccessPoint(access_point_arn.to_string());
        out.push(at_access_point);
        out.push(step);
    }
    out
}

/// Marks the S3 requests of an operation as coming through a VPC endpoint (the KMS call S3
/// makes does not: S3 makes it from its own network).
fn through_endpoint(steps: &mut [ProbeStep], vpce_id: &str, vpc_id: Option<&str>) {
    for step in steps {
        if step.request.service().eq_ignore_ascii_case(s3::SERVICE) {
            step.request.context.add_vpc_endpoint(vpce_id, vpc_id);
        }
    }
}

/// The object keys and list prefixes probed on a bucket: one object under every granted prefix
/// and one outside all of them.
fn probe_targets<'g>(
    grants: impl Iterator<Item = &'g Grant>,
) -> (Vec<String>, Vec<Option<String>>) {
    let prefixes: BTreeSet<&str> = grants.map(|grant| grant.prefix.as_str()).collect();
    let mut keys: Vec<String> = prefixes
        .iter()
        .map(|prefix| format!("{prefix}{PROBE_OBJECT}"))
        .collect();
    keys.push(format!("{OUTSIDE_PREFIX}{PROBE_OBJECT}"));
    keys.sort();
    keys.dedup();
    let mut lists: Vec<Option<String>> = vec![None];
    lists.extend(
        prefixes
            .iter()
            .filter(|prefix| !prefix.is_empty())
            .map(|prefix| Some(prefix.to_string())),
    );
    lists.push(Some(OUTSIDE_PREFIX.to_string()));
    lists.dedup();
    (keys, lists)
}

fn operations(keys: &[String], lists: &[Option<String>]) -> Vec<Operation> {
    let mut operations = Vec::new();
    for key in keys {
        let key = key.clone();
        operations.extend([
            Operation::GetObject { key: key.clone() },
            Operation::GetObjectVersion { key: key.clone() },
            Operation::PutObject { key: key.clone() },
            Operation::PutObjectSseKms { key: key.clone() },
            Operation::CreateMultipartUpload { key: key.clone() },
            Operation::UploadPart { key: key.clone() },
            Operation::CompleteMultipartUpload { key: key.clone() },
        ]);
        operations.extend(UNGRANTED_OBJECT_ACTIONS.iter().map(|action| {
            Operation::OtherObjectAction {
                action: action.to_string(),
                key: key.clone(),
            }
        }));
    }
    operations.extend(lists.iter().map(|prefix| Operation::ListBucket {
        prefix: prefix.clone(),
    }));
    operations.extend(
        UNGRANTED_BUCKET_ACTIONS
            .iter()
            .map(|action| Operation::OtherBucketAction {
                action: action.to_string(),
            }),
    );
    operations
}

/// Every caller `check` can ask, in a stable order: scenario roles first, then the probe
/// callers of each account, the stranger, the organization member, look-alikes, principals of
/// kept statements, and the anonymous caller.
pub fn callers(scenario: &Scenario) -> Vec<(CallerKind, Caller)> {
    let mut callers: Vec<(CallerKind, Caller)> = scenario
        .roles
        .keys()
        .map(|role| {
            let caller = Caller::role(scenario.role_arn(role))
                .expect("validated role ARNs carry their account id");
            (CallerKind::Role { role: role.clone() }, caller)
        })
        .collect();
    for account in scenario.accounts.values() {
        for (kind, name) in [
            (
                CallerKind::Admin {
                    account: account.name.clone(),
                },
                ADMIN_ROLE,
            ),
            (
                CallerKind::Unprivileged {
                    account: account.name.clone(),
                },
                UNPRIVILEGED_ROLE,
            ),
        ] {
            let caller = Caller::role(role_arn(scenario.partition, &account.id, name))
                .expect("account ids are twelve digits");
            callers.push((kind, caller));
        }
    }
    let stranger = stranger_account(scenario);
    callers.push((
        CallerKind::Stranger {
            account_id: stranger.clone(),
        },
        Caller::role(role_arn(scenario.partition, &stranger, ADMIN_ROLE)).expect("twelve digits"),
    ));
    if let Some(account_id) = organization_member_account(scenario) {
        callers.push((
            CallerKind::OrganizationMember {
                account_id: account_id.clone(),
            },
            Caller::role(role_arn(scenario.partition, &account_id, ADMIN_ROLE))
                .expect("twelve digits"),
        ));
    }
    callers.extend(look_alikes(scenario));
    callers.extend(kept_principals(scenario));
    callers.push((CallerKind::Anonymous, Caller::Anonymous));
    callers
}

/// What the probes of one bucket share, whoever asks: the targets, whether secure defaults are
/// probed, and the access roles granted on it.
pub struct BucketProbes<'a> {
    pub bucket: &'a Bucket,
    pub keys: Vec<String>,
    lists: Vec<Option<String>>,
    tls: bool,
    pins_key_header: bool,
    pins_via_service: bool,
    /// Access roles granted on the bucket (`via = "owner-role"`).
    pub access_roles: Vec<&'a Name>,
}

/// The probes of a lowered scenario, caller by caller and bucket by bucket, with everything
/// that does not depend on the caller worked out once.
pub struct ProbePlan<'a> {
    lowered: &'a Lowered,
    pub callers: Vec<(CallerKind, Caller)>,
    pub buckets: Vec<BucketProbes<'a>>,
    kept_buckets: BTreeMap<String, BTreeSet<Name>>,
    /// The accounts of the organization: the scenario's and the member outside it.
    members: BTreeSet<String>,
    /// Each role's grants by bucket, the consumer of an access role counted as granted too.
    grants: BTreeMap<&'a str, BTreeMap<&'a str, Vec<&'a Grant>>>,
    granted: BTreeMap<&'a str, BTreeSet<&'a str>>,
}

impl<'a> ProbePlan<'a> {
    pub fn new(lowered: &'a Lowered) -> Self {
        let scenario = &lowered.scenario;
        let members: BTreeSet<String> = scenario
            .accounts
            .values()
            .map(|account| account.id.clone())
            .chain(organization_member_account(scenario))
            .collect();
        let mut grants: BTreeMap<&str, BTreeMap<&str, Vec<&Grant>>> = BTreeMap::new();
        let mut by_bucket: BTreeMap<&str, Vec<&Grant>> = BTreeMap::new();
        let mut granted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for grant in &scenario.grants {
            grants
                .entry(grant.role.as_str())
                .or_default()
                .entry(grant.bucket.as_str())
                .or_default()
                .push(grant);
            by_bucket
                .entry(grant.bucket.as_str())
                .or_default()
                .push(grant);
            for role in std::iter::once(&grant.role).chain(&grant.via_consumer) {
                granted
                    .entry(role.as_str())
                    .or_default()
                    .insert(grant.bucket.as_str());
            }
        }
        let buckets = scenario
            .buckets
            .values()
            .map(|bucket| {
                let bucket_grants = by_bucket.get(bucket.name.as_str());
                let bucket_grants = || bucket_grants.into_iter().flatten();
                let (keys, lists) = probe_targets(bucket_grants().copied());
                let grantee_policies =
                    || bucket_grants().filter_map(|grant| lowered.role_policies.get(&grant.role));
                let pins_key_header = mentions_condition_key(
                    lowered
                        .bucket_policies
                        .get(&bucket.name)
                        .into_iter()
                        .chain(grantee_policies()),
                    condition_key::S3_SSE_KMS_KEY_ID,
                );
                let pins_via_service = bucket.key().is_some_and(|key| {
                    mentions_condition_key(
                        lowered
                            .key_policies
                            .get(key)
                            .into_iter()
                            .chain(grantee_policies()),
                        condition_key::KMS_VIA_SERVICE,
                    )
                });
                let access_roles: BTreeSet<&Name> = bucket_grants()
                    .filter(|grant| grant.via_consumer.is_some())
                    .map(|grant| &grant.role)
                    .collect();
                BucketProbes {
                    bucket,
                    keys,
                    lists,
                    tls: enforces_tls(lowered.bucket_policies.get(&bucket.name)),
                    pins_key_header,
                    pins_via_service,
                    access_roles: access_roles.into_iter().collect(),
                }
            })
            .collect();
        ProbePlan {
            lowered,
            callers: callers(scenario),
            buckets,
            kept_buckets: kept_principal_buckets(scenario),
            members,
            grants,
            granted,
        }
    }

    pub fn scenario(&self) -> &'a Scenario {
        &self.lowered.scenario
    }

    pub fn lowered(&self) -> &'a Lowered {
        self.lowered
    }

    /// Where a caller's requests to `bucket` come from and go through.
    pub fn network(&self, kind: &CallerKind, caller: &Caller, bucket: &Bucket) -> Network {
        let scenario = &self.lowered.scenario;
        Network {
            endpoint: source_vpce(scenario, kind, &bucket.name),
            // The grant's own requests, from outside the endpoints it requires, must fail.
            restricted: matches!(kind, CallerKind::Role { role }
                if restricted_to_endpoints(scenario, role, &bucket.name)),
            routes: routes(self.lowered, kind, caller, bucket),
        }
    }

    /// Whether `role` has a grant on `bucket`, or reaches it through an access role.
    pub fn is_granted(&self, role: &str, bucket: &str) -> bool {
        self.granted
            .get(role)
            .is_some_and(|buckets| buckets.contains(bucket))
    }

    /// The grants of `role` on `bucket`.
    pub fn grants_of(&self, role: &str, bucket: &str) -> &[&'a Grant] {
        self.grants
            .get(role)
            .and_then(|buckets| buckets.get(bucket))
            .map_or(&[], Vec::as_slice)
    }

    /// Whether the caller is asked about the bucket at all: administrators only about other
    /// accounts' buckets, unprivileged roles about their own account's, look-alikes about the
    /// buckets of the role they resemble, kept principals about the buckets whose policies name
    /// them.
    pub fn relevant(&self, kind: &CallerKind, caller: &Caller, bucket: &Bucket) -> bool {
        let scenario = &self.lowered.scenario;
        let owner = &bucket.account;
        match kind {
            CallerKind::Admin { account } => account != owner,
            CallerKind::Unprivileged { account } => account == owner,
            CallerKind::LookAlike {
                role, privileged, ..
            } => {
                let owner_id = &scenario.account(owner).id;
                self.is_granted(role, &bucket.name)
                    && *privileged == (caller.account() != Some(owner_id.as_str()))
            }
            CallerKind::Kept { principal } => self
                .kept_buckets
                .get(principal)
                .is_some_and(|buckets| buckets.contains(&bucket.name)),
            _ => true,
        }
    }

    /// The requests of `bucket`'s probes are built for.
    fn target(&self, bucket: &BucketProbes<'a>) -> ProbeTarget<'_> {
        let scenario = &self.lowered.scenario;
        ProbeTarget {
            scenario,
            arns: ScenarioArns::new(scenario),
            bucket: bucket.bucket,
            owner_id: &scenario.account(&bucket.bucket.account).id,
            organization: scenario
                .organization
                .as_deref()
                .map(|organization| (organization, &self.members)),
        }
    }

    /// Every probe of one caller on one bucket, in a stable order.
    pub fn probes(&self, kind: &CallerKind, caller: &Caller, probed: &BucketProbes) -> Vec<Probe> {
        let scenario = &self.lowered.scenario;
        let bucket = probed.bucket;
        let target = self.target(probed);
        let keys = &probed.keys;
        let mut bucket_operations = operations(keys, &probed.lists);
        // Callers granted nothing must not reach the key through S3 either — except that
        // AWS opens an `aws/s3` key to every principal of its own account, by design and
        // beyond anyone's control.
        let key_open_to_caller = bucket.encryption == Encryption::AwsManaged
            && matches!(
                kind,
                CallerKind::Unprivileged { .. }
                    | CallerKind::LookAlike {
                        privileged: false,
                        ..
                    }
            );
        if !matches!(kind, CallerKind::Role { .. } | CallerKind::Anonymous) && !key_open_to_caller {
            for key in keys {
                if bucket.access_points.is_empty() {
                    bucket_operations.push(Operation::KmsDecrypt { key: key.clone() });
                    bucket_operations.push(Operation::KmsGenerateDataKey { key: key.clone() });
                } else if bucket.key().is_some() {
                    // The key policy names the consumer accounts, pinned to the calls S3
                    // makes: S3 makes them only for a request the access point and bucket let
                    // through, which the operations above ask end to end. What is left to ask
                    // alone is the key called directly.
                    bucket_operations.push(Operation::KmsDirectDecrypt { key: key.clone() });
                }
            }
        }
        for role in &probed.access_roles {
            bucket_operations.push(Operation::AssumeRole {
                role: (*role).clone(),
                role_name: scenario.roles[*role].role_name.clone(),
            });
        }
        for key in keys {
            if probed.pins_key_header {
                bucket_operations.push(Operation::PutObjectOtherKey { key: key.clone() });
            }
            if probed.pins_via_service && matches!(kind, CallerKind::Role { .. }) {
                bucket_operations.push(Operation::KmsDirectDecrypt { key: key.clone() });
            }
        }
        let Network {
            endpoint,
            restricted,
            routes: bucket_routes,
        } = self.network(kind, caller, bucket);
        let mut out = Vec::new();
        for operation in bucket_operations {
            let granted = match (kind, &operation) {
                (CallerKind::Role { role }, Operation::AssumeRole { role: access, .. }) => {
                    scenario.roles[access].access_role_of() == Some(role)
                }
                (CallerKind::Role { role }, _) => intended_by(
                    bucket,
                    self.grants_of(role, &bucket.name).iter().copied(),
                    &operation,
                ),
                _ => false,
            };
            let mut transports = vec![Transport::Https];
            let is_kms_only = matches!(
                operation,
                Operation::AssumeRole { .. }
                    | Operation::KmsDecrypt { .. }
                    | Operation::KmsGenerateDataKey { .. }
                    | Operation::KmsDirectDecrypt { .. }
            );
            if probed.tls && !is_kms_only {
                transports.push(Transport::PlainHttp);
            }
            if restricted && !is_kms_only {
                transports.push(Transport::OutsideVpcEndpoint);
            }
            let routes = if is_kms_only {
                vec![Route::Bucket]
            } else {
                bucket_routes.clone()
            };
            for route in routes {
                let own_route = match (&route, kind) {
                    (Route::Bucket, _) => bucket.access_points.is_empty(),
                    (Route::AccessPoint { account, .. }, CallerKind::Role { role }) => {
                        scenario.roles[role].account == *account
                    }
                    (Route::AccessPoint { .. }, _) => false,
                };
                for &transport in &transports {
                    let mut steps = target.steps(caller, &operation, transport);
                    if let Route::AccessPoint { account, .. } = &route {
                        let access_point = bucket
                            .access_point_arn(target.owner_id, account)
                            .expect("routes name the bucket's access points");
                        steps = through_access_point_steps(
                            steps,
                            &bucket.arn(),
                            &access_point,
                            target.owner_id,
                        );
                    }
                    if transport != Transport::OutsideVpcEndpoint {
                        if let Some((vpce_id, vpc_id)) = &endpoint {
                            through_endpoint(&mut steps, vpce_id, vpc_id.as_deref());
                        }
                    }
                    out.push(Probe {
                        caller_kind: kind.clone(),
                        bucket: bucket.name.clone(),
                        operation: operation.clone(),
                        transport,
                        route: route.clone(),
                        intended: granted && transport == Transport::Https && own_route,
                        steps,
                    });
                }
            }
        }
        out
    }

    /// The contexts every request of `caller` on `bucket` starts from, as its steps build
    /// them: an S3 request over each transport, and the KMS request S3 sends for it.
    pub fn caller_contexts(&self, caller: &Caller, probed: &BucketProbes) -> CallerContexts {
        let target = self.target(probed);
        let mut kms = target.base_context(caller, Transport::Https);
        kms.add_kms_caller(caller);
        CallerContexts {
            https: target.base_context(caller, Transport::Https),
            plain_http: target.base_context(caller, Transport::PlainHttp),
            kms,
        }
    }
}

/// What the context of a request holds because of who sent it (see
/// [`ProbePlan::caller_contexts`]).
#[derive(Clone, Debug)]
pub struct CallerContexts {
    pub https: Context,
    pub plain_http: Context,
    pub kms: Context,
}

impl CallerContexts {
    /// The context a step starts from, by the resource policy it meets and its transport.
    pub fn of_step(&self, step: &ProbeStep) -> &Context {
        match step.governing {
            Governing::Key(_) => &self.kms,
            Governing::Bucket(_) | Governing::AccessPoint(_) | Governing::Trust(_) => {
                match step.request.context.get(condition_key::SECURE_TRANSPORT) {
                    Some([value]) if value == "false" => &self.plain_http,
                    _ => &self.https,
                }
            }
        }
    }
}

/// Every probe of a lowered scenario, in a stable order: callers (scenario roles first), then
/// buckets, then operations. Every scenario role is asked about every bucket here; `check`
/// asks only about the buckets whose documents can let a role in (see [`super::reach`]).
pub fn probes(lowered: &Lowered) -> Vec<Probe> {
    let plan = ProbePlan::new(lowered);
    let mut out = Vec::new();
    for (kind, caller) in &plan.callers {
        for probed in &plan.buckets {
            if plan.relevant(kind, caller, probed.bucket) {
                out.extend(plan.probes(kind, caller, probed));
            }
        }
    }
    out
}
