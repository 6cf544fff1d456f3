//! Scenario problems as structured data, and their one rendering: file, line and column, the
//! offending text underlined, what is wrong and how to fix it. Validation collects every
//! problem of a run; the CLI prints them all and exits 2.

use crate::aws::{s3, PatternSyntax, EC2_SERVICE, LAMBDA_SERVICE};
use codespan_reporting::diagnostic::{Diagnostic, Label};
use codespan_reporting::files::SimpleFile;
use codespan_reporting::term::{self, Config};
use std::ops::Range;

pub type Span = Range<usize>;

/// One thing wrong with a scenario. Each variant carries the facts; [`Problem::describe`]
/// turns them into words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// TOML syntax, an unknown or missing field, or a value of the wrong type.
    Toml {
        message: String,
        span: Option<Span>,
    },
    /// The file is not UTF-8 text; `span` is its first byte that is not.
    NotUtf8 {
        utf16: bool,
        span: Span,
    },
    InvalidName {
        kind: &'static str,
        name: String,
        span: Span,
    },
    InvalidScenarioName {
        name: String,
        span: Span,
    },
    InvalidAccountId {
        account: String,
        id: String,
        span: Span,
    },
    DuplicateAccountId {
        id: String,
        first: String,
        span: Span,
    },
    Duplicate {
        what: &'static str,
        value: String,
        first: String,
        span: Span,
    },
    IdentifierCollision {
        kind: &'static str,
        name: String,
        other: String,
        span: Span,
    },
    /// Two places of the scenario (an account in a region) would render to the same file,
    /// stack, module or provider.
    OutputCollision {
        what: &'static str,
        output: String,
        place: String,
        other_place: String,
        span: Span,
        other_span: Span,
    },
    /// A name crossgrant derives from the scenario is one AWS or Terraform refuses.
    InvalidDerivedName {
        what: &'static str,
        derived: String,
        rule: &'static str,
        help: &'static str,
        span: Span,
    },
    UnknownReference {
        kind: &'static str,
        name: String,
        known: Vec<String>,
        span: Span,
    },
    InvalidBucketName {
        name: String,
        reason: &'static str,
        span: Span,
    },
    InvalidRegion {
        region: String,
        span: Span,
    },
    /// A region or ARN of another partition than the scenario's region.
    OtherPartition {
        what: &'static str,
        value: String,
        partition: &'static str,
        scenario_region: String,
        scenario_partition: &'static str,
        span: Span,
    },
    InvalidAlias {
        alias: String,
        reason: &'static str,
        span: Span,
    },
    KeyElsewhere {
        bucket: String,
        key: String,
        what: &'static str,
        bucket_has: String,
        key_has: String,
        span: Span,
    },
    AwsManagedKeyCrossAccount {
        bucket: String,
        role: String,
        owner: String,
        consumer: String,
        span: Span,
    },
    NoGrants {
        span: Span,
    },
    InvalidChoice {
        field: &'static str,
        value: String,
        choices: &'static [&'static str],
        span: Span,
    },
    InvalidPrefix {
        prefix: String,
        reason: &'static str,
        span: Span,
    },
    InvalidAction {
        action: String,
        reason: &'static str,
        span: Span,
    },
    AclsDisabled {
        bucket: String,
        action: String,
        span: Span,
    },
    InvalidRoleName {
        name: String,
        span: Span,
    },
    InvalidRolePath {
        path: String,
        reason: &'static str,
        span: Span,
    },
    InvalidServicePrincipal {
        service: String,
        span: Span,
    },
    InstanceAccountMismatch {
        instance: String,
        role: String,
        role_account: String,
        span: Span,
    },
    RoleWithoutInstanceProfile {
        instance: String,
        role: String,
        span: Span,
    },
    InvalidInstanceType {
        value: String,
        span: Span,
    },
    InvalidImage {
        value: String,
        span: Span,
    },
    InvalidSubnet {
        value: String,
        span: Span,
    },
    InvalidArn {
        kind: ArnKind,
        value: String,
        reason: &'static str,
        span: Span,
    },
    /// A value that IAM would read as a pattern or a policy variable where crossgrant means it
    /// literally: it would match more than it names.
    PatternInValue {
        field: &'static str,
        value: String,
        syntax: PatternSyntax,
        span: Span,
    },
    /// A resource with more tags than AWS allows, the scenario's own counted with its own.
    TooManyTags {
        count: usize,
        scenario_wide: usize,
        span: Span,
    },
    /// An action that is not one of the S3 actions on a bucket or an object.
    UnknownAction {
        action: String,
        suggestion: Option<&'static str>,
        span: Span,
    },
    DuplicateManagedPolicy {
        role: String,
        arn: String,
        span: Span,
    },
    TooManyManagedPolicies {
        role: String,
        count: usize,
        max: u32,
        span: Span,
    },
    /// A `[keys]` table named like the value buckets use for the AWS-managed key.
    ReservedKeyName {
        name: String,
        span: Span,
    },
    DeletionWindow {
        days: i64,
        span: Span,
    },
    InvalidTag {
        key: String,
        reason: &'static str,
        span: Span,
    },
    InvalidProfile {
        value: String,
        span: Span,
    },
    InvalidOrganization {
        value: String,
        span: Span,
    },
    InvalidOwnedRolePath {
        path: String,
        reason: &'static str,
        span: Span,
    },
    OrganizationPathsWithoutOrganization {
        span: Span,
    },
    MaxManagedPolicies {
        value: i64,
        span: Span,
    },
    /// A field that configures a resource crossgrant creates, on a table marked `existing`.
    CreationOnly {
        kind: &'static str,
        name: String,
        field: &'static str,
        span: Span,
    },
    /// A field that only describes an existing resource, on a table crossgrant creates.
    NeedsExisting {
        kind: &'static str,
        name: String,
        field: &'static str,
        span: Span,
    },
    /// A field the table needs is not there; `span` is the table's name.
    MissingField {
        kind: &'static str,
        name: String,
        field: &'static str,
        help: &'static str,
        span: Span,
    },
    /// An existing key's ARN is not a key ARN, or disagrees with the table.
    InvalidKeyArn {
        arn: String,
        reason: String,
        span: Span,
    },
    /// A `policy_file` that cannot be read, or does not hold a policy.
    PolicyFile {
        file: String,
        problem: String,
        help: &'static str,
        span: Span,
    },
    /// A guardrail's file cannot be read or is not a policy.
    GuardrailFile {
        file: String,
        problem: String,
        span: Span,
    },
    /// The key policy crossgrant would write leaves no one able to change it again.
    KeyLockout {
        key: String,
        file: String,
        span: Span,
    },
    /// A setting whose value AWS (or the generated code) cannot take.
    InvalidSetting {
        field: &'static str,
        value: String,
        reason: &'static str,
        help: &'static str,
        span: Span,
    },
}

