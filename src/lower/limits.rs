//! The size limits AWS puts on the documents crossgrant deploys, and the budget of one lowered
//! scenario against them. Sizes are measured the way AWS counts them: the minified JSON
//! (whitespace outside strings is not counted), with every deploy-time reference replaced by
//! the longest text it can resolve to. A document above [`WARN_PERCENT`] of its limit is worth
//! a warning; one above its limit cannot deploy and makes the scenario unusable as written.

use crate::aws;
use crate::model::Scenario;
use crate::policy::{Name, PolicyDocument, Principal, Ref, Statement, Value};
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// A document above this share of its limit gets a warning, and consolidation tries to bring
/// it below.
pub const WARN_PERCENT: usize = 80;

/// A KMS key id is a UUID (36 characters), or `mrk-` and 32 hex digits for a multi-region key
/// (36 too), so a key ARN is known to the character before the key exists.
const KEY_ID_PLACEHOLDER: &str = "00000000-0000-0000-0000-000000000000";

/// What `{"Version":"2012-10-17","Statement":[]}` costs before any statement.
const EMPTY_DOCUMENT: usize = 39;

/// One consolidation step, in the order they are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Consolidation {
    MergeStatements,
    RolePathPatterns,
    Organization,
    ManagedPolicies,
}

impl Consolidation {
    pub fn describe(self) -> &'static str {
        match self {
            Consolidation::MergeStatements => "merging statements",
            Consolidation::RolePathPatterns => "naming roles by path",
            Consolidation::Organization => "naming the organization",
            Consolidation::ManagedPolicies => "splitting into managed policies",
        }
    }
}

/// One AWS size quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Limit {
    /// S3: a bucket policy is at most 20 KB.
    BucketPolicy,
    /// S3: an access point policy is at most 20 KB.
    AccessPointPolicy,
    /// KMS: a key policy is at most 32 KB.
    KeyPolicy,
    /// IAM: all inline policies of a role together are at most 10,240 characters.
    RoleInline,
    /// IAM: a customer-managed policy is at most 6,144 characters.
    ManagedPolicy,
}

impl Limit {
    pub fn size(self) -> usize {
        match self {
            Limit::BucketPolicy => aws::BUCKET_POLICY_BYTES,
            Limit::AccessPointPolicy => aws::ACCESS_POINT_POLICY_BYTES,
            Limit::KeyPolicy => aws::KEY_POLICY_BYTES,
            Limit::RoleInline => aws::ROLE_INLINE_POLICIES_CHARACTERS,
            Limit::ManagedPolicy => aws::MANAGED_POLICY_CHARACTERS,
        }
    }

    /// The size consolidation aims below: the warning threshold.
    pub fn target(self) -> usize {
        self.size() * WARN_PERCENT / 100
    }

    pub fn unit(self) -> &'static str {
        match self {
            Limit::BucketPolicy | Limit::AccessPointPolicy | Limit::KeyPolicy => "bytes",
            Limit::RoleInline | Limit::ManagedPolicy => "characters",
        }
    }
}

/// A document crossgrant deploys that has a size limit.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Document {
    BucketPolicy(Name),
    /// The policy of a bucket's access point for one consumer account.
    AccessPointPolicy {
        bucket: Name,
        account: Name,
    },
    KeyPolicy(Name),
    /// The inline access policy of a role.
    RoleInline(Name),
    /// The managed access policy `number` (from 1) of a role.
    ManagedPolicy {
        role: Name,
        number: usize,
    },
}

impl Document {
    pub fn limit(&self) -> Limit {
        match self {
            Document::BucketPolicy(_) => Limit::BucketPolicy,
            Document::AccessPointPolicy { .. } => Limit::AccessPointPolicy,
            Document::KeyPolicy(_) => Limit::KeyPolicy,
            Document::RoleInline(_) => Limit::RoleInline,
            Document::ManagedPolicy { .. } => Limit::ManagedPolicy,
        }
    }
}

