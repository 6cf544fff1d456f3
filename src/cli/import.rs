//! `crossgrant import`: reads the live documents (as the aws CLI prints them, or bare) into a
//! [`LiveSetup`], has [`crate::import`] turn them into a scenario of existing resources, writes
//! the scenario and the policy copies it names (never over an existing file without
//! `--force`, each through a temporary file renamed into place, the scenario last), and prints
//! what became of every statement. Exit 0 when written, 2 on bad input.

use crate::aws::{is_account_id, is_region};
use crate::error::{report, Error, Status};
use crate::import::{
    import, DocumentKind, ImportError, ImportOptions, Imported, KeyArn, LiveDocument, LiveKey,
    LiveRole, LiveSetup, RoleArn,
};
use crate::model::ObjectOwnership;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OwnershipArg {
    #[value(name = "BucketOwnerEnforced")]
    BucketOwnerEnforced,
    #[value(name = "BucketOwnerPreferred")]
    BucketOwnerPreferred,
    #[value(name = "ObjectWriter")]
    ObjectWriter,
}

impl From<OwnershipArg> for ObjectOwnership {
    fn from(value: OwnershipArg) -> Self {
        match value {
            OwnershipArg::BucketOwnerEnforced => ObjectOwnership::BucketOwnerEnforced,
            OwnershipArg::BucketOwnerPreferred => ObjectOwnership::BucketOwnerPreferred,
            OwnershipArg::ObjectWriter => ObjectOwnership::ObjectWriter,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The bucket's name.
    #[arg(long)]
    pub bucket: String,
    /// Output of `aws s3api get-bucket-policy --bucket NAME`, or the bare policy.
    #[arg(long, value_name = "FILE")]
    pub bucket_policy: PathBuf,
    /// The ARN of the customer-managed KMS key that encrypts the bucket (without it, the bucket
    /// is taken to use the AWS managed `aws/s3` key).
    #[arg(long, value_name = "ARN", value_parser = parse_key_arn, requires = "key_policy")]
    pub kms_key_arn: Option<KeyArn>,
    /// Output of `aws kms get-key-policy --key-id ARN --policy-name default`, or the bare policy.
    #[arg(long, value_name = "FILE", requires = "kms_key_arn")]
    pub key_policy: Option<PathBuf>,
    /// The account that owns the bucket (default: the KMS key's account).
    #[arg(long, value_name = "ID", value_parser = parse_account_id)]
    pub bucket_account: Option<String>,
    /// The bucket uses an S3 Bucket Key (KMS sees the bucket ARN as encryption context).
    #[arg(long)]
    pub bucket_key: bool,
    /// The bucket's Object Ownership setting (default: inferred; ACLs are taken to be enabled
    /// when the policies let writers set object ACLs).
    #[arg(long, value_enum)]
    pub object_ownership: Option<OwnershipArg>,
    /// A role and one of its identity policies (output of `aws iam get-role-policy` or
    /// `aws iam get-policy-version`, or the bare policy); repeat for every policy and role.
    #[arg(long = "role", value_name = "ROLE_ARN=POLICY_FILE", value_parser = parse_role)]
    pub roles: Vec<(RoleArn, PathBuf)>,
    /// The bucket's region (default: the KMS key's region).
    #[arg(long, value_parser = parse_region)]
    pub region: Option<String>,
    /// Where to write the scenario; the kept policy statements go to `live/` beside it.
    #[arg(long, default_value = "scenario.toml")]
    pub out: PathBuf,
    /// Replace the scenario and policy copies if they exist.
    #[arg(long)]
    pub force: bool,
    /// Leave out key policy statements whose only use of the key beyond the grants is use S3
    /// does not make (direct kms:Decrypt without kms:ViaService, other KMS actions).
    #[arg(long)]
    pub narrow_key_use: bool,
}

fn parse_key_arn(value: &str) -> Result<KeyArn, String> {
    KeyArn::parse(value).ok_or_else(|| {
        "not a key ARN (arn:aws:kms:<region>:<12-digit account>:key/<key id>); `aws kms describe-key --key-id alias/NAME` prints a key's ARN".to_string()
    })
}

fn parse_account_id(value: &str) -> Result<String, String> {
    if is_account_id(value) {
        Ok(value.to_string())
    } else {
        Err("not an AWS account id (12 digits)".to_string())
    }
}

fn parse_region(value: &str) -> Result<String, String> {
    if is_region(value) {
        Ok(value.to_string())
    } else {
        Err("not an AWS region (such as ap-northeast-1, cn-north-1 or us-gov-west-1)".to_string())
    }
}

/// `ROLE_ARN=POLICY_FILE`; IAM names may hold `=`, so the split is at the first `=` that ends a
/// role ARN.
fn parse_role(value: &str) -> Result<(RoleArn, PathBuf), String> {
    let mut first_arn = None;
    for (at, _) in value.match_indices('=') {
        let (arn, file) = (&value[..at], &value[at + 1..]);
        if let Some(role) = RoleArn::parse(arn) {
            if !file.is_empty() {
                return Ok((role, PathBuf::from(file)));
            }
            first_arn = Some(arn);
        }
    }
    match (first_arn, value.contains('=')) {
        (Some(arn), _) => Err(format!(
            "no policy file after `{arn}=`: pass --role ROLE_ARN=POLICY_FILE"
        )),
        (None, true) => Err(
            "does not start with a role ARN (arn:aws:iam::<12-digit account>:role/<path/name>) followed by `=POLICY_FILE`"
                .to_string(),
        ),
        (None, false) => Err(
            "expected ROLE_ARN=POLICY_FILE, such as arn:aws:iam::222222222222:role/app=app-policy.json"
                .to_string(),
        ),
    }
}

fn read_document(kind: DocumentKind, path: &Path) -> Result<LiveDocument, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|error| ImportError::Read {
        kind,
        path: path.to_path_buf(),
        error,
    })?;
    LiveDocument::parse(path.display().to_string(), &text).map_err(|problem| ImportError::Parse {
        kind,
        path: path.to_path_buf(),
        problem,
    })
}