/// The kinds of ARN a scenario names itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArnKind {
    KeyAdministrator,
    ManagedPolicy,
}

impl ArnKind {
    /// The field the ARN is written in, as messages name it.
    pub fn field(self) -> &'static str {
        match self {
            ArnKind::KeyAdministrator => "key administrator ARN",
            ArnKind::ManagedPolicy => "managed policy ARN",
        }
    }
}

/// A value short enough to quote in a headline.
fn shorten(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        value.escape_debug().to_string()
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{}…", head.escape_debug())
    }
}

/// What a problem says: headline, the label under the offending text, and what to do.
pub struct Description {
    pub message: String,
    pub label: String,
    pub help: String,
}

impl Problem {
    /// A second place the problem is about, with its label: where a colliding name was first
    /// declared.
    pub fn related(&self) -> Option<(Span, String)> {
        match self {
            Problem::OutputCollision { other_span, .. } => {
                Some((other_span.clone(), "the other one".into()))
            }
            _ => None,
        }
    }

    pub fn span(&self) -> Option<Span> {
        use Problem::*;
        match self {
            Toml { span, .. } => span.clone(),
            NoGrants { span }
            | NotUtf8 { span, .. }
            | InvalidName { span, .. }
            | InvalidScenarioName { span, .. }
            | InvalidAccountId { span, .. }
            | DuplicateAccountId { span, .. }
            | Duplicate { span, .. }
            | IdentifierCollision { span, .. }
            | OutputCollision { span, .. }
            | InvalidDerivedName { span, .. }
            | UnknownReference { span, .. }
            | InvalidBucketName { span, .. }
            | InvalidRegion { span, .. }
            | OtherPartition { span, .. }
            | InvalidAlias { span, .. }
            | KeyElsewhere { span, .. }
            | AwsManagedKeyCrossAccount { span, .. }
            | InvalidChoice { span, .. }
            | InvalidPrefix { span, .. }
            | InvalidAction { span, .. }
            | AclsDisabled { span, .. }
            | InvalidRoleName { span, .. }
            | InvalidRolePath { span, .. }
            | InvalidServicePrincipal { span, .. }
            | InstanceAccountMismatch { span, .. }
            | RoleWithoutInstanceProfile { span, .. }
            | InvalidInstanceType { span, .. }
            | InvalidImage { span, .. }
            | InvalidSubnet { span, .. }
            | InvalidArn { span, .. }
            | PatternInValue { span, .. }
            | TooManyTags { span, .. }
            | UnknownAction { span, .. }
            | DuplicateManagedPolicy { span, .. }
            | TooManyManagedPolicies { span, .. }
            | ReservedKeyName { span, .. }
            | DeletionWindow { span, .. }
            | InvalidTag { span, .. }
            | InvalidProfile { span, .. }
            | InvalidOrganization { span, .. }
            | InvalidOwnedRolePath { span, .. }
            | OrganizationPathsWithoutOrganization { span }
            | MaxManagedPolicies { span, .. }
            | CreationOnly { span, .. }
            | NeedsExisting { span, .. }
            | MissingField { span, .. }
            | InvalidKeyArn { span, .. }
            | PolicyFile { span, .. }
            | GuardrailFile { span, .. }
            | KeyLockout { span, .. }
            | InvalidSetting { span, .. } => Some(span.clone()),
        }
    }