impl fmt::Display for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Document::BucketPolicy(bucket) => write!(f, "bucket policy of bucket {bucket}"),
            Document::AccessPointPolicy { bucket, account } => {
                write!(
                    f,
                    "policy of the access point of account {account} on bucket {bucket}"
                )
            }
            Document::KeyPolicy(key) => write!(f, "key policy of key {key}"),
            Document::RoleInline(role) => write!(f, "inline access policy of role {role}"),
            Document::ManagedPolicy { role, number } => {
                write!(f, "managed access policy {number} of role {role}")
            }
        }
    }
}

/// Measures documents of one scenario.
pub struct Sizer<'a> {
    scenario: &'a Scenario,
    /// The JSON length of every reference the scenario can make, at its longest: documents
    /// name the same few keys and roles thousands of times.
    reference_lens: HashMap<Ref, usize>,
}

impl<'a> Sizer<'a> {
    pub fn new(scenario: &'a Scenario) -> Self {
        let mut sizer = Sizer {
            scenario,
            reference_lens: HashMap::new(),
        };
        let references = (scenario.keys.keys().cloned().map(Ref::KeyArn))
            .chain(scenario.roles.keys().cloned().map(Ref::RoleArn))
            .chain(scenario.instances.keys().cloned().map(Ref::InstanceProfile));
        let reference_lens = references
            .map(|reference| {
                let len = string_len(&sizer.worst_case(&reference));
                (reference, len)
            })
            .collect();
        sizer.reference_lens = reference_lens;
        sizer
    }

    /// The longest text a reference can resolve to at deploy time.
    pub fn worst_case(&self, reference: &Ref) -> String {
        let scenario = self.scenario;
        if let Some(text) = super::known(scenario, reference) {
            return text;
        }
        match reference {
            Ref::KeyArn(key) => {
                let key = &scenario.keys[key];
                crate::aws::partition_of(&key.region).key_arn(
                    &key.region,
                    &scenario.account(&key.account).id,
                    KEY_ID_PLACEHOLDER,
                )
            }
            Ref::RoleArn(role) => scenario.role_arn(role),
            Ref::InstanceProfile(instance) => {
                let role = &scenario.roles[&scenario.instances[instance].role];
                let account = scenario.account(&role.account);
                account.partition.iam_arn(
                    &account.id,
                    &format!("instance-profile{}{}", role.path, role.role_name),
                )
            }
        }
    }

    /// The document's size as AWS counts it: exactly the length of the minified JSON that
    /// [`PolicyDocument::to_json`] gives with references at their longest, computed without
    /// building it (documents are measured often while they are consolidated).
    pub fn document(&self, document: &PolicyDocument) -> usize {
        self.statements(&document.statements)
    }

    /// The size of a document holding these statements.
    pub fn statements(&self, statements: &[Statement]) -> usize {
        Self::assemble(statements.iter().map(|statement| self.statement(statement)))
    }

    /// What one statement adds to a document, without the comma that separates it from the
    /// next.
    pub fn statement(&self, statement: &Statement) -> usize {
        if let Some(verbatim) = &statement.verbatim {
            return verbatim.json.len();
        }
        let sid = statement
            .sid
            .as_ref()
            .map(|sid| key_len("Sid") + string_len(sid));
        let effect = key_len("Effect") + string_len(statement.effect.as_str());
        let principal = statement.principal.as_ref().map(|principal| {
            let key = if principal.is_negated() {
                "NotPrincipal"
            } else {
                "Principal"
            };
            let body = match principal.inner() {
                Principal::Any => string_len("*"),
                Principal::Typed(map) => object_len(
                    map.iter()
                        .map(|(kind, values)| key_len(kind) + self.values_len(values)),
                ),
            };
            key_len(key) + body
        });
        let action_key = if statement.action.is_negated() {
            "NotAction"
        } else {
            "Action"
        };
        let action = key_len(action_key) + strings_len(statement.action.inner());
        let resource = statement.resource.as_ref().map(|resource| {
            let key = if resource.is_negated() {
                "NotResource"
            } else {
                "Resource"
            };
            key_len(key) + self.values_len(resource.inner())
        });
        let condition = (!statement.condition.is_empty()).then(|| {
            let body = object_len(statement.condition.iter().map(|(operator, keys)| {
                key_len(operator)
                    + object_len(
                        keys.iter()
                            .map(|(key, values)| key_len(key) + self.values_len(values)),
                    )
            }));
            key_len("Condition") + body
        });
        // `{` `}` and a comma between members.
        object_len(
            [
                sid,
                Some(effect),
                principal,
                Some(action),
                resource,
                condition,
            ]
            .into_iter()
            .flatten(),
        )
    }

