//! `crossgrant explain`: for someone debugging a live setup. Reads the documents the aws CLI
//! prints (bucket policy, key policy, the role's identity policies; bare or in their wrappers,
//! from files or stdin), turns a principal, an action and an object into the question
//! [`crate::eval::explain`] answers, and prints which of the three layers is missing what and
//! the statement to add. Exit 0 when allowed, 1 when denied, 2 on bad input — including a
//! question some deciding layer of which was not given: a layer is given as a document, or
//! stated not to exist (`--no-bucket-policy`, `--no-identity-policy`, `--sse-s3`), never
//! assumed empty.

use crate::aws::{
    is_account_id, is_bucket_level, is_ec2_resource_id, is_organization_id, is_region, kms, s3,
    sts, Partition,
};
use crate::error::{reported, Error, Status};
use crate::eval::document::{parse_policy_json, DocumentProblem};
use crate::eval::engine::{Decision, LayerResult, PrincipalScope};
use crate::eval::explain::{
    explain, BucketEncryption, Explanation, GivenPolicies, GivenPolicy, Needed, Question, Stated,
    Unanswerable,
};
use crate::eval::request::{account_of_arn, Caller, Request};
use crate::eval::resolve::aws_managed_key_arn;
use crate::eval::EvalError;
use std::fmt;
use std::io::{Read, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The caller: a role ARN, or `anonymous`.
    #[arg(long)]
    pub principal: String,
    /// The S3 action (`s3:GetObject`, `s3:PutObject`, `s3:ListBucket`, …) or a KMS action.
    #[arg(long)]
    pub action: String,
    /// The bucket name.
    #[arg(long)]
    pub bucket: Option<String>,
    /// The object key, for object actions.
    #[arg(long)]
    pub key: Option<String>,
    /// The `prefix` parameter of a ListBucket (ListObjectsV2) call.
    #[arg(long)]
    pub prefix: Option<String>,
    /// The account that owns the bucket (default: the KMS key's account).
    #[arg(long)]
    pub bucket_account: Option<String>,
    /// The ARN of the KMS key that encrypts the bucket.
    #[arg(long)]
    pub kms_key_arn: Option<String>,
    /// The bucket is encrypted with the AWS managed `aws/s3` key.
    #[arg(long)]
    pub aws_managed_key: bool,
    /// The bucket is encrypted with S3 managed keys (SSE-S3): S3 calls no KMS key.
    #[arg(long, conflicts_with_all = ["kms_key_arn", "aws_managed_key", "key_policy", "bucket_key"])]
    pub sse_s3: bool,
    /// The bucket's region (default: the KMS key's region).
    #[arg(long)]
    pub region: Option<String>,
    /// The bucket uses an S3 Bucket Key (KMS sees the bucket ARN as encryption context).
    #[arg(long)]
    pub bucket_key: bool,
    /// Model a request over plain HTTP (`aws:SecureTransport` false).
    #[arg(long)]
    pub plain_http: bool,
    /// Output of `aws s3api get-bucket-policy`, or the bare policy; `-` reads stdin.
    #[arg(long)]
    pub bucket_policy: Option<PathBuf>,
    /// The bucket has no bucket policy (`get-bucket-policy` says NoSuchBucketPolicy).
    #[arg(long, conflicts_with = "bucket_policy")]
    pub no_bucket_policy: bool,
    /// Output of `aws kms get-key-policy`, or the bare policy; `-` reads stdin.
    #[arg(long)]
    pub key_policy: Option<PathBuf>,
    /// Output of `aws iam get-role-policy` or `aws iam get-policy-version`, or the bare policy;
    /// repeat for every policy attached to the role; `-` reads stdin.
    #[arg(long)]
    pub identity_policy: Vec<PathBuf>,
    /// The role has no identity policy, inline or attached.
    #[arg(long, conflicts_with = "identity_policy")]
    pub no_identity_policy: bool,
    /// For sts:AssumeRole: the ARN of the role to assume.
    #[arg(long)]
    pub role_arn: Option<String>,
    /// For sts:AssumeRole: the role's trust policy (`aws iam get-role --role-name NAME --query
    /// Role.AssumeRolePolicyDocument`), or the bare policy; `-` reads stdin.
    #[arg(long)]
    pub trust_policy: Option<PathBuf>,
    /// For sts:AssumeRole: the external id the caller presents.
    #[arg(long)]
    pub external_id: Option<String>,
    /// A service control policy of the caller's account (`aws organizations describe-policy
    /// --policy-id ID`, or the bare policy); repeat for each. Without an Allow among them,
    /// AWS's FullAWSAccess is taken as attached too.
    #[arg(long)]
    pub scp: Vec<PathBuf>,
    /// A resource control policy of the resource's account; repeat for each
    /// (RCPFullAWSAccess is always attached too).
    #[arg(long)]
    pub rcp: Vec<PathBuf>,
    /// The policy of the VPC endpoint the S3 request comes through (`aws ec2
    /// describe-vpc-endpoints --vpc-endpoint-ids ID --query 'VpcEndpoints[0].PolicyDocument'
    /// --output text`); needs --source-vpce.
    #[arg(long, requires = "source_vpce")]
    pub vpce_policy: Option<PathBuf>,
    /// The VPC endpoint the S3 request comes through (`aws:SourceVpce`).
    #[arg(long)]
    pub source_vpce: Option<String>,
    /// The caller's permissions boundary (`aws iam get-policy-version`, or the bare policy).
    #[arg(long)]
    pub boundary: Option<PathBuf>,
    /// The organization of the caller's account (`aws:PrincipalOrgID`).
    #[arg(long)]
    pub principal_org_id: Option<String>,
    /// The organization of the resource's account (`aws:ResourceOrgID`).
    #[arg(long)]
    pub resource_org_id: Option<String>,
}