    pub fn describe(&self) -> Description {
        use Problem::*;
        let d = |message: String, label: &str, help: String| Description {
            message,
            label: label.to_string(),
            help,
        };
        match self {
            Toml { message, .. } => d(
                message.trim().to_string(),
                "here",
                "see the scenario reference in README.md for every table and field".into(),
            ),
            NotUtf8 { utf16: true, .. } => d(
                "the scenario is UTF-16 text, not UTF-8".into(),
                "UTF-16 byte order mark",
                "save the file as UTF-8 (TOML files are UTF-8), e.g. iconv -f UTF-16 -t UTF-8".into(),
            ),
            NotUtf8 { utf16: false, .. } => d(
                "the scenario is not UTF-8 text".into(),
                "not UTF-8",
                "TOML files are UTF-8: save the file as UTF-8, or remove the byte shown".into(),
            ),
            InvalidName { kind, name, .. } => d(
                format!("{kind} name `{name}` is not a valid name"),
                "invalid name",
                "names start with a lowercase letter and use only lowercase letters, digits, `-` and `_` (at most 40 characters)".into(),
            ),
            InvalidScenarioName { name, .. } => d(
                format!("scenario name `{name}` cannot prefix stack names"),
                "invalid scenario name",
                "use a letter followed by letters, digits and `-` (at most 64 characters)".into(),
            ),
            InvalidAccountId { account, id, .. } => d(
                format!("account `{account}` has id `{id}`, which is not 12 digits"),
                "not a 12-digit account id",
                "write the AWS account id as a quoted string of exactly 12 digits, e.g. id = \"111111111111\"".into(),
            ),
            DuplicateAccountId { id, first, .. } => d(
                format!("account id `{id}` is already used by account `{first}`"),
                "duplicate account id",
                format!("each account appears once; refer to `{first}` instead of declaring the id again"),
            ),
            Duplicate { what, value, first, .. } => d(
                format!("{what} `{value}` is already used by `{first}`"),
                "duplicate",
                format!("{what}s must be unique; rename one of them"),
            ),
            IdentifierCollision { kind, name, other, .. } => d(
                format!("{kind} names `{name}` and `{other}` map to the same identifier in the generated code"),
                "collides",
                "names that differ only in `-` versus `_` become one CloudFormation logical id; rename one".into(),
            ),
            UnknownReference { kind, name, known, .. } => d(
                format!("no {kind} named `{name}` in this scenario"),
                &format!("unknown {kind}"),
                if known.is_empty() {
                    format!("declare it with a [{kind}s.{name}] table")
                } else {
                    format!("use one of: {}; or declare [{kind}s.{name}]", known.join(", "))
                },
            ),
            InvalidBucketName { name, reason, .. } => d(
                format!("`{name}` is not a valid S3 bucket name: {reason}"),
                "invalid bucket name",
                "bucket names are 3-63 characters of lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit".into(),
            ),
            InvalidRegion { region, .. } => d(
                format!("`{region}` is not an AWS region"),
                "unknown region",
                "use a region code such as `us-east-1`, `eu-west-1` or `ap-northeast-1` (`cn-north-1` in China, `us-gov-west-1` in GovCloud)".into(),
            ),
            OtherPartition { what, value, partition, scenario_region, scenario_partition, .. } => d(
                format!("{what} `{value}` is in the {partition} partition, but the scenario's region `{scenario_region}` is in {scenario_partition}"),
                "other partition",
                "IAM cannot grant across partitions, and an account lives in one: keep every region and ARN of a scenario in one partition (`aws`, `aws-cn` or `aws-us-gov`) and write one scenario per partition".into(),
            ),
            InvalidAlias { alias, reason, .. } => d(
                format!("`{alias}` is not a valid KMS alias: {reason}"),
                "invalid alias",
                "write the alias without the `alias/` prefix, using letters, digits, `/`, `_` and `-`; it must not start with `aws/`".into(),
            ),
            KeyElsewhere { bucket, key, what, bucket_has, key_has, .. } => d(
                format!("bucket `{bucket}` is in {what} `{bucket_has}` but its key `{key}` is in {what} `{key_has}`"),
                &format!("key in another {what}"),
                format!("S3 default encryption needs a key in the bucket's own {what}; move the key or the bucket so both are in `{bucket_has}`"),
            ),
            AwsManagedKeyCrossAccount { bucket, role, owner, consumer, .. } => d(
                format!("role `{role}` in account `{consumer}` can never use bucket `{bucket}`: it is encrypted with the AWS-managed key `aws/s3` of account `{owner}`"),
                "cross-account grant on an AWS-managed key",
                format!("the aws/s3 key policy is fixed and allows use only from account `{owner}` (kms:CallerAccount), so no policy can share it. Add via = \"owner-role\" to the grant (role `{role}` will assume a role in account `{owner}` that reads the bucket there), or use a customer-managed key (key = \"<a [keys] name>\")"),
            ),
            NoGrants { .. } => d(
                "the scenario declares roles but no [[grants]]".into(),
                "this role is granted nothing",
                "add a [[grants]] entry with role, bucket and access (\"read\", \"write\" or \"read-write\")".into(),
            ),
            InvalidChoice { field, value, choices, .. } => d(
                format!("`{value}` is not a valid {field}"),
                "invalid value",
                format!("use one of: {}", choices.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ")),
            ),
            InvalidPrefix { prefix, reason, .. } => d(
                format!("prefix `{prefix}` {reason}"),
                "invalid prefix",
                "write a plain object key prefix such as \"incoming/\" (no leading `/`, no `*` or `?`, ending in `/`)".into(),
            ),
            InvalidAction { action, reason, .. } => d(
                format!("`{action}` {reason}"),
                "invalid action",
                format!("extra actions are S3 actions written like \"{}\"; KMS actions follow from the access level", s3::DELETE_OBJECT),
            ),
            AclsDisabled { bucket, action, .. } => d(
                format!("`{action}` has no effect on bucket `{bucket}`: its ACLs are disabled (object ownership BucketOwnerEnforced)"),
                "ACL action on a bucket without ACLs",
                format!("set object_ownership = \"BucketOwnerPreferred\" on [buckets.{bucket}] to use legacy ACLs, or drop the action"),
            ),
            InvalidRoleName { name, .. } => d(
                format!("`{name}` is not a valid IAM role name"),
                "invalid role name",
                "role names are 1-64 characters of letters, digits and `+=,.@_-`".into(),
            ),
            InvalidRolePath { path, reason, .. } => d(
                format!("`{}` is not a valid IAM path: it {reason}", shorten(path)),
                "invalid path",
                "a path is `/` or up to 512 printable ASCII characters between two `/`, e.g. \"/apps/\"".into(),
            ),
            InvalidServicePrincipal { service, .. } => d(
                format!("`{service}` is not a service principal"),
                "invalid service",
                format!("name the service that assumes the role, e.g. \"{EC2_SERVICE}\" or \"{LAMBDA_SERVICE}\""),
            ),
            InstanceAccountMismatch { instance, role, role_account, .. } => d(
                format!("instance `{instance}` uses role `{role}`, which is in account `{role_account}`"),
                "instance and role in different accounts",
                format!("an instance profile only works in its own account; put the instance in account `{role_account}`"),
            ),
            RoleWithoutInstanceProfile { instance, role, .. } => d(
                format!("instance `{instance}` uses role `{role}`, which has no instance profile"),
                "role without instance profile",
                format!("set instance_profile = true on [roles.{role}]"),
            ),
            InvalidInstanceType { value, .. } => d(
                format!("`{value}` is not an EC2 instance type"),
                "invalid instance type",
                "use a type such as \"t3.micro\"".into(),
            ),
            InvalidImage { value, .. } => d(
                format!("`{value}` is neither an AMI id nor an SSM parameter path"),
                "invalid image",
                "write an AMI id (\"ami-0123456789abcdef0\") or an SSM parameter path starting with `/`".into(),
            ),
            InvalidSubnet { value, .. } => d(
                format!("`{value}` is not a subnet id"),
                "invalid subnet",
                "write a subnet id such as \"subnet-0123456789abcdef0\"".into(),
            ),
            InvalidArn { kind, value, reason, .. } => d(
                format!("`{}` is not a valid {}: it {reason}", shorten(value), kind.field()),
                "invalid ARN",
                match kind {
                    ArnKind::KeyAdministrator => "name an IAM principal of a 12-digit account: arn:aws:iam::111111111111:root, …:role/KeyAdmin or …:user/alice (a path may come before the name)",
                    ArnKind::ManagedPolicy => "name a managed policy: arn:aws:iam::aws:policy/ReadOnlyAccess (AWS-managed) or arn:aws:iam::111111111111:policy/AppPolicy",
                }
                .into(),
            ),
            PatternInValue { field, value, syntax: PatternSyntax::Wildcard(c), .. } => d(
                format!("{field} `{}` contains a wildcard (`{c}`): IAM would match it against more than it names", shorten(value)),
                "wildcard",
                format!("crossgrant puts the {field} into ARNs and condition values that IAM matches as patterns, where `*` and `?` match any text; write the exact value, without `*` or `?`"),
            ),
            PatternInValue { field, value, syntax: PatternSyntax::PolicyVariable, .. } => d(
                format!("{field} `{}` contains a policy variable (`${{`): IAM would replace it with a value of each request", shorten(value)),
                "policy variable",
                format!("crossgrant puts the {field} into policies, where IAM substitutes `${{…}}` (e.g. `${{aws:username}}`) per request; write the exact value, without `${{`"),
            ),
            TooManyTags { count, scenario_wide, .. } => d(
                format!("{count} tags on one resource, more than the 50 AWS allows"),
                "over the limit",
                if *scenario_wide > 0 {
                    format!("the {scenario_wide} scenario-wide tags ([tags]) count together with the resource's own; drop tags here or there")
                } else {
                    "drop tags until at most 50 are left".into()
                },
            ),
            UnknownAction { action, suggestion, .. } => d(
                format!("`{}` is not an S3 action on a bucket or its objects", shorten(action)),
                "unknown action",
                match suggestion {
                    Some(known) => format!("did you mean `{known}`?"),
                    None => format!("name an action of the Service Authorization Reference for Amazon S3, e.g. \"{}\" (README.md lists the ones a grant takes)", s3::DELETE_OBJECT),
                },
            ),
            DuplicateManagedPolicy { role, arn, .. } => d(
                format!("role `{role}` names managed policy `{}` twice", shorten(arn)),
                "named again",
                "IAM attaches a managed policy to a role once; drop the repetition".into(),
            ),
            TooManyManagedPolicies { role, count, max, .. } => d(
                format!("role `{role}` names {count} managed policies, more than the {max} IAM attaches to one role (max_managed_policies)"),
                "over the quota",
                "drop managed policies, or raise the IAM quota \"Managed policies per role\" and set max_managed_policies (at most 20); crossgrant may need some of the quota for the role's own access policies".into(),
            ),
            ReservedKeyName { name, .. } => d(
                format!("a key cannot be named `{name}`"),
                "reserved name",
                format!("buckets write key = \"{name}\" for the AWS-managed key aws/s3; give this [keys] table another name"),
            ),
            DeletionWindow { days, .. } => d(
                format!("a key deletion window of {days} days is outside what KMS accepts"),
                "out of range",
                "use a number of days from 7 to 30".into(),
            ),
            InvalidTag { key, reason, .. } => d(
                format!("tag `{key}` {reason}"),
                "invalid tag",
                "tag keys are 1-128 characters and must not start with `aws:`; values at most 256 characters; both only letters, digits, spaces and `_ . : / = + - @`".into(),
            ),
            InvalidProfile { value, .. } => d(
                format!("`{value}` is not a usable AWS CLI profile name"),
                "invalid profile",
                "use letters, digits, `.`, `_` and `-`".into(),
            ),
            InvalidOrganization { value, .. } => d(
                format!("`{}` is not an AWS Organizations id", shorten(value)),
                "invalid organization id",
                "write the id of the organization, `o-` followed by 10 to 32 lowercase letters or digits, e.g. organization = \"o-a1b2c3d4e5\"".into(),
            ),
            InvalidOwnedRolePath { path, reason, .. } => d(
                format!("role path `{}` {reason}", shorten(path)),
                "invalid role path",
                "declare a path such as \"/analytics/\" under which this scenario declares every role; crossgrant may then name the path instead of each role".into(),
            ),
            OrganizationPathsWithoutOrganization { .. } => d(
                "organization_role_paths needs the organization they span".into(),
                "no organization declared",
                "add organization = \"o-…\" (the AWS Organizations id) at the top of the scenario, or declare the paths per account with role_paths".into(),
            ),
            MaxManagedPolicies { value, .. } => d(
                format!("max_managed_policies = {value} is outside what IAM allows"),
                "out of range",
                "IAM attaches 10 managed policies to a role by default and at most 20 after a quota increase; use a number from 0 to 20".into(),
            ),
            OutputCollision { what, output, place, other_place, .. } => d(
                format!("{place} and {other_place} would both render as `{output}`: {what}"),
                "renders the same name",
                "rename one of the accounts so that neither name is the other's with a region (or a `-` for a `_`) added; every file, stack, module and provider crossgrant writes must name one account and region".into(),
            ),
            InvalidDerivedName { what, derived, rule, help, .. } => d(
                format!("the {what} `{derived}` would not be valid: {rule}"),
                "used in a derived name",
                help.to_string(),
            ),
            CreationOnly { kind, name, field, .. } => d(
                format!("`{field}` configures a {kind} crossgrant creates, but {kind} `{name}` is `existing = true`"),
                "not for an existing resource",
                format!("remove `{field}` (crossgrant changes only the policies of an existing {kind}), or remove `existing = true` to have crossgrant create the {kind}"),
            ),
            NeedsExisting { kind, name, field, .. } => d(
                format!("`{field}` describes an existing {kind}, but crossgrant creates {kind} `{name}`"),
                "only for an existing resource",
                format!("add `existing = true` to [{kind}s.{name}] if the {kind} exists already, or remove `{field}`"),
            ),
            MissingField { kind, name, field, help, .. } => d(
                format!("{kind} `{name}` has no `{field}`"),
                &format!("`{field}` missing"),
                help.to_string(),
            ),
            InvalidKeyArn { arn, reason, .. } => d(
                format!("key ARN `{}` {reason}", shorten(arn)),
                "invalid key ARN",
                "write the key's full ARN as `aws kms describe-key` prints it: arn:aws:kms:REGION:ACCOUNT:key/KEY-ID, in the account and region of the table".into(),
            ),
            PolicyFile { file, problem, help, .. } => d(
                format!("policy_file `{}`: {problem}", shorten(file)),
                "this policy file",
                help.to_string(),
            ),
            GuardrailFile { file, problem, .. } => d(
                format!("guardrail file `{}`: {problem}", shorten(file)),
                "this guardrail file",
                "give the policy document as a file relative to the scenario: bare (`{\"Version\": \"2012-10-17\", \"Statement\": [...]}`) or as the aws CLI prints it (`aws organizations describe-policy`, `aws iam get-policy-version`)".into(),
            ),
            KeyLockout { key, file, .. } => d(
                format!("the key policy of key `{key}` would let no one manage the key: no statement of `{}` allows kms:PutKeyPolicy, and the key names no administrators", shorten(file)),
                "no administrator left",
                "KMS refuses a key policy that locks out its administrators: capture the live policy again (`aws kms get-key-policy --key-id ARN --policy-name default`), or name the administrators with `administrators = [\"arn:aws:iam::ACCOUNT:role/…\"]`".into(),
            ),
            InvalidSetting { field, value, reason, help, .. } => d(
                format!("{field} `{}` {reason}", shorten(value)),
                "invalid value",
                help.to_string(),
            ),
        }
    }
}

/// Every problem found in one scenario file, with the text they point into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics {
    pub path: String,
    pub source: String,
    pub problems: Vec<Problem>,
}