    /// A list of values as `to_json` writes it: one value as a scalar, else an array.
    fn values_len(&self, values: &[Value]) -> usize {
        let value_len = |value: &Value| match value {
            Value::Lit(text) => string_len(text),
            Value::Ref(reference) => match self.reference_lens.get(reference) {
                Some(&len) => len,
                None => string_len(&self.worst_case(reference)),
            },
        };
        match values {
            [one] => value_len(one),
            many => array_len(many.iter().map(value_len)),
        }
    }

    /// The size of a document made of statements of the given sizes.
    pub fn assemble(sizes: impl IntoIterator<Item = usize>) -> usize {
        let (count, total) = sizes
            .into_iter()
            .fold((0usize, 0usize), |(count, total), size| {
                (count + 1, total + size)
            });
        EMPTY_DOCUMENT + total + count.saturating_sub(1)
    }
}

/// One document's size after consolidation, and which consolidations it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Measured {
    pub document: Document,
    pub size: usize,
    pub consolidations: Vec<Consolidation>,
}

impl Measured {
    pub fn limit(&self) -> Limit {
        self.document.limit()
    }

    /// Share of the limit in tenths of a percent, rounded up so that a document just over a
    /// threshold never reads as just under it.
    pub fn permille(&self) -> usize {
        (self.size * 1000).div_ceil(self.limit().size())
    }

    pub fn over_limit(&self) -> bool {
        self.size > self.limit().size()
    }

    pub fn near_limit(&self) -> bool {
        !self.over_limit() && self.size * 100 > self.limit().size() * WARN_PERCENT
    }

    /// `bucket policy of bucket shared: 1,020 of 20,480 bytes (5.0%)`, with the consolidations
    /// it took and a warning near its limit.
    pub fn describe(&self) -> String {
        let mut line = format!("{}: {}", self.document, self.share());
        if !self.consolidations.is_empty() {
            let steps: Vec<&str> = self
                .consolidations
                .iter()
                .map(|step| step.describe())
                .collect();
            line.push_str(&format!(", after {}", steps.join(", ")));
        }
        if self.near_limit() {
            line.push_str(&format!(" — warning: above {WARN_PERCENT}% of the limit"));
        }
        line
    }

    /// `1,234 of 20,480 bytes (6.1%)`.
    pub fn share(&self) -> String {
        let permille = self.permille();
        format!(
            "{} of {} {} ({}.{}%)",
            thousands(self.size),
            thousands(self.limit().size()),
            self.limit().unit(),
            permille / 10,
            permille % 10
        )
    }
}

/// What a user can change so that a document fits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FitAdvice {
    /// Declare that the scenario holds every role under a path of these accounts (`role_paths`),
    /// so one `ArnLike` pattern can stand for the roles that share a grant.
    DeclareRolePaths { accounts: Vec<Name> },
    /// Declare the organization the accounts belong to, so `aws:PrincipalOrgID` can replace the
    /// list of account roots.
    DeclareOrganization,
    /// Declare the role paths organization-wide (`organization_role_paths`), so one pattern
    /// covers a path in every account.
    DeclareOrganizationRolePaths,
    /// Spread the grants of this bucket over more buckets (or this key's buckets over more
    /// keys).
    SpreadGrants,
    /// Allow more managed policies per role, after raising the IAM quota.
    RaiseManagedPolicies { needed: usize },
    /// Grant the role fewer buckets, or split its grants over several roles.
    SplitRole,
    /// Give the bucket an access point per consumer account, each with its own policy.
    AccessPoints { bucket: Name },
}