/// Why `explain` cannot answer.
#[derive(Debug)]
pub enum ExplainError {
    Read {
        path: String,
        error: std::io::Error,
    },
    Parse {
        path: String,
        problem: DocumentProblem,
    },
    StdinTwice,
    InvalidPrincipal {
        value: String,
    },
    InvalidAction {
        value: String,
    },
    InvalidKeyArn {
        value: String,
    },
    InvalidRegion {
        value: String,
    },
    InvalidBucketAccount {
        value: String,
    },
    InvalidSourceVpce {
        value: String,
    },
    InvalidOrganization {
        flag: &'static str,
        value: String,
    },
    /// What the question lacks to be decided.
    Missing {
        action: String,
        needed: Vec<Needed>,
    },
    MissingBucket {
        action: String,
    },
    MissingKey {
        action: String,
    },
    UnknownBucketOwner,
    UnknownRegion,
    Unevaluable(EvalError),
}

/// What to pass for each thing a question lacks.
fn how_to_give(needed: Needed) -> &'static str {
    match needed {
        Needed::BucketPolicy => "the bucket policy: pass --bucket-policy FILE (`aws s3api get-bucket-policy --bucket NAME`), or --no-bucket-policy if the bucket has none",
        Needed::IdentityPolicy => "the role's identity policies: pass --identity-policy FILE for each policy of the role (`aws iam get-role-policy`, `aws iam get-policy-version`), or --no-identity-policy if it has none",
        Needed::Encryption => "how the bucket encrypts, for the KMS call S3 makes: pass --kms-key-arn ARN with --key-policy FILE (SSE-KMS), --aws-managed-key (the aws/s3 key), or --sse-s3 (S3 managed keys, no KMS call)",
        Needed::KeyArn => "the KMS key: pass --kms-key-arn ARN",
        Needed::KeyPolicy => "the key policy: pass --key-policy FILE (`aws kms get-key-policy --key-id ARN --policy-name default`)",
        Needed::RoleArn => "the role to assume: pass --role-arn ARN",
        Needed::TrustPolicy => "the role's trust policy: pass --trust-policy FILE (`aws iam get-role --role-name NAME --query Role.AssumeRolePolicyDocument`)",
    }
}