impl Diagnostics {
    /// The problems as a person reads them: one block each, with location and underline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for problem in &self.problems {
            let description = problem.describe();
            let place = problem.span().map(|span| (span, description.label));
            out.push_str(&match problem.related() {
                Some(related) => render_error_at_two(
                    &self.path,
                    &self.source,
                    description.message,
                    place,
                    related,
                    &[description.help],
                ),
                None => render_error(
                    &self.path,
                    &self.source,
                    description.message,
                    place,
                    &[description.help],
                ),
            });
        }
        out.push_str(&format!(
            "{} problem{} in {}\n",
            self.problems.len(),
            if self.problems.len() == 1 { "" } else { "s" },
            self.path
        ));
        out
    }

    /// 1-based line and column of a problem's start, for tools and tests.
    pub fn location(&self, problem: &Problem) -> Option<(usize, usize)> {
        let span = clamp(problem.span()?, self.source.len());
        Some(line_column(&self.source, span.start))
    }
}

/// 1-based line and column (in characters) of byte `offset` of `source`, clamped to its end.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = &source[..offset.min(source.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    (line, column)
}

/// One error as a person reads it: the message, the place in `source` it is about (underlined,
/// with a label), and a `help:` note per suggestion.
pub fn render_error(
    path: &str,
    source: &str,
    message: String,
    place: Option<(Span, String)>,
    helps: &[String],
) -> String {
    let message = shortened(&message);
    let (source, place) = match place {
        Some((span, label)) => {
            let (source, span) = excerpt(source, clamp(span, source.len()));
            (source, Some((span, label)))
        }
        None => (std::borrow::Cow::Borrowed(source), None),
    };
    let file = SimpleFile::new(path, source.as_ref());
    let mut diagnostic = Diagnostic::error()
        .with_message(message.clone())
        .with_notes(
            helps
                .iter()
                .map(|help| format!("help: {}", shortened(help)))
                .collect(),
        );
    if let Some((span, label)) = place {
        diagnostic = diagnostic.with_labels(vec![Label::primary((), span).with_message(label)]);
    }
    term::emit_into_string(&Config::default(), &file, &diagnostic)
        .unwrap_or_else(|_| format!("{path}: {message}\n"))
}