impl fmt::Display for FitAdvice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FitAdvice::DeclareRolePaths { accounts } => write!(
                f,
                "put the consumer roles that share a grant under a common IAM path and declare it on their account (role_paths = [\"/team/\"] on [accounts.{}]), so one ArnLike pattern names them all",
                match accounts.as_slice() {
                    [only] => only.clone(),
                    _ => "<account>".to_string(),
                }
            ),
            FitAdvice::DeclareOrganization => write!(
                f,
                "declare the organization the accounts belong to (organization = \"o-…\"), so aws:PrincipalOrgID replaces the list of account roots"
            ),
            FitAdvice::DeclareOrganizationRolePaths => write!(
                f,
                "declare the path organization-wide (organization_role_paths = [\"/team/\"]) if every role under it, in every account of the organization, is in this scenario"
            ),
            FitAdvice::AccessPoints { bucket } => write!(
                f,
                "give the bucket an S3 access point per consumer account (access_points = true on [buckets.{bucket}]): the bucket policy then delegates to them and each access point's policy, with a 20 KB limit of its own, names its account's roles"
            ),
            FitAdvice::SpreadGrants => write!(
                f,
                "spread the grants over more buckets, each with its own policy (and key)"
            ),
            FitAdvice::RaiseManagedPolicies { needed } => write!(
                f,
                "raise the IAM quota \"Managed policies per role\" and set max_managed_policies = {needed} (IAM allows at most 20)"
            ),
            FitAdvice::SplitRole => write!(
                f,
                "grant the role fewer buckets, or split its grants over several roles"
            ),
        }
    }
}

/// A document that cannot deploy as the scenario stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitProblem {
    TooLarge {
        measured: Measured,
        advice: Vec<FitAdvice>,
    },
    /// A role needs more managed policies than it may have attached.
    TooManyManagedPolicies {
        role: Name,
        needed: usize,
        attached: usize,
        max: u32,
        advice: Vec<FitAdvice>,
    },
}

impl LimitProblem {
    /// The scenario table the problem is about, as `(table, name)`: `("buckets", "shared")`.
    pub fn table(&self) -> (&'static str, &str) {
        match self {
            LimitProblem::TooLarge { measured, .. } => match &measured.document {
                Document::BucketPolicy(bucket) | Document::AccessPointPolicy { bucket, .. } => {
                    ("buckets", bucket.as_str())
                }
                Document::KeyPolicy(key) => ("keys", key.as_str()),
                Document::RoleInline(role) | Document::ManagedPolicy { role, .. } => {
                    ("roles", role.as_str())
                }
            },
            LimitProblem::TooManyManagedPolicies { role, .. } => ("roles", role.as_str()),
        }
    }

    /// What to change, one suggestion each.
    pub fn advice(&self) -> &[FitAdvice] {
        match self {
            LimitProblem::TooLarge { advice, .. }
            | LimitProblem::TooManyManagedPolicies { advice, .. } => advice,
        }
    }

    /// What cannot deploy, how big it is and its limit, in one line.
    pub fn headline(&self) -> String {
        match self {
            LimitProblem::TooLarge { measured, .. } => {
                format!(
                    "the {} is {} {}, over its limit of {} {}",
                    measured.document,
                    thousands(measured.size),
                    measured.limit().unit(),
                    thousands(measured.limit().size()),
                    measured.limit().unit()
                ) + &match measured.consolidations.as_slice() {
                    [] => String::new(),
                    steps => format!(
                        " even after {}",
                        steps
                            .iter()
                            .map(|step| step.describe())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                }
            }
            LimitProblem::TooManyManagedPolicies {
                role,
                needed,
                attached,
                max,
                ..
            } => format!(
                "role {role} needs {needed} managed access policies besides the {attached} it names, but may have {max} attached (max_managed_policies)"
            ),
        }
    }
}

/// Every limited document of a lowered scenario, measured, and what cannot deploy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    pub documents: BTreeMap<Document, Measured>,
    pub problems: Vec<LimitProblem>,
}