impl fmt::Display for ExplainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExplainError::Read { path, error } => write!(f, "cannot read {path}: {error}"),
            ExplainError::Parse { path, problem } => write!(f, "{path}: {problem}"),
            ExplainError::StdinTwice => {
                f.write_str("only one document can be read from stdin (`-`)")
            }
            ExplainError::InvalidPrincipal { value } => {
                write!(
                    f,
                    "--principal {value:?} is not a role ARN (arn:aws:iam::<12-digit account>:role/<name>) or `anonymous`"
                )?;
                if value.contains(":assumed-role/") {
                    // What `aws sts get-caller-identity` prints: the session, without the
                    // role's path.
                    f.write_str("; for an assumed-role session, pass its role's ARN (`aws iam get-role --role-name NAME`)")?;
                }
                Ok(())
            }
            ExplainError::InvalidAction { value } => write!(
                f,
                "--action {value:?} must be an s3: or kms: action such as s3:GetObject, or sts:AssumeRole"
            ),
            ExplainError::InvalidKeyArn { value } => write!(
                f,
                "--kms-key-arn {value:?} is not a key ARN (arn:aws:kms:<region>:<account>:key/<id>)"
            ),
            ExplainError::InvalidRegion { value } => write!(
                f,
                "--region {value:?} is not an AWS region (such as ap-northeast-1, cn-north-1 or us-gov-west-1)"
            ),
            ExplainError::InvalidSourceVpce { value } => write!(
                f,
                "--source-vpce {value:?} is not a VPC endpoint id (`vpce-` followed by 8 to 17 hexadecimal digits)"
            ),
            ExplainError::InvalidOrganization { flag, value } => write!(
                f,
                "{flag} {value:?} is not an AWS Organizations id (`o-` followed by 10 to 32 lowercase letters or digits)"
            ),
            ExplainError::InvalidBucketAccount { value } => write!(
                f,
                "--bucket-account {value:?} is not an AWS account id (12 digits)"
            ),
            ExplainError::Missing { action, needed } => {
                write!(
                    f,
                    "cannot decide {action} without every layer that decides it; missing:"
                )?;
                for needed in needed {
                    write!(f, "\n  - {}", how_to_give(*needed))?;
                }
                Ok(())
            }
            ExplainError::MissingBucket { action } => write!(f, "{action} needs --bucket"),
            ExplainError::MissingKey { action } => {
                write!(f, "{action} acts on an object: pass --key OBJECTKEY")
            }
            ExplainError::UnknownBucketOwner => f.write_str(
                "the bucket's account is unknown: pass --bucket-account or --kms-key-arn",
            ),
            ExplainError::UnknownRegion => {
                f.write_str("the bucket's region is unknown: pass --region or --kms-key-arn")
            }
            ExplainError::Unevaluable(error) => write!(f, "cannot evaluate: {error}"),
        }
    }
}

/// A document read from a file or stdin, reported under the file's name.
fn read_document(path: &PathBuf, stdin_used: &mut bool) -> Result<GivenPolicy, ExplainError> {
    let is_stdin = path.as_os_str() == "-";
    let name = if is_stdin {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    let text = if is_stdin {
        if *stdin_used {
            return Err(ExplainError::StdinTwice);
        }
        *stdin_used = true;
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|error| ExplainError::Read {
                path: name.clone(),
                error,
            })?;
        text
    } else {
        std::fs::read_to_string(path).map_err(|error| ExplainError::Read {
            path: name.clone(),
            error,
        })?
    };
    let document = parse_policy_json(&text).map_err(|problem| ExplainError::Parse {
        path: name.clone(),
        problem,
    })?;
    Ok(GivenPolicy { name, document })
}

pub fn run(args: &ExplainArgs, stdout: &mut dyn Write) -> Result<Status, Error> {
    let mut text = Vec::new();
    let allowed = answer(args, &mut text)?;
    reported(stdout.write_all(&text))?;
    Ok(Status::finding_if(!allowed))
}