/// An error about two places of `source`: the primary one, and a related one labelled beside it.
/// Both are names of tables, on short lines, so the source is shown as it is.
fn render_error_at_two(
    path: &str,
    source: &str,
    message: String,
    place: Option<(Span, String)>,
    related: (Span, String),
    helps: &[String],
) -> String {
    let file = SimpleFile::new(path, source);
    let mut labels =
        vec![Label::secondary((), clamp(related.0, source.len())).with_message(related.1)];
    if let Some((span, label)) = place {
        labels.insert(
            0,
            Label::primary((), clamp(span, source.len())).with_message(label),
        );
    }
    let diagnostic = Diagnostic::error()
        .with_message(shortened(&message))
        .with_labels(labels)
        .with_notes(
            helps
                .iter()
                .map(|help| format!("help: {}", shortened(help)))
                .collect(),
        );
    term::emit_into_string(&Config::default(), &file, &diagnostic)
        .unwrap_or_else(|_| format!("{path}: {message}\n"))
}

/// Longest text of a message or line shown whole; a scenario value can be megabytes long, and a
/// diagnostic that echoes it buries what it says.
const SHOWN_CHARS: usize = 160;

/// `text` with every run longer than [`SHOWN_CHARS`] between backticks, and the whole text if it
/// is still longer, cut to its start and the number of characters left out.
fn shortened(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(4 * SHOWN_CHARS));
    for (index, part) in text.split('`').enumerate() {
        if index > 0 {
            out.push('`');
        }
        // Odd parts stand between backticks: quoted values.
        if index % 2 == 1 {
            out.push_str(&cut(part, SHOWN_CHARS / 2));
        } else {
            out.push_str(part);
        }
    }
    cut(&out, 2 * SHOWN_CHARS)
}

