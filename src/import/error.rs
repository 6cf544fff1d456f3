//! Why `import` cannot turn what it was given into a scenario, as data; the message, with what
//! to do about it, is rendered only by `Display`, at the edge.

use crate::eval::document::DocumentProblem;
use std::fmt;
use std::path::PathBuf;

/// Which live document a file was given as: it decides which aws CLI command prints it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    BucketPolicy,
    KeyPolicy,
    IdentityPolicy,
}

impl DocumentKind {
    pub fn label(self) -> &'static str {
        match self {
            DocumentKind::BucketPolicy => "bucket policy",
            DocumentKind::KeyPolicy => "key policy",
            DocumentKind::IdentityPolicy => "identity policy",
        }
    }

    /// The flag the document is given with, and the command that prints it.
    fn how_to_get(self) -> &'static str {
        match self {
            DocumentKind::BucketPolicy => {
                "--bucket-policy takes the output of `aws s3api get-bucket-policy --bucket NAME`, or the policy itself"
            }
            DocumentKind::KeyPolicy => {
                "--key-policy takes the output of `aws kms get-key-policy --key-id ARN --policy-name default`, or the policy itself"
            }
            DocumentKind::IdentityPolicy => {
                "--role ROLE_ARN=FILE takes the output of `aws iam get-role-policy` or `aws iam get-policy-version`, or the policy itself"
            }
        }
    }
}

#[derive(Debug)]
pub enum ImportError {
    Read {
        kind: DocumentKind,
        path: PathBuf,
        error: std::io::Error,
    },
    Parse {
        kind: DocumentKind,
        path: PathBuf,
        problem: DocumentProblem,
    },
    InvalidBucketName {
        value: String,
    },
    /// Neither a key (whose account owns the bucket) nor `--bucket-account`.
    UnknownBucketOwner,
    /// `--bucket-account` and the key's account differ; a bucket's key lives in its account.
    OwnerDisagrees {
        bucket_account: String,
        key_account: String,
    },
    UnknownRegion,
    RegionDisagrees {
        region: String,
        key_region: String,
    },
    /// The output file (or a policy copy beside it) exists and `--force` was not given.
    Exists {
        path: PathBuf,
    },
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Read { kind, path, error } => write!(
                f,
                "cannot read the {} {}: {error}\n{}",
                kind.label(),
                path.display(),
                kind.how_to_get()
            ),
            ImportError::Parse {
                kind,
                path,
                problem,
            } => write!(
                f,
                "{}: {problem}\n{}",
                path.display(),
                kind.how_to_get()
            ),
            ImportError::InvalidBucketName { value } => write!(
                f,
                "--bucket {value:?} is not an S3 bucket name (3 to 63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit)"
            ),
            ImportError::UnknownBucketOwner => f.write_str(
                "the bucket's account is unknown: pass --bucket-account ID, or --kms-key-arn ARN with --key-policy FILE (the key's account owns the bucket)",
            ),
            ImportError::OwnerDisagrees {
                bucket_account,
                key_account,
            } => write!(
                f,
                "--bucket-account {bucket_account} is not the account of --kms-key-arn ({key_account}); a bucket's key is in the bucket's account: pass the ARN of the key that encrypts the bucket"
            ),
            ImportError::UnknownRegion => f.write_str(
                "the bucket's region is unknown: pass --region REGION, or --kms-key-arn (its region is the bucket's)",
            ),
            ImportError::RegionDisagrees { region, key_region } => write!(
                f,
                "--region {region} is not the region of --kms-key-arn ({key_region}); a bucket and its key share a region: pass --region {key_region}, or leave --region out"
            ),
            ImportError::Exists { path } => write!(
                f,
                "{} exists; pass --force to replace it, or choose another --out",
                path.display()
            ),
            ImportError::Write { path, error } => {
                write!(f, "cannot write {}: {error}", path.display())
            }
        }
    }
}

impl std::error::Error for ImportError {}