/// The live setup the arguments describe, every document read.
fn live_setup(args: &ImportArgs) -> Result<LiveSetup, ImportError> {
    if !crate::import::arn::is_bucket_name(&args.bucket) {
        return Err(ImportError::InvalidBucketName {
            value: args.bucket.clone(),
        });
    }
    let owner_account = match (&args.bucket_account, &args.kms_key_arn) {
        (Some(bucket_account), Some(key)) if *bucket_account != key.account => {
            return Err(ImportError::OwnerDisagrees {
                bucket_account: bucket_account.clone(),
                key_account: key.account.clone(),
            })
        }
        (Some(account), _) => account.clone(),
        (None, Some(key)) => key.account.clone(),
        (None, None) => return Err(ImportError::UnknownBucketOwner),
    };
    let region = match (&args.region, &args.kms_key_arn) {
        (Some(region), Some(key)) if *region != key.region => {
            return Err(ImportError::RegionDisagrees {
                region: region.clone(),
                key_region: key.region.clone(),
            })
        }
        (Some(region), _) => region.clone(),
        (None, Some(key)) => key.region.clone(),
        (None, None) => return Err(ImportError::UnknownRegion),
    };
    let bucket_policy = read_document(DocumentKind::BucketPolicy, &args.bucket_policy)?;
    let key = match (&args.kms_key_arn, &args.key_policy) {
        (Some(arn), Some(path)) => Some(LiveKey {
            arn: arn.clone(),
            policy: read_document(DocumentKind::KeyPolicy, path)?,
        }),
        _ => None,
    };
    let mut roles: Vec<LiveRole> = Vec::new();
    for (arn, path) in &args.roles {
        let document = read_document(DocumentKind::IdentityPolicy, path)?;
        match roles.iter_mut().find(|role| role.arn == *arn) {
            Some(role) => role.policies.push(document),
            None => roles.push(LiveRole {
                arn: arn.clone(),
                policies: vec![document],
            }),
        }
    }
    Ok(LiveSetup {
        bucket_name: args.bucket.clone(),
        owner_account,
        region,
        key,
        bucket_key: args.bucket_key,
        object_ownership: args.object_ownership.map(Into::into),
        bucket_policy,
        roles,
    })
}

/// Writes `text` to `path` through a temporary file beside it, renamed into place.
fn write_atomically(path: &Path, text: &str) -> Result<(), ImportError> {
    let failed = |error| ImportError::Write {
        path: path.to_path_buf(),
        error,
    };
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(directory).map_err(failed)?;
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = directory.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = std::fs::File::create(&temporary)
        .and_then(|mut file| {
            file.write_all(text.as_bytes())?;
            file.sync_all()
        })
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(failed(error));
    }
    Ok(())
}

/// Writes the policy copies and then the scenario; nothing is written if any would replace a
/// file and `--force` was not given.
fn write_out(args: &ImportArgs, imported: &Imported) -> Result<Vec<PathBuf>, ImportError> {
    let base = args.out.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut files: Vec<(PathBuf, &str)> = imported
        .policy_files
        .iter()
        .map(|file| (base.join(&file.path), file.text.as_str()))
        .collect();
    files.push((args.out.clone(), imported.scenario.as_str()));
    if !args.force {
        if let Some((path, _)) = files.iter().find(|(path, _)| path.exists()) {
            return Err(ImportError::Exists { path: path.clone() });
        }
    }
    for (path, text) in &files {
        write_atomically(path, text)?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

fn execute(args: &ImportArgs) -> Result<String, ImportError> {
    let setup = live_setup(args)?;
    let imported = import(
        &setup,
        &ImportOptions {
            narrow_key_use: args.narrow_key_use,
        },
    );
    let written = write_out(args, &imported)?;
    let mut text = imported.summary.render();
    text.push_str("\nWrote ");
    text.push_str(
        &written
            .iter()
            .map(|path| path.display().to_string())
            .collect::<Vec<_>>()
            .join(", "),
    );
    text.push('\n');
    Ok(text)
}

/// Runs `import` and returns the exit code.
pub fn run(args: &ImportArgs, stdout: &mut dyn Write) -> Result<Status, Error> {
    let text = execute(args)?;
    report(stdout, &text)?;
    Ok(Status::Done)
}