fn question(args: &ExplainArgs) -> Result<Question, ExplainError> {
    let caller = if args.principal.eq_ignore_ascii_case("anonymous") || args.principal == "*" {
        Caller::Anonymous
    } else {
        let is_role = crate::aws::iam_arn_rest(&args.principal).is_some()
            && args.principal.contains(":role/");
        Caller::role(args.principal.clone())
            .filter(|_| is_role)
            .ok_or_else(|| ExplainError::InvalidPrincipal {
                value: args.principal.clone(),
            })?
    };
    let service = args
        .action
        .split(':')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let assume = args.action.eq_ignore_ascii_case(sts::ASSUME_ROLE);
    if !(service == s3::SERVICE || service == kms::SERVICE || assume)
        || args.action.split(':').count() != 2
    {
        return Err(ExplainError::InvalidAction {
            value: args.action.clone(),
        });
    }
    if let Some(arn) = &args.kms_key_arn {
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        if fields.len() != 6
            || fields[2] != kms::SERVICE
            || account_of_arn(arn).is_none()
            || !fields[5].starts_with("key/")
            || Partition::of_region(fields[3]).map(Partition::id) != Some(fields[1])
        {
            return Err(ExplainError::InvalidKeyArn { value: arn.clone() });
        }
    }
    let key_field = |index: usize| {
        args.kms_key_arn
            .as_ref()
            .and_then(|arn| arn.split(':').nth(index).map(str::to_string))
    };
    if let Some(value) = &args.bucket_account {
        if !is_account_id(value) {
            return Err(ExplainError::InvalidBucketAccount {
                value: value.clone(),
            });
        }
    }
    if let Some(value) = &args.region {
        if !is_region(value) {
            return Err(ExplainError::InvalidRegion {
                value: value.clone(),
            });
        }
    }
    if let Some(value) = &args.source_vpce {
        if !is_ec2_resource_id(value, "vpce-") {
            return Err(ExplainError::InvalidSourceVpce {
                value: value.clone(),
            });
        }
    }
    for (flag, value) in [
        ("--principal-org-id", &args.principal_org_id),
        ("--resource-org-id", &args.resource_org_id),
    ] {
        if let Some(value) = value.as_ref().filter(|value| !is_organization_id(value)) {
            return Err(ExplainError::InvalidOrganization {
                flag,
                value: value.clone(),
            });
        }
    }
    let bucket_account = args.bucket_account.clone().or_else(|| key_field(4));
    let region = args.region.clone().or_else(|| key_field(3));
    if service == s3::SERVICE && args.bucket.is_none() {
        return Err(ExplainError::MissingBucket {
            action: args.action.clone(),
        });
    }
    let bucket_level = is_bucket_level(&args.action);
    if service == s3::SERVICE && !bucket_level && args.key.is_none() {
        return Err(ExplainError::MissingKey {
            action: args.action.clone(),
        });
    }
    let encryption = match (&args.kms_key_arn, args.aws_managed_key) {
        (Some(arn), aws_managed) => BucketEncryption::Kms {
            key_arn: arn.clone(),
            aws_managed,
        },
        (None, true) => {
            let account = bucket_account
                .clone()
                .ok_or(ExplainError::UnknownBucketOwner)?;
            let region = region.clone().ok_or(ExplainError::UnknownRegion)?;
            BucketEncryption::Kms {
                key_arn: aws_managed_key_arn(&account, &region),
                aws_managed: true,
            }
        }
        (None, false) if args.sse_s3 => BucketEncryption::S3Managed,
        (None, false) => BucketEncryption::Unknown,
    };
    Ok(Question {
        caller,
        action: args.action.clone(),
        bucket: args.bucket.clone(),
        object: if bucket_level { None } else { args.key.clone() },
        prefix: args.prefix.clone(),
        bucket_account,
        region,
        encryption,
        bucket_key: args.bucket_key,
        plain_http: args.plain_http,
        role_arn: args.role_arn.clone(),
        external_id: args.external_id.clone(),
        source_vpce: args.source_vpce.clone(),
        principal_org_id: args.principal_org_id.clone(),
        resource_org_id: args.resource_org_id.clone(),
    })
}

fn unanswerable(question: &Question, problem: Unanswerable) -> ExplainError {
    match problem {
        Unanswerable::UnknownBucketOwner => ExplainError::UnknownBucketOwner,
        Unanswerable::UnknownRegion => ExplainError::UnknownRegion,
        Unanswerable::Missing(needed) => ExplainError::Missing {
            action: question.action.clone(),
            needed,
        },
        Unanswerable::Unevaluable(error) => ExplainError::Unevaluable(error),
    }
}