impl Budget {
    pub fn get(&self, document: &Document) -> Option<&Measured> {
        self.documents.get(document)
    }

    pub fn near_limit(&self) -> impl Iterator<Item = &Measured> {
        self.documents
            .values()
            .filter(|measured| measured.near_limit())
    }

    /// One `warning:` line per document above the warning threshold.
    pub fn render_warnings(&self) -> String {
        self.near_limit()
            .map(|measured| {
                format!(
                    "warning: the {} is {}, above {WARN_PERCENT}% of its limit\n",
                    measured.document,
                    measured.share()
                )
            })
            .collect()
    }

    /// Every problem with the scenario table it is about underlined in `source`, the file at
    /// `path` the scenario was read from.
    pub fn render_problems_in(&self, path: &str, source: &str) -> String {
        let raw = crate::schema::parse(source).ok();
        let place = |(table, name): (&str, &str)| {
            let raw = raw.as_ref()?;
            let span = match table {
                "buckets" => key_span(&raw.buckets, name),
                "keys" => key_span(&raw.keys, name),
                _ => key_span(&raw.roles, name),
            }?;
            Some((
                span,
                format!("{} {name} is declared here", &table[..table.len() - 1]),
            ))
        };
        let mut out: String = self
            .problems
            .iter()
            .map(|problem| {
                let helps: Vec<String> = problem.advice().iter().map(ToString::to_string).collect();
                crate::diag::render_error(
                    path,
                    source,
                    problem.headline(),
                    place(problem.table()),
                    &helps,
                )
            })
            .collect();
        out.push_str(&self.problems_summary());
        out
    }

    fn problems_summary(&self) -> String {
        let mut out = String::new();
        if !self.problems.is_empty() {
            out.push_str(&format!(
                "the scenario does not fit AWS size limits ({} problem{})\n",
                self.problems.len(),
                if self.problems.len() == 1 { "" } else { "s" }
            ));
        }
        out
    }
}

/// Where the scenario names a table's entry (`shared` of `[buckets.shared]`).
fn key_span<V>(
    table: &BTreeMap<toml::Spanned<String>, V>,
    name: &str,
) -> Option<std::ops::Range<usize>> {
    table
        .keys()
        .find(|key| key.get_ref() == name)
        .map(toml::Spanned::span)
}

/// `"key":`
fn key_len(key: &str) -> usize {
    string_len(key) + 1
}

/// A JSON string as serde_json writes it: quotes, and escapes for `"`, `\\` and control
/// characters.
fn string_len(text: &str) -> usize {
    2 + text
        .bytes()
        .map(|byte| match byte {
            b'"' | b'\\' | b'\n' | b'\r' | b'\t' | 0x08 | 0x0c => 2,
            0x00..=0x1f => 6,
            _ => 1,
        })
        .sum::<usize>()
}

fn strings_len(items: &[String]) -> usize {
    match items {
        [one] => string_len(one),
        many => array_len(many.iter().map(|item| string_len(item))),
    }
}

/// `[a,b]` or `{a,b}`: the members, a comma between each, and the brackets.
fn object_len(members: impl IntoIterator<Item = usize>) -> usize {
    let (count, total) = members
        .into_iter()
        .fold((0usize, 0usize), |(count, total), size| {
            (count + 1, total + size)
        });
    2 + total + count.saturating_sub(1)
}

fn array_len(items: impl IntoIterator<Item = usize>) -> usize {
    object_len(items)
}

