//! The ARNs `import` reads accounts, regions, roles and the key from: a KMS key ARN, and IAM
//! role ARNs, split into the parts a scenario names.

use crate::aws::{iam_arn_rest, is_account_id, kms, principal_arn_problem, Partition};
use std::fmt;

/// `arn:aws:kms:<region>:<account>:key/<id>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyArn {
    pub arn: String,
    pub region: String,
    pub account: String,
}

impl KeyArn {
    pub fn parse(arn: &str) -> Option<KeyArn> {
        let fields: Vec<&str> = arn.splitn(6, ':').collect();
        let valid = fields.len() == 6
            && fields[0] == "arn"
            && fields[2] == kms::SERVICE
            && Partition::of_region(fields[3]).map(Partition::id) == Some(fields[1])
            && is_account_id(fields[4])
            && fields[5]
                .strip_prefix("key/")
                .is_some_and(|id| !id.is_empty() && !id.contains(['*', '?', '/']));
        valid.then(|| KeyArn {
            arn: arn.to_string(),
            region: fields[3].to_string(),
            account: fields[4].to_string(),
        })
    }
}

/// `arn:aws:iam::<account>:role<path><name>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleArn {
    pub arn: String,
    pub account: String,
    /// Starts and ends with `/`.
    pub path: String,
    pub name: String,
}

impl RoleArn {
    /// A role ARN as IAM writes it; anything else (a user, an account root, a pattern) is not.
    pub fn parse(arn: &str) -> Option<RoleArn> {
        if principal_arn_problem(arn).is_some() || arn.contains(['*', '?']) || arn.contains("${") {
            return None;
        }
        let rest = iam_arn_rest(arn)?;
        let (account, resource) = rest.split_once(':')?;
        let named = resource.strip_prefix("role/")?;
        let (path, name) = match named.rfind('/') {
            Some(at) => (format!("/{}", &named[..=at]), &named[at + 1..]),
            None => ("/".to_string(), named),
        };
        Some(RoleArn {
            arn: arn.to_string(),
            account: account.to_string(),
            path,
            name: name.to_string(),
        })
    }
}

impl fmt::Display for RoleArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

/// Whether `name` is an S3 bucket name crossgrant can write policies for.
pub fn is_bucket_name(name: &str) -> bool {
    (3..=63).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_split_into_account_path_and_name() {
        let role = RoleArn::parse("arn:aws:iam::222222222222:role/team/app").unwrap();
        assert_eq!(
            (
                role.account.as_str(),
                role.path.as_str(),
                role.name.as_str()
            ),
            ("222222222222", "/team/", "app")
        );
        let role = RoleArn::parse("arn:aws:iam::222222222222:role/app").unwrap();
        assert_eq!(role.path, "/");
        for not_a_role in [
            "arn:aws:iam::222222222222:root",
            "arn:aws:iam::222222222222:user/app",
            "arn:aws:iam::222222222222:role/app*",
            "arn:aws:iam::2222:role/app",
            "222222222222",
        ] {
            assert_eq!(RoleArn::parse(not_a_role), None, "{not_a_role}");
        }
    }

    #[test]
    fn key_arns_carry_region_and_account() {
        let key = KeyArn::parse("arn:aws:kms:eu-west-1:111111111111:key/abc").unwrap();
        assert_eq!(
            (key.region.as_str(), key.account.as_str()),
            ("eu-west-1", "111111111111")
        );
        for bad in [
            "arn:aws:kms:eu-west-1:111111111111:alias/abc",
            "arn:aws:kms:nowhere-1:111111111111:key/abc",
            "arn:aws:s3:eu-west-1:111111111111:key/abc",
            "arn:aws:kms:eu-west-1:1111:key/abc",
        ] {
            assert_eq!(KeyArn::parse(bad), None, "{bad}");
        }
    }
}