fn cut(text: &str, keep: usize) -> String {
    let total = text.chars().count();
    if total <= keep {
        return text.to_string();
    }
    let start: String = text.chars().take(keep).collect();
    format!("{start}… ({} more characters)", total - keep)
}

/// The source with the line that `span` starts on cut to a window around the span, when that
/// line is too long to show; the other lines, and so every line and column number, stay.
fn excerpt(source: &str, span: Span) -> (std::borrow::Cow<'_, str>, Span) {
    let line_start = source[..span.start].rfind('\n').map_or(0, |at| at + 1);
    let line_end = source[span.start..]
        .find('\n')
        .map_or(source.len(), |at| span.start + at);
    if line_end - line_start <= 2 * SHOWN_CHARS {
        return (std::borrow::Cow::Borrowed(source), span);
    }
    let floor = |mut at: usize| {
        while !source.is_char_boundary(at) {
            at -= 1;
        }
        at
    };
    // The columns before the span stay as they are (the column number is counted from them);
    // what follows the span's start is cut.
    let window_end = floor((span.start + SHOWN_CHARS).min(line_end));
    let mut text = String::with_capacity(window_end + (source.len() - line_end) + 16);
    text.push_str(&source[..window_end]);
    text.push_str(" …");
    text.push_str(&source[line_end..]);
    let span = span.start..span.end.min(window_end);
    (std::borrow::Cow::Owned(text), span)
}

fn clamp(span: Span, len: usize) -> Span {
    let start = span.start.min(len);
    start..span.end.clamp(start, len)
}