/// `20480` → `20,480`.
pub fn thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::{condition_key, s3, KMS_WRITE_ACTIONS};
    use crate::policy::{Principal, Value};

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(20_480), "20,480");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn statement_sizes_add_up_to_the_document_size() {
        let scenario = crate::parse_scenario(
            "multi-account.toml",
            include_str!("../../examples/multi-account.toml"),
        )
        .expect("example scenario is valid");
        let sizer = Sizer::new(&scenario);
        let statements = vec![
            Statement::allow("One")
                .principal(Principal::aws([Value::lit(
                    "arn:aws:iam::555555555555:root",
                )]))
                .actions([s3::GET_OBJECT])
                .resources([Value::lit("arn:aws:s3:::bucket/*")]),
            Statement::allow("Two")
                .actions(KMS_WRITE_ACTIONS)
                .resources([Value::Ref(Ref::KeyArn("raw".into()))]),
        ];
        let document = PolicyDocument::new(statements.clone());
        let whole = sizer.document(&document);
        let parts = Sizer::assemble(statements.iter().map(|s| sizer.statement(s)));
        assert_eq!(whole, parts);
        assert_eq!(
            sizer.document(&PolicyDocument::new(Vec::new())),
            EMPTY_DOCUMENT
        );
    }

    /// The size as `to_json` and serde_json would write it, the slow way.
    fn serialized(sizer: &Sizer, document: &PolicyDocument) -> usize {
        crate::policy::minified_len(
            &document.to_json(&|reference| serde_json::Value::String(sizer.worst_case(reference))),
        )
    }

    #[test]
    fn computed_sizes_match_the_serialized_json_exactly() {
        let scenario = crate::parse_scenario(
            "multi-account.toml",
            include_str!("../../examples/multi-account.toml"),
        )
        .expect("example scenario is valid");
        let sizer = Sizer::new(&scenario);
        let odd = PolicyDocument::new(vec![
            Statement::allow("Odd")
                .principal(Principal::Any)
                .actions(Vec::<String>::new())
                .resources([Value::lit("quote \" backslash \\ tab \t bell \u{7} é ∑")])
                .condition("StringLike", condition_key::S3_PREFIX, Vec::new()),
            Statement {
                sid: None,
                ..Statement::deny("x").actions(["a", "b"]).resources([
                    Value::Ref(Ref::KeyArn("raw".into())),
                    Value::Ref(Ref::RoleArn("ingest".into())),
                ])
            },
        ]);
        assert_eq!(sizer.document(&odd), serialized(&sizer, &odd));
        for seed in 0..40 {
            let shape = crate::generate::Shape {
                seed,
                team_size: 1 + seed as usize % 4,
                declare_paths: seed % 2 == 0,
                role_principals: seed % 3 == 0,
                organization: seed % 5 == 0,
                ..crate::generate::Shape::default()
            };
            let text = crate::generate::scenario(&shape).0;
            let scenario = crate::parse_scenario("gen.toml", &text).expect("valid");
            let sizer = Sizer::new(&scenario);
            let lowered =
                crate::lower::lower_with(scenario.clone(), crate::lower::consolidate::Fit::Always);
            let documents = lowered
                .units
                .iter()
                .flat_map(|unit| &unit.resources)
                .filter_map(|resource| resource.policy());
            for document in documents {
                assert_eq!(sizer.document(document), serialized(&sizer, document));
            }
        }
    }

    #[test]
    fn key_arns_are_measured_at_their_real_length() {
        let scenario = crate::parse_scenario(
            "multi-account.toml",
            include_str!("../../examples/multi-account.toml"),
        )
        .expect("example scenario is valid");
        let arn = Sizer::new(&scenario).worst_case(&Ref::KeyArn("raw".into()));
        assert_eq!(
            arn,
            "arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000"
        );
        // The shape AWS documents: arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
        assert_eq!(
            arn.len(),
            "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab".len()
        );
    }

    #[test]
    fn shares_round_up_and_thresholds_are_strict() {
        let measured = |size| Measured {
            document: Document::BucketPolicy("b".into()),
            size,
            consolidations: Vec::new(),
        };
        assert_eq!(measured(16_384).share(), "16,384 of 20,480 bytes (80.0%)");
        assert!(!measured(16_384).near_limit());
        assert!(measured(16_385).near_limit());
        assert_eq!(measured(16_385).share(), "16,385 of 20,480 bytes (80.1%)");
        assert!(!measured(20_480).over_limit());
        assert!(measured(20_481).over_limit());
        assert!(!measured(20_481).near_limit());
    }
}
