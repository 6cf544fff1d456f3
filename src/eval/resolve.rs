//! Literal values for deploy-time references, so the evaluator can judge crossgrant's own
//! documents before anything exists: a KMS key gets a stable made-up key id in its real
//! account and region, a role its real ARN. Also the fixed key policy AWS gives the
//! `aws/s3` managed key, which no one can change.

use super::document::resolve_refs;
use crate::aws::{condition_key, kms, partition_of, s3_service};
use crate::model::{Bucket, Encryption, Scenario};
use crate::policy::{PolicyDocument, Principal, Ref, Statement, Value};

/// A UUID-shaped id derived from `seed` (FNV-1a, 128 bit): the same scenario always gets the
/// same key ARNs, across runs and platforms.
pub fn deterministic_key_id(seed: &str) -> String {
    let hex = format!("{:032x}", crate::names::stable_hash(seed));
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Turns references of one scenario into literal ARNs.
pub struct ScenarioArns<'a> {
    scenario: &'a Scenario,
}

impl<'a> ScenarioArns<'a> {
    pub fn new(scenario: &'a Scenario) -> Self {
        ScenarioArns { scenario }
    }

    pub fn key_arn(&self, key: &str) -> String {
        let key = &self.scenario.keys[key];
        if let Some(arn) = key.known_arn() {
            return arn.to_string();
        }
        let account = &self.scenario.account(&key.account).id;
        partition_of(&key.region).key_arn(
            &key.region,
            account,
            &deterministic_key_id(&format!("{}/{}", self.scenario.name, key.name)),
        )
    }

    /// The `aws/s3` key of the bucket's account and region.
    pub fn aws_managed_key_arn(&self, bucket: &Bucket) -> String {
        let account = &self.scenario.account(&bucket.account).id;
        aws_managed_key_arn(account, &bucket.region)
    }

    /// The ARN of the key that encrypts the bucket's objects.
    pub fn bucket_key_arn(&self, bucket: &Bucket) -> String {
        match &bucket.encryption {
            Encryption::Kms(key) => self.key_arn(key),
            Encryption::AwsManaged => self.aws_managed_key_arn(bucket),
        }
    }

    pub fn resolve(&self, reference: &Ref) -> String {
        match reference {
            Ref::KeyArn(key) => self.key_arn(key),
            Ref::RoleArn(role) => self.scenario.role_arn(role),
            Ref::InstanceProfile(instance) => {
                let role = &self.scenario.roles[&self.scenario.instances[instance].role];
                let account = self.scenario.account(&role.account);
                account.partition.iam_arn(
                    &account.id,
                    &format!("instance-profile{}{}", role.path, role.role_name),
                )
            }
        }
    }

    pub fn literal(&self, document: &PolicyDocument) -> PolicyDocument {
        resolve_refs(document, &|reference| self.resolve(reference))
    }
}

pub fn aws_managed_key_arn(account: &str, region: &str) -> String {
    partition_of(region).key_arn(
        region,
        account,
        &deterministic_key_id(&format!("aws/s3/{account}/{region}")),
    )
}

/// How the Sid of the statement AWS puts in every `aws/s3` key policy begins.
const AWS_MANAGED_S3_KEY_SID_START: &str =
    "Allow access through S3 for all principals in the account";

/// The key policy AWS attaches to every `aws/s3` key: any principal of the owning account may use
/// it through S3, nobody else, and the policy cannot be edited.
pub fn aws_managed_s3_key_policy(account: &str, region: &str) -> PolicyDocument {
    PolicyDocument::new(vec![
        Statement::allow(format!(
            "{AWS_MANAGED_S3_KEY_SID_START} that are authorized to use S3"
        ))
        .principal(Principal::aws([Value::lit("*")]))
        .actions([
            kms::ENCRYPT,
            kms::DECRYPT,
            kms::RE_ENCRYPT_ANY,
            kms::GENERATE_DATA_KEY_ANY,
            kms::DESCRIBE_KEY,
        ])
        .resources([Value::lit("*")])
        .condition(
            "StringEquals",
            condition_key::KMS_CALLER_ACCOUNT,
            [Value::lit(account)],
        )
        .condition(
            "StringEquals",
            condition_key::KMS_VIA_SERVICE,
            [Value::lit(s3_service(region))],
        ),
        Statement::allow("Allow direct access to key metadata to the account")
            .principal(Principal::aws([Value::lit(
                partition_of(region).root_arn(account),
            )]))
            .actions([kms::DESCRIBE_ANY, kms::GET_ANY, kms::LIST_ANY])
            .resources([Value::lit("*")]),
    ])
}

/// Whether a key policy is the one AWS gives `aws/s3` keys (recognised by its fixed Sid).
pub fn is_aws_managed_s3_key_policy(document: &PolicyDocument) -> bool {
    document.statements.iter().any(|statement| {
        statement
            .sid
            .as_deref()
            .is_some_and(|sid| sid.starts_with(AWS_MANAGED_S3_KEY_SID_START))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_stable_and_uuid_shaped() {
        let id = deterministic_key_id("shared-data/data");
        assert_eq!(id, deterministic_key_id("shared-data/data"));
        assert_ne!(id, deterministic_key_id("shared-data/other"));
        let lengths: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12]);
    }
}