fn answer(args: &ExplainArgs, out: &mut dyn Write) -> Result<bool, ExplainError> {
    let question = question(args)?;
    let stdin_readers = args
        .bucket_policy
        .iter()
        .chain(&args.key_policy)
        .chain(&args.identity_policy)
        .chain(&args.trust_policy)
        .chain(&args.scp)
        .chain(&args.rcp)
        .chain(&args.vpce_policy)
        .chain(&args.boundary)
        .filter(|path| path.as_os_str() == "-")
        .count();
    if stdin_readers > 1 {
        return Err(ExplainError::StdinTwice);
    }
    let mut stdin_used = false;
    let bucket_policy = match &args.bucket_policy {
        Some(path) => Stated::Given(read_document(path, &mut stdin_used)?),
        None if args.no_bucket_policy => Stated::Nothing,
        None => Stated::NotGiven,
    };
    let key_policy = args
        .key_policy
        .as_ref()
        .map(|path| read_document(path, &mut stdin_used))
        .transpose()?;
    let identity_policies = args
        .identity_policy
        .iter()
        .map(|path| read_document(path, &mut stdin_used))
        .collect::<Result<Vec<_>, _>>()?;
    let trust_policy = args
        .trust_policy
        .as_ref()
        .map(|path| read_document(path, &mut stdin_used))
        .transpose()?;
    let read_all = |paths: &[PathBuf], stdin_used: &mut bool| {
        paths
            .iter()
            .map(|path| read_document(path, stdin_used))
            .collect::<Result<Vec<_>, _>>()
    };
    let scps = read_all(&args.scp, &mut stdin_used)?;
    let rcps = read_all(&args.rcp, &mut stdin_used)?;
    let vpc_endpoint_policy = read_all(args.vpce_policy.as_slice(), &mut stdin_used)?.pop();
    let boundary = read_all(args.boundary.as_slice(), &mut stdin_used)?.pop();
    let given = GivenPolicies {
        scps,
        rcps,
        vpc_endpoint_policy,
        boundary,
        trust_policy,
        bucket_policy,
        key_policy,
        identity_policies: if !identity_policies.is_empty() {
            Stated::Given(identity_policies)
        } else if args.no_identity_policy {
            Stated::Nothing
        } else {
            Stated::NotGiven
        },
    };
    let explanation =
        explain(&question, given).map_err(|problem| unanswerable(&question, problem))?;
    let _ = out.write_all(print(&explanation).as_bytes());
    Ok(explanation.allowed())
}

fn print(explanation: &Explanation) -> String {
    let mut text = String::new();
    for decided in &explanation.requests {
        let note = if decided.made_by_s3 {
            " (the call S3 makes to KMS for the caller)"
        } else {
            ""
        };
        describe(&mut text, &decided.request, &decided.decision, note);
    }
    if explanation.multipart_needs_decrypt {
        text.push_str(&format!(
            "note: large uploads go multipart, and UploadPart needs {decrypt} as well: check it with --action {decrypt}\n",
            decrypt = kms::DECRYPT
        ));
    }
    while text.ends_with("\n\n") {
        text.pop();
    }
    if explanation.allowed() {
        text.push_str("\nResult: ALLOWED\n");
    } else {
        text.push_str("\nResult: DENIED\n");
        if !explanation.advice.is_empty() {
            text.push_str("To fix:\n");
            for item in &explanation.advice {
                for (index, line) in item.to_string().lines().enumerate() {
                    let lead = if index == 0 { "  - " } else { "    " };
                    text.push_str(&format!("{lead}{line}\n"));
                }
            }
        }
    }
    text
}

fn describe_layer(text: &mut String, result: &LayerResult, caller: &Caller) {
    let label = result.layer.as_str();
    if !result.denies.is_empty() {
        let names: Vec<String> = result
            .denies
            .iter()
            .map(|a| a.statement.to_string())
            .collect();
        text.push_str(&format!("  {label}: DENIES — {}\n", names.join(", ")));
    } else if !result.allows.is_empty() {
        let names: Vec<String> = result
            .allows
            .iter()
            .map(|applied| match applied.scope {
                PrincipalScope::Caller => applied.statement.to_string(),
                PrincipalScope::Account => format!(
                    "{} (names the account {}, delegating to its IAM policies)",
                    applied.statement,
                    caller.account().unwrap_or_default()
                ),
            })
            .collect();
        text.push_str(&format!("  {label}: allows — {}\n", names.join(", ")));
    } else if !result.present {
        text.push_str(&format!("  {label}: none\n"));
    } else {
        text.push_str(&format!("  {label}: no statement applies\n"));
    }
}

fn describe(text: &mut String, request: &Request, decision: &Decision, note: &str) {
    let relation = match request.caller {
        Caller::Anonymous => "anonymous caller".to_string(),
        _ if request.is_cross_account() => format!(
            "cross-account: caller in {}, resource in {}",
            request.caller.account().unwrap_or_default(),
            request.resource_account
        ),
        _ => format!("same account {}", request.resource_account),
    };
    text.push_str(&format!(
        "{} on {}{note}\n  by {} ({relation})\n",
        request.action, request.resource, request.caller
    ));
    if request.caller != Caller::Anonymous {
        describe_layer(text, &decision.identity, &request.caller);
    }
    describe_layer(text, &decision.resource, &request.caller);
    for guardrail in &decision.guardrails {
        describe_layer(text, guardrail, &request.caller);
    }
    let reasons: Vec<String> = decision.reasons.iter().map(ToString::to_string).collect();
    text.push_str(&format!(
        "  => {}: {}\n\n",
        decision.verdict.as_str(),
        reasons.join("; ")
    ));
}
