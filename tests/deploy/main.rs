//! End-to-end deployment: the CloudFormation and Terraform that `crossgrant synth` writes for
//! the examples are deployed to a local AWS emulator (`moto_server`) the way a user deploys
//! them to AWS — the generated `deploy.sh` with one CLI profile per account, and
//! `terraform init/plan/apply` of the generated root — and then used the way the AWS blog on
//! cross-account SSE-KMS access uses them: the consumer role writes an object to the owner's
//! bucket and reads it back, encrypted with the owner's key. The deployed policies are read back
//! from the emulator, must be exactly the documents crossgrant lowered, and are handed, as the
//! AWS CLI printed them, to `crossgrant explain`, which must allow what each grant grants and
//! deny what it does not.
//!
//! The emulator enforces almost no authorization, so the deployment itself proves the wiring
//! (every resource deploys, in order, with the right settings and documents), not that the
//! policies grant what they should; that is the evaluator's job. Where the emulator does not implement
//! something the output uses, the test says so on stderr and covers that part through the
//! service API instead, taking the setting from the generated template.
//!
//! Deploy order for real AWS, where S3 and KMS reject a policy that names a role which does not
//! exist yet, is checked on the generated files themselves (the emulator never checks it).

mod access_role;
#[path = "../common/mod.rs"]
mod common;
mod existing;
mod guard;
mod large;
mod per_account;

use common::moto::{ApiCall, CliError, Moto, Profile, Profiles};
use common::{require_tool, text};
use crossgrant::lower::{Lowered, Resource};
use crossgrant::model::Scenario;
use crossgrant::plan::Step;
use crossgrant::policy::{Clause, PolicyDocument, Principal, Ref, Value};
use serde_json::{json, Value as Json};
use std::collections::{BTreeMap, BTreeSet};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Mutex;
use std::time::{Duration, Instant};

fn example_path(name: &str) -> PathBuf {
    common::root().join("examples").join(format!("{name}.toml"))
}

fn describe(output: &Output) -> String {
    format!(
        "exit status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        text(&output.stdout),
        text(&output.stderr)
    )
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    CloudFormation,
    Terraform,
}

impl Target {
    fn as_str(self) -> &'static str {
        match self {
            Target::CloudFormation => "cloudformation",
            Target::Terraform => "terraform",
        }
    }
}

/// An example scenario, lowered and planned by the library and rendered by the real binary.
struct Example {
    name: &'static str,
    lowered: Lowered,
    steps: Vec<Step>,
    out: tempfile::TempDir,
}

impl Example {
    fn synth(name: &'static str, target: &str) -> Example {
        Example::synth_with(name, &["--target", target])
    }

    /// The example rendered by `crossgrant synth` with `extra` arguments.
    fn synth_with(name: &'static str, extra: &[&str]) -> Example {
        let path = example_path(name);
        let scenario = crossgrant::load_scenario(&path)
            .unwrap_or_else(|error| panic!("{name}: {}", error.render()));
        let lowered = crossgrant::lower::lower(scenario);
        let steps = crossgrant::plan::plan(&lowered)
            .unwrap_or_else(|cycle| panic!("{name}: cycle {:?}", cycle.members));
        let out = tempfile::tempdir().expect("output directory");
        let output = common::command()
            .arg("synth")
            .arg(&path)
            .arg("--out")
            .arg(out.path())
            .args(extra)
            .output()
            .expect("crossgrant runs");
        assert!(
            output.status.success(),
            "crossgrant synth {name} failed\n{}",
            describe(&output)
        );
        Example {
            name,
            lowered,
            steps,
            out,
        }
    }

    fn scenario(&self) -> &Scenario {
        &self.lowered.scenario
    }

    /// One CLI profile per account of the scenario, named as the scenario names it.
    fn profiles(&self) -> Vec<Profile> {
        self.scenario()
            .accounts
            .values()
            .map(|account| Profile {
                name: account.profile.clone(),
                account_id: account.id.clone(),
                region: self.scenario().region.clone(),
            })
            .collect()
    }

    fn profile(&self, account: &str) -> &str {
        &self.scenario().account(account).profile
    }
}

/// What one run found out: emulator gaps (and how they were covered) and durations.
#[derive(Default)]
struct Report {
    gaps: BTreeSet<String>,
    timings: Vec<(String, Duration)>,
}

impl Report {
    fn gap(&mut self, text: String) {
        eprintln!("emulator gap: {text}");
        self.gaps.insert(text);
    }

    fn time<T>(&mut self, what: String, run: impl FnOnce(&mut Report) -> T) -> T {
        let started = Instant::now();
        let result = run(self);
        let elapsed = started.elapsed();
        eprintln!("timing: {what}: {:.1} s", elapsed.as_secs_f64());
        self.timings.push((what, elapsed));
        result
    }
}

/// Emulator behaviour found by trying it once, before the cases run.
struct Probe {
    /// `AWS::KMS::Key` with `Tags` makes the emulator's CloudFormation fail (HTTP 500: it hands
    /// CloudFormation's `Key`/`Value` tags to KMS, which expects `TagKey`/`TagValue`).
    cfn_key_tags_fail: bool,
}

fn probe(moto: &Moto, report: &mut Report) -> Probe {
    moto.reset();
    let profile = Profile {
        name: "probe".into(),
        account_id: "999999999999".into(),
        region: "us-east-1".into(),
    };
    let profiles = Profiles::issue(moto, &[profile]);
    let template = r#"{"Resources":{"Key":{"Type":"AWS::KMS::Key","Properties":{"KeyPolicy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::999999999999:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}","Tags":[{"Key":"probe","Value":"yes"}]}}}}"#;
    let result = profiles.json_with(
        &[
            "cloudformation",
            "create-stack",
            "--profile",
            "probe",
            "--stack-name",
            "probe",
            "--template-body",
            template,
        ],
        &[("AWS_MAX_ATTEMPTS", "1")],
    );
    let cfn_key_tags_fail = match result {
        Ok(_) => false,
        Err(_) if moto.log_contains("KeyError: 'TagKey'") => {
            report.gap(
                "CloudFormation AWS::KMS::Key with Tags fails with HTTP 500 (moto passes the \
                 Key/Value tags to KMS, which expects TagKey/TagValue); the test deploys the \
                 keys without Tags and tags them through `aws kms tag-resource`, taking the tags \
                 from the generated template"
                    .to_string(),
            );
            true
        }
        Err(error) => panic!("probing the emulator failed unexpectedly: {error}"),
    };
    Probe { cfn_key_tags_fail }
}

// ---------------------------------------------------------------------------------------------
// CloudFormation templates as data

/// A generated template, parsed. CloudFormation short-form functions (`!Ref`, `!GetAtt`) are
/// kept as tagged values.
struct Template {
    stem: String,
    yaml: serde_yaml::Value,
}

impl Template {
    fn resources(&self) -> impl Iterator<Item = (&str, &serde_yaml::Value)> {
        self.yaml["Resources"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter_map(|(name, body)| Some((name.as_str()?, body)))
    }

    fn of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a serde_yaml::Value)> + 'a {
        self.resources()
            .filter(move |(_, body)| body["Type"].as_str() == Some(kind))
    }
}

fn read_templates(dir: &Path, steps: &[Step]) -> Vec<Template> {
    steps
        .iter()
        .map(|step| {
            let path = dir.join(format!("{}.yaml", step.stem));
            let source = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            let yaml = serde_yaml::from_str(&source)
                .unwrap_or_else(|error| panic!("{} is not YAML: {error}", path.display()));
            Template {
                stem: step.stem.clone(),
                yaml,
            }
        })
        .collect()
}

/// A template value as JSON, with `!GetAtt <KmsKey>.Arn` resolved to the deployed key's ARN.
fn template_json(
    value: &serde_yaml::Value,
    template: &Template,
    alias_arns: &BTreeMap<String, String>,
) -> Json {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(*b),
        Y::Number(n) => serde_json::to_value(n).expect("number"),
        Y::String(s) => Json::String(s.clone()),
        Y::Sequence(items) => Json::Array(
            items
                .iter()
                .map(|item| template_json(item, template, alias_arns))
                .collect(),
        ),
        Y::Mapping(map) => Json::Object(
            map.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().expect("string keys").to_string(),
                        template_json(v, template, alias_arns),
                    )
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let target = tagged.value.as_str().unwrap_or_default();
            let logical = target.strip_suffix(".Arn");
            let resolved = (tagged.tag == "GetAtt")
                .then_some(logical)
                .flatten()
                .and_then(|logical| {
                    template.of_type("AWS::KMS::Alias").find_map(|(_, alias)| {
                        let points_here = matches!(
                            &alias["Properties"]["TargetKeyId"],
                            Y::Tagged(t) if t.tag == "Ref" && t.value.as_str() == Some(logical)
                        );
                        points_here
                            .then(|| alias["Properties"]["AliasName"].as_str())
                            .flatten()
                            .and_then(|name| alias_arns.get(name))
                    })
                });
            match resolved {
                Some(arn) => Json::String(arn.clone()),
                // Not deployed (order checks read templates only): a value no deployed
                // setting can equal, so a comparison that needed it fails loudly.
                None => Json::String(format!(
                    "unresolved {}{target} in {}",
                    tagged.tag, template.stem
                )),
            }
        }
    }
}

/// Removes `Tags` from every `AWS::KMS::Key` of the template file (text edit, so everything
/// else stays byte for byte as generated). Returns the keys' tags as they were.
/// The emulator's copy of a template with every `KeyPolicy` mapping written as a JSON string:
/// the emulator's KMS fails (HTTP 500 on `describe-key`) on a key policy given as a mapping,
/// which CloudFormation itself accepts. Returns how many key policies were rewritten.
fn key_policies_as_strings(path: &Path) -> usize {
    const FIELD: &str = "      KeyPolicy:";
    let source = std::fs::read_to_string(path).expect("template");
    let lines: Vec<&str> = source.lines().collect();
    let mut out: Vec<String> = Vec::new();
    let mut rewritten = 0;
    let mut index = 0;
    while index < lines.len() {
        if lines[index] != FIELD {
            out.push(lines[index].to_string());
            index += 1;
            continue;
        }
        let mut block = Vec::new();
        index += 1;
        while index < lines.len() && lines[index].starts_with("        ") {
            block.push(&lines[index][8..]);
            index += 1;
        }
        let policy: Json = serde_yaml::from_str(&block.join("\n")).expect("key policy YAML");
        let text = serde_json::to_string(&policy).expect("JSON");
        out.push(format!("{FIELD} '{}'", text.replace('\'', "''")));
        rewritten += 1;
    }
    std::fs::write(path, out.join("\n") + "\n").expect("template written");
    rewritten
}

fn strip_key_tags(path: &Path) -> BTreeMap<String, Vec<(String, String)>> {
    let source = std::fs::read_to_string(path).expect("template");
    let yaml: serde_yaml::Value = serde_yaml::from_str(&source).expect("template YAML");
    let mut removed = BTreeMap::new();
    let mut lines: Vec<&str> = source.lines().collect();
    let keys: Vec<String> = yaml["Resources"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter(|(_, body)| body["Type"].as_str() == Some("AWS::KMS::Key"))
        .filter_map(|(name, _)| name.as_str().map(String::from))
        .collect();
    for key in keys {
        let tags = yaml["Resources"][key.as_str()]["Properties"]["Tags"]
            .as_sequence()
            .map(|tags| {
                tags.iter()
                    .map(|tag| {
                        (
                            tag["Key"].as_str().unwrap_or_default().to_string(),
                            tag["Value"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if tags.is_empty() {
            continue;
        }
        let start = lines
            .iter()
            .position(|line| *line == format!("  {key}:"))
            .expect("resource line");
        let tags_line = (start + 1..lines.len())
            .take_while(|&i| lines[i].starts_with("    ") || lines[i].is_empty())
            .find(|&i| lines[i] == "      Tags:")
            .expect("Tags line of the key");
        let end = (tags_line + 1..lines.len())
            .find(|&i| !lines[i].starts_with("        "))
            .unwrap_or(lines.len());
        lines.drain(tags_line..end);
        removed.insert(key, tags);
    }
    let mut edited = lines.join("\n");
    edited.push('\n');
    std::fs::write(path, edited).expect("edited template");
    removed
}

// ---------------------------------------------------------------------------------------------
// Checks shared by both targets

/// One setting read back from the emulator and compared with what the scenario asks for.
struct Check {
    what: String,
    read: ApiCall,
    /// The comparable part of a successful response (an error reads as `null`).
    pick: Box<dyn Fn(&Json) -> Json>,
    expected: Json,
    /// CloudFormation only: how to apply the generated template's own setting through the
    /// service API, when the template declares it.
    cover: Option<(ApiCall, String)>,
}

/// A deployed example: where to look, and what the deployment produced.
struct Deployed<'a> {
    example: &'a Example,
    target: Target,
    profiles: Profiles,
    /// Scenario key name → deployed key ARN.
    key_arns: BTreeMap<String, String>,
    /// CloudFormation only: the generated templates, as generated.
    templates: Vec<Template>,
    /// The policies as the AWS CLI prints them, for `crossgrant explain`.
    policies: tempfile::TempDir,
}

impl<'a> Deployed<'a> {
    fn new(
        example: &'a Example,
        target: Target,
        profiles: Profiles,
        templates: Vec<Template>,
    ) -> Deployed<'a> {
        let scenario = example.scenario();
        let lookups: Vec<ApiCall> = scenario
            .keys
            .values()
            .map(|key| {
                ApiCall::new(
                    example.profile(&key.account),
                    &key.region,
                    "kms",
                    "describe_key",
                    json!({ "KeyId": format!("alias/{}", key.alias) }),
                )
            })
            .collect();
        let key_arns = scenario
            .keys
            .keys()
            .zip(profiles.api(&lookups))
            .map(|(name, result)| {
                let found = result.unwrap_or_else(|error| {
                    panic!("{}: key {name} not found: {error:?}", example.name)
                });
                let arn = found["KeyMetadata"]["Arn"].as_str().expect("key ARN");
                (name.clone(), arn.to_string())
            })
            .collect();
        Deployed {
            example,
            target,
            profiles,
            key_arns,
            templates,
            policies: tempfile::tempdir().expect("policy directory"),
        }
    }

    fn scenario(&self) -> &Scenario {
        self.example.scenario()
    }

    fn alias_arns(&self) -> BTreeMap<String, String> {
        self.scenario()
            .keys
            .values()
            .map(|key| {
                (
                    format!("alias/{}", key.alias),
                    self.key_arns[&key.name].clone(),
                )
            })
            .collect()
    }

    /// A lowered document as AWS holds it once deployed: references resolved to real ARNs.
    fn expected(&self, document: &PolicyDocument) -> Json {
        document.to_typed_json(&|reference| match reference {
            Ref::KeyArn(key) => json!(self.key_arns[key]),
            Ref::RoleArn(role) => json!(self.scenario().role_arn(role)),
            Ref::InstanceProfile(instance) => json!(instance),
        })
    }

    fn context(&self, what: &str) -> String {
        format!("{} ({}): {what}", self.example.name, self.target.as_str())
    }

    /// A property of the template resource of type `kind` whose `name_property` is `name`.
    fn template_property(
        &self,
        kind: &str,
        name_property: &str,
        name: &str,
        property: &str,
    ) -> Option<Json> {
        let alias_arns = self.alias_arns();
        self.templates.iter().find_map(|template| {
            template.of_type(kind).find_map(|(_, body)| {
                let properties = &body["Properties"];
                (properties[name_property].as_str() == Some(name))
                    .then(|| properties.get(property))
                    .flatten()
                    .map(|value| template_json(value, template, &alias_arns))
            })
        })
    }

    /// A property of the `AWS::KMS::Key` that the template's alias `alias/<alias>` points at.
    fn key_property(&self, alias: &str, property: &str) -> Option<Json> {
        let alias_name = format!("alias/{alias}");
        let alias_arns = self.alias_arns();
        self.templates.iter().find_map(|template| {
            let (_, alias) = template.of_type("AWS::KMS::Alias").find(|(_, body)| {
                body["Properties"]["AliasName"].as_str() == Some(alias_name.as_str())
            })?;
            let serde_yaml::Value::Tagged(target) = &alias["Properties"]["TargetKeyId"] else {
                return None;
            };
            let key = &template.yaml["Resources"][target.value.as_str()?];
            key["Properties"]
                .get(property)
                .map(|value| template_json(value, template, &alias_arns))
        })
    }

    /// The document of the `AWS::S3::BucketPolicy` attached to bucket `name`.
    fn bucket_policy_property(&self, name: &str) -> Option<Json> {
        let alias_arns = self.alias_arns();
        self.templates.iter().find_map(|template| {
            let (bucket, _) = template
                .of_type("AWS::S3::Bucket")
                .find(|(_, body)| body["Properties"]["BucketName"].as_str() == Some(name))?;
            template
                .of_type("AWS::S3::BucketPolicy")
                .find(|(_, body)| {
                    matches!(
                        &body["Properties"]["Bucket"],
                        serde_yaml::Value::Tagged(t)
                            if t.tag == "Ref" && t.value.as_str() == Some(bucket)
                    )
                })
                .map(|(_, body)| {
                    template_json(&body["Properties"]["PolicyDocument"], template, &alias_arns)
                })
        })
    }

    fn key_checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        for key in self.scenario().keys.values() {
            let profile = self.example.profile(&key.account);
            let arn = &self.key_arns[&key.name];
            let kms = |operation, mut params: Json| {
                params["KeyId"] = json!(arn);
                ApiCall::new(profile, &key.region, "kms", operation, params)
            };
            checks.push(Check {
                what: format!("the key policy of alias/{}", key.alias),
                read: kms("get_key_policy", json!({ "PolicyName": "default" })),
                pick: Box::new(|got| parse_embedded(&got["Policy"])),
                expected: self.expected(&self.example.lowered.key_policies[&key.name]),
                cover: None,
            });
            checks.push(Check {
                what: format!("the rotation of key alias/{}", key.alias),
                read: kms("get_key_rotation_status", json!({})),
                pick: Box::new(|got| got["KeyRotationEnabled"].clone()),
                expected: json!(key.rotation),
                cover: None,
            });
            let cover = self.key_property(&key.alias, "Tags").map(|tags| {
                let tags: Vec<Json> = tags
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|tag| json!({ "TagKey": tag["Key"], "TagValue": tag["Value"] }))
                    .collect();
                (
                    kms("tag_resource", json!({ "Tags": tags })),
                    "`aws kms tag-resource` with the template's Tags".to_string(),
                )
            });
            checks.push(Check {
                what: format!("the tags of key alias/{}", key.alias),
                read: kms("list_resource_tags", json!({})),
                pick: Box::new(|got| tag_map(&got["Tags"], "TagKey", "TagValue")),
                expected: json!(key.tags),
                cover,
            });
        }
        checks
    }

    fn bucket_checks(&self) -> Vec<Check> {
        let mut checks = Vec::new();
        for bucket in self.scenario().buckets.values() {
            let profile = self.example.profile(&bucket.account);
            let name = bucket.bucket_name.as_str();
            let s3 = |operation, mut params: Json| {
                params["Bucket"] = json!(name);
                ApiCall::new(profile, &bucket.region, "s3", operation, params)
            };
            let declared =
                |property| self.template_property("AWS::S3::Bucket", "BucketName", name, property);
            let how = |command: &str, property: &str| {
                format!("`aws s3api {command}` with the template's {property}")
            };

            let mut default = json!({ "SSEAlgorithm": "aws:kms" });
            if let Some(key) = bucket.key() {
                default["KMSMasterKeyID"] = json!(self.key_arns[key]);
            }
            checks.push(Check {
                what: format!("the default encryption of bucket {name}"),
                read: s3("get_bucket_encryption", json!({})),
                pick: Box::new(|got| got["ServerSideEncryptionConfiguration"].clone()),
                expected: json!({ "Rules": [{
                    "ApplyServerSideEncryptionByDefault": default,
                    "BucketKeyEnabled": bucket.bucket_key,
                }]}),
                cover: declared("BucketEncryption").map(|declared| {
                    let rules: Vec<Json> = declared["ServerSideEncryptionConfiguration"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|rule| {
                            json!({
                                "ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
                                "BucketKeyEnabled": rule["BucketKeyEnabled"],
                            })
                        })
                        .collect();
                    (
                        s3(
                            "put_bucket_encryption",
                            json!({ "ServerSideEncryptionConfiguration": { "Rules": rules } }),
                        ),
                        how("put-bucket-encryption", "BucketEncryption"),
                    )
                }),
            });
            checks.push(Check {
                what: format!("the object ownership of bucket {name}"),
                read: s3("get_bucket_ownership_controls", json!({})),
                pick: Box::new(|got| got["OwnershipControls"].clone()),
                expected: json!({ "Rules": [{ "ObjectOwnership": bucket.object_ownership.as_str() }] }),
                cover: declared("OwnershipControls").map(|declared| {
                    (
                        s3("put_bucket_ownership_controls", json!({ "OwnershipControls": declared })),
                        how("put-bucket-ownership-controls", "OwnershipControls"),
                    )
                }),
            });
            checks.push(Check {
                what: format!("the public access block of bucket {name}"),
                read: s3("get_public_access_block", json!({})),
                pick: Box::new(|got| got["PublicAccessBlockConfiguration"].clone()),
                expected: json!({
                    "BlockPublicAcls": true,
                    "IgnorePublicAcls": true,
                    "BlockPublicPolicy": true,
                    "RestrictPublicBuckets": true,
                }),
                cover: declared("PublicAccessBlockConfiguration").map(|declared| {
                    (
                        s3(
                            "put_public_access_block",
                            json!({ "PublicAccessBlockConfiguration": declared }),
                        ),
                        how("put-public-access-block", "PublicAccessBlockConfiguration"),
                    )
                }),
            });
            checks.push(Check {
                what: format!("the versioning of bucket {name}"),
                read: s3("get_bucket_versioning", json!({})),
                pick: Box::new(|got| got["Status"].clone()),
                expected: json!("Enabled"),
                cover: declared("VersioningConfiguration").map(|declared| {
                    (
                        s3(
                            "put_bucket_versioning",
                            json!({ "VersioningConfiguration": declared }),
                        ),
                        how("put-bucket-versioning", "VersioningConfiguration"),
                    )
                }),
            });
            let expected = self
                .example
                .lowered
                .bucket_policies
                .get(&bucket.name)
                .map_or(Json::Null, |document| self.expected(document));
            checks.push(Check {
                what: format!("the bucket policy of {name}"),
                read: s3("get_bucket_policy", json!({})),
                pick: Box::new(|got| parse_embedded(&got["Policy"])),
                expected,
                cover: self.bucket_policy_property(name).map(|declared| {
                    (
                        s3(
                            "put_bucket_policy",
                            json!({ "Policy": declared.to_string() }),
                        ),
                        how("put-bucket-policy", "AWS::S3::BucketPolicy document"),
                    )
                }),
            });
        }
        checks
    }

    fn role_checks(&self) -> Vec<Check> {
        let scenario = self.scenario();
        let lowered = &self.example.lowered;
        let policy_name = crossgrant::names::access_policy_name(&scenario.name);
        let mut checks = Vec::new();
        for role in scenario.roles.values() {
            let iam = |operation, params| {
                ApiCall::new(
                    self.example.profile(&role.account),
                    &scenario.region,
                    "iam",
                    operation,
                    params,
                )
            };
            let get_role = iam("get_role", json!({ "RoleName": role.role_name }));
            checks.push(Check {
                what: format!("the ARN of role {}", role.role_name),
                read: get_role.clone(),
                pick: Box::new(|got| got["Role"]["Arn"].clone()),
                expected: json!(scenario.role_arn(&role.name)),
                cover: None,
            });
            checks.push(Check {
                what: format!("the trust policy of role {}", role.role_name),
                read: get_role,
                pick: Box::new(|got| parse_embedded(&got["Role"]["AssumeRolePolicyDocument"])),
                expected: self.expected(&lowered.trust_policies[&role.name]),
                cover: None,
            });
            let parts = access_parts(lowered, &role.name);
            let inline = parts.iter().find(|part| part.managed.is_none());
            checks.push(Check {
                what: format!("the inline policies of role {}", role.role_name),
                read: iam("list_role_policies", json!({ "RoleName": role.role_name })),
                pick: Box::new(|got| got["PolicyNames"].clone()),
                expected: json!(inline.map(|_| &policy_name).into_iter().collect::<Vec<_>>()),
                cover: None,
            });
            if let Some(part) = inline {
                checks.push(Check {
                    what: format!("the identity policy of role {}", role.role_name),
                    read: iam(
                        "get_role_policy",
                        json!({ "RoleName": role.role_name, "PolicyName": policy_name }),
                    ),
                    pick: Box::new(|got| parse_embedded(&got["PolicyDocument"])),
                    expected: self.expected(part.document),
                    cover: None,
                });
            }
            let mut attached: Vec<String> = parts
                .iter()
                .filter_map(|part| part.managed.clone())
                .chain(
                    role.managed_policy_arns
                        .iter()
                        .map(|arn| arn.rsplit('/').next().unwrap_or_default().to_string()),
                )
                .collect();
            attached.sort();
            checks.push(Check {
                what: format!("the managed policies attached to role {}", role.role_name),
                read: iam(
                    "list_attached_role_policies",
                    json!({ "RoleName": role.role_name }),
                ),
                pick: Box::new(|got| {
                    let mut names: Vec<Json> = got["AttachedPolicies"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|policy| policy["PolicyName"].clone())
                        .collect();
                    names.sort_by_key(|name| name.to_string());
                    json!(names)
                }),
                expected: json!(attached),
                cover: None,
            });
            for part in &parts {
                let Some(name) = part.managed.clone() else {
                    continue;
                };
                checks.push(Check {
                    what: format!("managed access policy {name} of role {}", role.role_name),
                    read: iam(
                        "get_account_authorization_details",
                        json!({ "Filter": ["LocalManagedPolicy"] }),
                    ),
                    pick: Box::new(move |got| {
                        let policy = got["Policies"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            // By ARN: the emulator's listing leaves out PolicyName.
                            .find(|policy| {
                                policy["Arn"]
                                    .as_str()
                                    .is_some_and(|arn| arn.ends_with(&format!(":policy/{name}")))
                            });
                        policy
                            .and_then(|policy| policy["PolicyVersionList"].as_array())
                            .into_iter()
                            .flatten()
                            .find(|version| version["IsDefaultVersion"] == true)
                            .map(|version| parse_embedded(&version["Document"]))
                            .unwrap_or(Json::Null)
                    }),
                    expected: self.expected(part.document),
                    cover: None,
                });
            }
            if role.instance_profile {
                checks.push(Check {
                    what: format!("the instance profile of role {}", role.role_name),
                    read: iam(
                        "get_instance_profile",
                        json!({ "InstanceProfileName": role.role_name }),
                    ),
                    pick: Box::new(|got| {
                        let profile = &got["InstanceProfile"];
                        json!([profile["Path"], profile["Roles"][0]["RoleName"]])
                    }),
                    expected: json!([role.path, role.role_name]),
                    cover: None,
                });
            }
        }
        for instance in scenario.instances.values() {
            let role = &scenario.roles[&instance.role];
            let profile_arn = format!(
                "arn:aws:iam::{}:instance-profile{}{}",
                scenario.account(&instance.account).id,
                role.path,
                role.role_name
            );
            let wanted = profile_arn.clone();
            checks.push(Check {
                what: format!("the running instances with profile {profile_arn}"),
                read: ApiCall::new(
                    self.example.profile(&instance.account),
                    &instance.region,
                    "ec2",
                    "describe_instances",
                    json!({ "Filters": [{ "Name": "instance-state-name", "Values": ["running"] }] }),
                ),
                pick: Box::new(move |got| {
                    let types: Vec<Json> = got["Reservations"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .flat_map(|r| r["Instances"].as_array().into_iter().flatten())
                        .filter(|found| found["IamInstanceProfile"]["Arn"] == json!(wanted))
                        .map(|found| found["InstanceType"].clone())
                        .collect();
                    json!(types)
                }),
                expected: json!([instance.instance_type]),
                cover: None,
            });
        }
        checks
    }

    /// Reads every setting back; after a CloudFormation deploy, a wrong setting that the
    /// template declares is an emulator gap: reported, applied through the service API from the
    /// template, and read back again. Anything else wrong fails the test.
    fn run_checks(&self, checks: Vec<Check>, report: &mut Report) {
        let read = |checks: &[&Check]| -> Vec<Json> {
            let calls: Vec<ApiCall> = checks.iter().map(|check| check.read.clone()).collect();
            self.profiles
                .api(&calls)
                .into_iter()
                .zip(checks)
                .map(|(result, check)| result.map_or(Json::Null, |got| (check.pick)(&got)))
                .collect()
        };
        let all: Vec<&Check> = checks.iter().collect();
        let live = read(&all);
        let mut wrong: Vec<(&Check, Json)> = all
            .into_iter()
            .zip(live)
            .filter(|(check, got)| got != &check.expected)
            .collect();
        if wrong.is_empty() {
            return;
        }
        let cannot_cover = |wrong: &[(&Check, Json)]| {
            wrong
                .iter()
                .map(|(check, got)| {
                    format!(
                        "{}\n  read back: {got}\n  expected:  {}",
                        self.context(&check.what),
                        check.expected
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let uncoverable: Vec<(&Check, Json)> = wrong
            .iter()
            .filter(|(check, _)| self.target == Target::Terraform || check.cover.is_none())
            .cloned()
            .collect();
        assert!(
            uncoverable.is_empty(),
            "deployed settings differ from the scenario:\n{}",
            cannot_cover(&uncoverable)
        );
        let covers: Vec<ApiCall> = wrong
            .iter()
            .filter_map(|(check, got)| {
                let (call, how) = check.cover.as_ref()?;
                report.gap(format!(
                    "after a CloudFormation deploy the emulator reports {} as {got}; covered by {how}",
                    check.what
                ));
                Some(call.clone())
            })
            .collect();
        for (result, call) in self.profiles.api(&covers).into_iter().zip(&covers) {
            if let Err(error) = result {
                panic!("{}: {call:?} failed: {error:?}", self.example.name);
            }
        }
        let again = read(&wrong.iter().map(|(check, _)| *check).collect::<Vec<_>>());
        for ((_, got), now) in wrong.iter_mut().zip(again) {
            *got = now;
        }
        wrong.retain(|(check, got)| got != &check.expected);
        assert!(
            wrong.is_empty(),
            "deployed settings still differ after applying the template's settings:\n{}",
            cannot_cover(&wrong)
        );
    }

    /// Acts as each granted role, as the blog's EC2 instance does, with the AWS CLI: writers
    /// upload an object and read it back (the owner reads it for write-only grants); for
    /// read-only grants the owner uploads and the role reads. The object must round-trip and
    /// be encrypted with the owner's key.
    fn use_grants(&mut self) {
        let scenario = self.scenario().clone();
        let roles: Vec<_> = scenario.roles.values().collect();
        let assumed = self.profiles.api(
            &roles
                .iter()
                .map(|role| {
                    ApiCall::new(
                        self.example.profile(&role.account),
                        &scenario.region,
                        "sts",
                        "assume_role",
                        json!({
                            "RoleArn": scenario.role_arn(&role.name),
                            "RoleSessionName": format!("crossgrant-e2e-{}", role.name),
                        }),
                    )
                })
                .collect::<Vec<_>>(),
        );
        for (role, result) in roles.iter().zip(assumed) {
            let got = result.unwrap_or_else(|error| panic!("assuming {}: {error:?}", role.name));
            let arn = got["AssumedRoleUser"]["Arn"].as_str().unwrap_or_default();
            assert!(
                arn.contains(&format!("assumed-role/{}/", role.role_name)),
                "assumed identity {arn}"
            );
            self.profiles.add_assumed(
                &format!("as-{}", role.name),
                &scenario.account(&role.account).id,
                &scenario.region,
                &got["Credentials"],
            );
        }

        struct Trip {
            what: String,
            bucket: String,
            content: String,
            put: Vec<String>,
            get: Vec<String>,
            back: PathBuf,
        }
        let dir = tempfile::tempdir().expect("object directory");
        let trips: Vec<Trip> = scenario
            .grants
            .iter()
            .enumerate()
            .map(|(index, grant)| {
                let bucket = &scenario.buckets[&grant.bucket];
                let consumer = format!("as-{}", grant.role);
                let owner = self.example.profile(&bucket.account).to_string();
                let object = format!("{}crossgrant-e2e/{}-{index}.txt", grant.prefix, grant.role);
                let body = dir.path().join(format!("{index}.txt"));
                let content = format!(
                    "{} via {}, grant {index}\n",
                    scenario.role_arn(&grant.role),
                    self.target.as_str()
                );
                std::fs::write(&body, &content).expect("object body");
                let (writer, reader) = match (grant.access.writes(), grant.access.reads()) {
                    (true, true) => (consumer.clone(), consumer.clone()),
                    (true, false) => (consumer.clone(), owner.clone()),
                    _ => (owner.clone(), consumer.clone()),
                };
                let location = [
                    "--bucket",
                    &bucket.bucket_name,
                    "--key",
                    &object,
                    "--region",
                    &bucket.region,
                ];
                let mut put = args(&["s3api", "put-object"]);
                put.extend(args(&location));
                put.extend(args(&[
                    "--body",
                    body.to_str().expect("path"),
                    "--profile",
                    &writer,
                ]));
                if writer == consumer && bucket.object_ownership.acls_enabled() {
                    // As in the blog: the writer hands the owner full control of its object.
                    put.extend(args(&["--acl", "bucket-owner-full-control"]));
                }
                let back = dir.path().join(format!("{index}.back"));
                let mut get = args(&["s3api", "get-object"]);
                get.extend(args(&location));
                get.extend(args(&[back.to_str().expect("path"), "--profile", &reader]));
                Trip {
                    what: format!(
                        "s3://{}/{object} written as {writer}, read as {reader}",
                        bucket.bucket_name
                    ),
                    bucket: grant.bucket.clone(),
                    content,
                    put,
                    get,
                    back,
                }
            })
            .collect();
        let written = self.profiles.json_all(
            &trips
                .iter()
                .map(|trip| trip.put.clone())
                .collect::<Vec<_>>(),
        );
        let read = self.profiles.json_all(
            &trips
                .iter()
                .map(|trip| trip.get.clone())
                .collect::<Vec<_>>(),
        );
        for ((trip, written), read) in trips.iter().zip(written).zip(read) {
            let (written, read) = (ok(written), ok(read));
            assert_eq!(
                std::fs::read_to_string(&trip.back).ok().as_deref(),
                Some(trip.content.as_str()),
                "{}",
                self.context(&format!("{}: content", trip.what))
            );
            let key = scenario.buckets[&trip.bucket].key();
            let expected = match key {
                Some(key) => json!(["aws:kms", self.key_arns[key]]),
                None => json!(["aws:kms", null]),
            };
            for response in [&written, &read] {
                assert_eq!(
                    json!([response["ServerSideEncryption"], response["SSEKMSKeyId"]]),
                    expected,
                    "{}: {response:#}",
                    self.context(&format!("{}: encrypted with the owner's key", trip.what))
                );
            }
        }
    }

    /// Reads the three kinds of policy back with the AWS CLI, as someone debugging a live setup
    /// would, keeps what it prints for `crossgrant explain`, and compares the documents with the
    /// lowered ones.
    fn fetch_policies(&self) {
        let scenario = self.scenario();
        let lowered = &self.example.lowered;
        let mut calls = Vec::new();
        let mut expected = Vec::new();
        for (bucket, document) in &lowered.bucket_policies {
            let bucket = &scenario.buckets[bucket];
            calls.push(args(&[
                "s3api",
                "get-bucket-policy",
                "--bucket",
                &bucket.bucket_name,
                "--profile",
                self.example.profile(&bucket.account),
                "--region",
                &bucket.region,
            ]));
            expected.push((bucket_policy_file(&bucket.name), "Policy", document));
        }
        for (key, document) in &lowered.key_policies {
            let key = &scenario.keys[key];
            calls.push(args(&[
                "kms",
                "get-key-policy",
                "--key-id",
                &self.key_arns[&key.name],
                "--policy-name",
                "default",
                "--profile",
                self.example.profile(&key.account),
                "--region",
                &key.region,
            ]));
            expected.push((key_policy_file(&key.name), "Policy", document));
        }
        let policy_name = crossgrant::names::access_policy_name(&scenario.name);
        // A managed policy is read at its default version, which `get-policy` names.
        let mut managed = Vec::new();
        for role in lowered.role_policies.keys() {
            let role = &scenario.roles[role];
            for part in access_parts(lowered, &role.name) {
                let account = scenario.account(&role.account);
                match &part.managed {
                    None => {
                        calls.push(args(&[
                            "iam",
                            "get-role-policy",
                            "--role-name",
                            &role.role_name,
                            "--policy-name",
                            &policy_name,
                            "--profile",
                            self.example.profile(&role.account),
                        ]));
                        expected.push((part.file, "PolicyDocument", part.document));
                    }
                    Some(name) => managed.push((
                        account
                            .partition
                            .iam_arn(&account.id, &format!("policy/{name}")),
                        self.example.profile(&role.account),
                        part,
                    )),
                }
            }
        }
        let versions = self.profiles.json_all(
            &managed
                .iter()
                .map(|(arn, profile, _)| {
                    args(&[
                        "iam",
                        "get-policy",
                        "--policy-arn",
                        arn,
                        "--profile",
                        profile,
                    ])
                })
                .collect::<Vec<_>>(),
        );
        for ((arn, profile, part), version) in managed.into_iter().zip(versions) {
            let version = ok(version)["Policy"]["DefaultVersionId"].clone();
            calls.push(args(&[
                "iam",
                "get-policy-version",
                "--policy-arn",
                &arn,
                "--version-id",
                version.as_str().expect("a default version"),
                "--profile",
                profile,
            ]));
            expected.push((part.file, "PolicyVersion", part.document));
        }
        for ((file, field, document), result) in
            expected.into_iter().zip(self.profiles.json_all(&calls))
        {
            let raw = ok(result);
            let printed = match field {
                "PolicyVersion" => &raw[field]["Document"],
                _ => &raw[field],
            };
            assert_eq!(
                parse_embedded(printed),
                self.expected(document),
                "{}",
                self.context(&format!("{file} as the AWS CLI prints it"))
            );
            std::fs::write(self.policies.path().join(&file), raw.to_string()).expect("policy file");
        }
    }

    /// Asks `crossgrant explain`, given the policies exactly as the AWS CLI printed them from
    /// the emulator, about each grant: what the grant allows must be Allowed (exit 0), and
    /// requests it does not cover must be Denied (exit 1): an action no access level grants,
    /// the access level the grant lacks, an object outside its prefix, and the same request
    /// from another role of the consumer account.
    fn explain_grants(&self) {
        let scenario = self.scenario();
        let file = |name: String| self.policies.path().join(name);
        let mut asked = 0;
        for (index, grant) in scenario.grants.iter().enumerate() {
            let bucket = &scenario.buckets[&grant.bucket];
            let role_arn = scenario.role_arn(&grant.role);
            let object = format!("{}crossgrant-e2e/{}-{index}.txt", grant.prefix, grant.role);
            let ask = |principal: &str, action: &str, object: Option<&str>| -> (i32, String) {
                let mut command = common::command();
                command.args([
                    "explain",
                    "--principal",
                    principal,
                    "--action",
                    action,
                    "--bucket",
                    &bucket.bucket_name,
                ]);
                match object {
                    Some(object) => command.args(["--key", object]),
                    None if grant.prefix.is_empty() => &mut command,
                    None => command.args(["--prefix", &grant.prefix]),
                };
                // Every layer that decides the request is stated: `explain` refuses to answer
                // without one.
                match bucket.key() {
                    Some(key) => command.args(["--kms-key-arn", &self.key_arns[key]]),
                    None => command.args([
                        "--aws-managed-key",
                        "--bucket-account",
                        &scenario.account(&bucket.account).id,
                        "--region",
                        &bucket.region,
                    ]),
                };
                if bucket.bucket_key {
                    command.arg("--bucket-key");
                }
                if self
                    .example
                    .lowered
                    .bucket_policies
                    .contains_key(&bucket.name)
                {
                    command
                        .arg("--bucket-policy")
                        .arg(file(bucket_policy_file(&bucket.name)));
                } else {
                    command.arg("--no-bucket-policy");
                }
                if let Some(key) = bucket.key() {
                    command.arg("--key-policy").arg(file(key_policy_file(key)));
                }
                for part in access_parts(&self.example.lowered, &grant.role) {
                    command.arg("--identity-policy").arg(file(part.file));
                }
                let output = command.output().expect("crossgrant explain runs");
                (output.status.code().unwrap_or(-1), describe(&output))
            };
            let mut expect =
                |principal: &str, action: &str, object: Option<&str>, allowed: bool| {
                    let (code, output) = ask(principal, action, object);
                    asked += 1;
                    assert_eq!(
                        code,
                        if allowed { 0 } else { 1 },
                        "{}",
                        self.context(&format!(
                        "crossgrant explain {principal} {action} s3://{}/{} should be {}\n{output}",
                        bucket.bucket_name,
                        object.unwrap_or(""),
                        if allowed { "Allowed" } else { "Denied" }
                    ))
                    );
                };
            // Other grants of the same role on the same bucket may cover more.
            let granted = |action: &str, object: &str| {
                scenario.grants.iter().any(|other| {
                    other.role == grant.role
                        && other.bucket == grant.bucket
                        && object.starts_with(&other.prefix)
                        && match action {
                            "s3:GetObject" => other.access.reads(),
                            _ => other.access.writes(),
                        }
                })
            };
            let reads = grant.access.reads();
            expect(
                &role_arn,
                "s3:GetObject",
                Some(&object),
                granted("s3:GetObject", &object),
            );
            expect(
                &role_arn,
                "s3:PutObject",
                Some(&object),
                granted("s3:PutObject", &object),
            );
            if reads {
                expect(&role_arn, "s3:ListBucket", None, true);
            }
            expect(&role_arn, "s3:DeleteObject", Some(&object), false);
            if !grant.prefix.is_empty() {
                let outside = format!(
                    "outside-{}crossgrant-e2e.txt",
                    grant.prefix.trim_end_matches('/')
                );
                let action = if reads {
                    "s3:GetObject"
                } else {
                    "s3:PutObject"
                };
                expect(&role_arn, action, Some(&outside), granted(action, &outside));
            }
            let stranger = format!(
                "arn:aws:iam::{}:role/crossgrant-e2e-not-granted",
                scenario.account(&scenario.roles[&grant.role].account).id
            );
            let action = if reads {
                "s3:GetObject"
            } else {
                "s3:PutObject"
            };
            expect(&stranger, action, Some(&object), false);
        }
        assert!(asked > 0, "{}", self.context("no grant to explain"));
    }

    /// The emulator is served over plain HTTP and applies a bucket policy's Deny statements
    /// without evaluating their conditions, so crossgrant's guardrails (TLS only, SSE-KMS
    /// with the bucket's own key) refuse every request there. Detected by an upload as the
    /// owner; covered by removing the Deny statements from the emulator's copy of the bucket
    /// policy (their content was already compared with the lowering, and `crossgrant check`
    /// proves their effect).
    fn relax_guardrails_for_emulator(&self, report: &mut Report) {
        let scenario = self.scenario();
        let dir = tempfile::tempdir().expect("probe directory");
        let body = dir.path().join("probe.txt");
        std::fs::write(&body, "guardrail probe\n").expect("probe body");
        for bucket in scenario.buckets.values() {
            let Some(policy) = self.example.lowered.bucket_policies.get(&bucket.name) else {
                continue;
            };
            if !policy
                .statements
                .iter()
                .any(|statement| statement.effect == crossgrant::policy::Effect::Deny)
            {
                continue;
            }
            let owner = self.example.profile(&bucket.account).to_string();
            let location = [
                "--bucket",
                bucket.bucket_name.as_str(),
                "--region",
                bucket.region.as_str(),
                "--profile",
                owner.as_str(),
            ];
            let mut put = args(&["s3api", "put-object", "--key", "crossgrant-e2e/probe.txt"]);
            put.extend(args(&["--body", body.to_str().expect("path")]));
            put.extend(args(&location));
            if self.profiles.json_all(&[put]).remove(0).is_ok() {
                continue;
            }
            let mut get = args(&["s3api", "get-bucket-policy"]);
            get.extend(args(&location));
            let fetched = ok(self.profiles.json_all(&[get]).remove(0));
            let mut document = parse_embedded(&fetched["Policy"]);
            let statements = match document["Statement"].take() {
                Json::Array(items) => items,
                single => vec![single],
            };
            let (denies, kept): (Vec<Json>, Vec<Json>) = statements
                .into_iter()
                .partition(|statement| statement["Effect"] == "Deny");
            let sids: Vec<String> = denies
                .iter()
                .map(|statement| statement["Sid"].as_str().unwrap_or("(no Sid)").to_string())
                .collect();
            let command = if kept.is_empty() {
                let mut delete = args(&["s3api", "delete-bucket-policy"]);
                delete.extend(args(&location));
                delete
            } else {
                document["Statement"] = Json::Array(kept);
                let mut put_policy = args(&["s3api", "put-bucket-policy", "--policy"]);
                put_policy.push(document.to_string());
                put_policy.extend(args(&location));
                put_policy
            };
            let _ = self.profiles.json_all(&[command]).remove(0);
            report.gap(format!(
                "an upload to {} as its owner is refused: the emulator is plain HTTP and applies \
                 Deny statements without their conditions; removed {} from its copy of the bucket \
                 policy before acting as the consumers (crossgrant check proves them)",
                bucket.bucket_name,
                sids.join(", ")
            ));
        }
    }

    fn verify(&mut self, report: &mut Report) {
        let what = format!("{} ({})", self.example.name, self.target.as_str());
        report.time(format!("{what}: settings read back"), |report| {
            let mut checks = self.key_checks();
            checks.extend(self.bucket_checks());
            checks.extend(self.role_checks());
            self.run_checks(checks, report);
        });
        report.time(format!("{what}: policies fetched with the AWS CLI"), |_| {
            self.fetch_policies()
        });
        report.time(
            format!("{what}: crossgrant explain on the fetched policies"),
            |_| self.explain_grants(),
        );
        report.time(format!("{what}: emulator guardrail probe"), |report| {
            self.relax_guardrails_for_emulator(report)
        });
        report.time(format!("{what}: objects as the consumer roles"), |_| {
            self.use_grants()
        });
    }
}

fn bucket_policy_file(bucket: &str) -> String {
    format!("bucket-{bucket}.policy.json")
}

fn key_policy_file(key: &str) -> String {
    format!("key-{key}.policy.json")
}

fn role_policy_file(role: &str) -> String {
    format!("role-{role}.policy.json")
}

/// The document of the one managed access policy crossgrant attaches to the role named
/// `role_name`, read back as someone debugging a live setup would: the attached policies, the
/// policy's default version, that version's document.
fn managed_access_policy(profiles: &Profiles, profile: &str, role_name: &str) -> Json {
    let attached = ok(profiles.json(&[
        "iam",
        "list-attached-role-policies",
        "--role-name",
        role_name,
        "--profile",
        profile,
    ]));
    let arns: Vec<&str> = attached["AttachedPolicies"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|policy| {
            policy["PolicyName"]
                .as_str()
                .is_some_and(|name| name.starts_with("crossgrant-"))
        })
        .filter_map(|policy| policy["PolicyArn"].as_str())
        .collect();
    let [arn] = arns[..] else {
        panic!("role {role_name} has not one crossgrant access policy attached: {attached}");
    };
    let policy = ok(profiles.json(&[
        "iam",
        "get-policy",
        "--policy-arn",
        arn,
        "--profile",
        profile,
    ]));
    let version = policy["Policy"]["DefaultVersionId"]
        .as_str()
        .expect("a default version");
    let version = ok(profiles.json(&[
        "iam",
        "get-policy-version",
        "--policy-arn",
        arn,
        "--version-id",
        version,
        "--profile",
        profile,
    ]));
    parse_embedded(&version["PolicyVersion"]["Document"])
}

/// One of the documents a role's access is attached as: its inline policy, or a managed
/// policy (by name), with the file its copy as printed by the AWS CLI is kept in.
struct AccessPart<'a> {
    managed: Option<String>,
    document: &'a PolicyDocument,
    file: String,
}

/// The access policies of `role` as the units deploy them: the inline policy first, then the
/// managed policies in order.
fn access_parts<'a>(lowered: &'a Lowered, role: &str) -> Vec<AccessPart<'a>> {
    let mut parts = Vec::new();
    for resource in lowered.units.iter().flat_map(|unit| &unit.resources) {
        match resource {
            Resource::RolePolicy { role: name, policy } if name == role => {
                parts.insert(
                    0,
                    AccessPart {
                        managed: None,
                        document: policy,
                        file: role_policy_file(role),
                    },
                );
            }
            Resource::ManagedPolicy {
                role: name,
                number,
                policy,
            } if name == role => parts.push(AccessPart {
                managed: Some(crossgrant::names::managed_policy_name(
                    &lowered.scenario.name,
                    role,
                    *number,
                )),
                document: policy,
                file: format!("role-{role}-{number}.policy.json"),
            }),
            _ => {}
        }
    }
    parts
}

fn args(items: &[&str]) -> Vec<String> {
    items.iter().map(|item| item.to_string()).collect()
}

fn ok(result: Result<Json, CliError>) -> Json {
    result.unwrap_or_else(|error| panic!("{error}"))
}

/// A policy the CLI prints either as a JSON document or as a string holding one.
fn parse_embedded(value: &Json) -> Json {
    match value {
        Json::String(text) => serde_json::from_str(text)
            .unwrap_or_else(|error| panic!("not a JSON policy ({error}): {text}")),
        other => other.clone(),
    }
}

fn tag_map(tags: &Json, key: &str, value: &str) -> Json {
    let map: BTreeMap<String, Json> = tags
        .as_array()
        .into_iter()
        .flatten()
        .map(|tag| {
            (
                tag[key].as_str().unwrap_or_default().to_string(),
                tag[value].clone(),
            )
        })
        .collect();
    json!(map)
}

// ---------------------------------------------------------------------------------------------
// The two targets

fn deploy_cloudformation(moto: &Moto, name: &'static str, probe: &Probe, report: &mut Report) {
    let example = Example::synth(name, "cloudformation");
    moto.reset();
    let profiles = Profiles::issue(moto, &example.profiles());
    let dir = example.out.path().join("cloudformation");
    let templates = read_templates(&dir, &example.steps);
    for step in &example.steps {
        let path = dir.join(format!("{}.yaml", step.stem));
        if path.exists() && key_policies_as_strings(&path) > 0 {
            report.gap(format!(
                "{name} (cloudformation): the emulator's KMS fails on a KeyPolicy mapping (HTTP 500 on describe-key); {}.yaml is deployed with its key policies as JSON strings, the same documents",
                step.stem
            ));
        }
    }
    if probe.cfn_key_tags_fail {
        for step in &example.steps {
            let removed = strip_key_tags(&dir.join(format!("{}.yaml", step.stem)));
            for key in removed.keys() {
                eprintln!(
                    "{name} (cloudformation): deploying {}.yaml with the Tags of {key} removed (emulator gap, see above)",
                    step.stem
                );
            }
        }
    }
    let script = dir.join("deploy.sh");
    let run = |label: &str, report: &mut Report| {
        report.time(
            format!("{name} (cloudformation): deploy.sh, {label}"),
            |_| {
                let output = profiles
                    .command("bash")
                    .arg(&script)
                    .output()
                    .expect("bash runs deploy.sh");
                assert!(
                    output.status.success(),
                    "{name}: deploy.sh ({label}) failed\n{}\n{}",
                    describe(&output),
                    moto.log_tail(30)
                );
                text(&output.stdout)
            },
        )
    };
    run("first run", report);
    let second = run("second run", report);
    for step in &example.steps {
        let unchanged = [
            format!("{}: no changes", step.stack_name),
            format!("Stack {} is up to date", step.stack_name),
        ];
        assert!(
            unchanged.iter().any(|line| second.contains(line.as_str())),
            "{name}: the second run of deploy.sh changed stack {}:\n{second}",
            step.stack_name
        );
    }
    let statuses: Vec<ApiCall> = example
        .steps
        .iter()
        .map(|step| {
            ApiCall::new(
                example.profile(&step.id.account),
                &step.id.region,
                "cloudformation",
                "describe_stacks",
                json!({ "StackName": step.stack_name }),
            )
        })
        .collect();
    for (step, result) in example.steps.iter().zip(profiles.api(&statuses)) {
        let status = result.map(|got| got["Stacks"][0]["StackStatus"].clone());
        assert!(
            matches!(&status, Ok(status) if status == "CREATE_COMPLETE"),
            "{name}: stack {} of account {} is {status:?}",
            step.stack_name,
            step.id.account
        );
    }
    let mut deployed = Deployed::new(&example, Target::CloudFormation, profiles, templates);
    deployed.verify(report);
}

fn terraform_plugin_args() -> Vec<String> {
    let configured = std::env::var_os("TF_CLI_CONFIG_FILE")
        .map(PathBuf::from)
        .is_some_and(|path| path.is_file());
    if configured {
        return Vec::new();
    }
    let mirror = Path::new("/opt/tf-plugins");
    assert!(
        mirror.is_dir(),
        "Terraform needs its providers: point TF_CLI_CONFIG_FILE at a CLI configuration with a \
         provider mirror, or provide the offline mirror at {}",
        mirror.display()
    );
    vec![format!("-plugin-dir={}", mirror.display())]
}

/// The test-only override: every aliased provider of the generated root talks to the emulator
/// without real credentials. Terraform merges `*_override.tf` blocks into the provider blocks
/// of the same alias, so the generated files stay as they are.
fn write_provider_override(dir: &Path) -> Vec<String> {
    let main = std::fs::read_to_string(dir.join("main.tf")).expect("generated main.tf");
    let aliases: Vec<String> = main
        .lines()
        .filter_map(|line| {
            let (name, value) = line.split_once('=')?;
            (name.trim() == "alias").then(|| value.trim().trim_matches('"').to_string())
        })
        .collect();
    assert!(!aliases.is_empty(), "main.tf declares no provider aliases");
    let mut text = String::from(
        "# Test only: points the generated providers at the local emulator (AWS_ENDPOINT_URL).\n",
    );
    for alias in &aliases {
        text.push_str(&format!(
            "\nprovider \"aws\" {{\n  alias                       = \"{alias}\"\n  \
             skip_credentials_validation = true\n  skip_requesting_account_id  = true\n  \
             skip_metadata_api_check     = true\n  s3_use_path_style           = true\n}}\n"
        ));
    }
    std::fs::write(dir.join("zz_test_override.tf"), text).expect("override file");
    write_instance_overrides(dir);
    aliases
}

/// The emulator's RunInstances requires a volume size whenever a root block device is given
/// (AWS takes the AMI's); a test-only override in each module adds one and keeps the
/// generated `encrypted = true`.
fn write_instance_overrides(root: &Path) {
    let Ok(modules) = std::fs::read_dir(root.join("modules")) else {
        return;
    };
    for module in modules {
        let module = module.expect("module directory").path();
        let main = std::fs::read_to_string(module.join("main.tf")).unwrap_or_default();
        let instances: Vec<&str> = main
            .lines()
            .filter_map(|line| line.strip_prefix("resource \"aws_instance\" \""))
            .filter_map(|rest| rest.split('"').next())
            .collect();
        if instances.is_empty() {
            continue;
        }
        let mut text =
            String::from("# Test only: the emulator requires a root volume size (emulator gap).\n");
        for instance in instances {
            text.push_str(&format!(
                "\nresource \"aws_instance\" \"{instance}\" {{\n  root_block_device {{\n    \
                 encrypted   = true\n    volume_size = 8\n  }}\n}}\n"
            ));
        }
        std::fs::write(module.join("zz_test_override.tf"), text).expect("instance override");
        eprintln!(
            "emulator gap: {} needs a root volume size; added by a test-only override",
            module.display()
        );
    }
}

fn terraform(profiles: &Profiles, dir: &Path, arguments: &[String], moto: &Moto) -> Output {
    let output = profiles
        .terraform_command(dir)
        .args(arguments)
        .output()
        .expect("terraform runs");
    let code = output.status.code();
    let expected_change = arguments.iter().any(|a| a == "-detailed-exitcode") && code == Some(2);
    assert!(
        output.status.success() || expected_change,
        "terraform {} failed\n{}\n{}",
        arguments.join(" "),
        describe(&output),
        moto.log_tail(30)
    );
    output
}

fn deploy_terraform(moto: &Moto, name: &'static str, report: &mut Report) {
    let example = Example::synth(name, "terraform");
    moto.reset();
    let profiles = Profiles::issue(moto, &example.profiles());
    let dir = example.out.path().join("terraform");
    write_provider_override(&dir);
    let label = |step: &str| format!("{name} (terraform): {step}");
    let mut init = args(&["init", "-input=false", "-no-color"]);
    init.extend(terraform_plugin_args());
    report.time(label("init"), |_| terraform(&profiles, &dir, &init, moto));
    report.time(label("plan"), |_| {
        terraform(
            &profiles,
            &dir,
            &args(&["plan", "-input=false", "-no-color", "-out=tfplan"]),
            moto,
        )
    });
    let applied = report.time(label("apply"), |_| {
        terraform(
            &profiles,
            &dir,
            &args(&["apply", "-input=false", "-no-color", "tfplan"]),
            moto,
        )
    });
    let applied = text(&applied.stdout);
    check_apply_order(&example, &applied);
    let again = report.time(label("second plan"), |_| {
        terraform(
            &profiles,
            &dir,
            &args(&["plan", "-input=false", "-no-color", "-detailed-exitcode"]),
            moto,
        )
    });
    assert_eq!(
        again.status.code(),
        Some(0),
        "{name}: a second terraform plan after apply wants changes\n{}",
        text(&again.stdout)
    );
    // The keys and buckets are kept as CloudFormation keeps them: no destroy can be planned.
    let destroy = report.time(label("destroy plan"), |_| {
        profiles
            .terraform_command(&dir)
            .args([
                "plan",
                "-destroy",
                "-refresh=false",
                "-input=false",
                "-no-color",
            ])
            .output()
            .expect("terraform runs")
    });
    let refused = text(&destroy.stderr);
    assert!(
        !destroy.status.success() && refused.contains("Instance cannot be destroyed"),
        "{name}: terraform plans to destroy what holds the data\n{}",
        describe(&destroy)
    );
    for kind in ["aws_kms_key", "aws_s3_bucket"] {
        assert!(
            refused.contains(&format!(".{kind}.")),
            "{name}: {kind} is not protected\n{refused}"
        );
    }
    let mut deployed = Deployed::new(&example, Target::Terraform, profiles, Vec::new());
    deployed.verify(report);
}

/// In the apply log, every resource policy that names a role directly is created after the
/// role (Terraform orders it through the module reference).
fn check_apply_order(example: &Example, log: &str) {
    let position = |needle: &str| {
        log.find(needle)
            .unwrap_or_else(|| panic!("{}: `{needle}` not in the apply log:\n{log}", example.name))
    };
    for reference in role_principals(&example.lowered) {
        let (owner_unit, role) = reference;
        let role_module = &example.scenario().roles[&role].account;
        let created = position(&format!(
            "module.{role_module}.aws_iam_role.{}: Creation complete",
            crossgrant::names::snake(&role)
        ));
        for kind in ["aws_kms_key", "aws_s3_bucket_policy"] {
            let prefix = format!("module.{owner_unit}.{kind}.");
            for (start, _) in log.match_indices(&prefix) {
                let line = &log[start..log[start..].find('\n').map_or(log.len(), |e| start + e)];
                if line.contains(": Creating...") {
                    assert!(
                        created < start,
                        "{}: `{line}` started before role {role} was created",
                        example.name
                    );
                }
            }
        }
    }
}

/// (owner account, role) for every role that a key or bucket policy names by symbolic
/// reference as its principal.
fn role_principals(lowered: &Lowered) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for unit in &lowered.units {
        for resource in &unit.resources {
            let policy = match resource {
                Resource::Key { policy, .. } | Resource::BucketPolicy { policy, .. } => policy,
                _ => continue,
            };
            for value in policy.statements.iter().flat_map(principal_values) {
                if let Value::Ref(Ref::RoleArn(role)) = value {
                    out.insert((unit.id.account.clone(), role.clone()));
                }
            }
        }
    }
    out
}

fn principal_values(statement: &crossgrant::policy::Statement) -> Vec<&Value> {
    match &statement.principal {
        Some(Clause::Is(Principal::Typed(map)) | Clause::Not(Principal::Typed(map))) => {
            map.values().flatten().collect()
        }
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------------
// The tests

/// How many emulators deploy cases at once. Most of a case is waiting (Terraform polls the
/// emulator for seconds after creating a lifecycle configuration), so four cases share the two
/// cores well.
const EMULATORS: usize = 4;

/// Deploys blog.toml and multi-account.toml with both targets, and role-principal.toml with
/// Terraform (where its reversed module wiring could form a cycle), to [`EMULATORS`] emulators
/// working through the cases at once, each reset before every case it deploys. Every case runs
/// even when another one fails; the test fails listing every failed case. One test function, so
/// the servers' guards drop (and kill them) at its end.
#[test]
fn examples_deploy_to_the_emulator_and_work() {
    require_tool(
        "terraform",
        &["version"],
        "install Terraform 1.5 or later with the hashicorp/aws provider available offline",
    );
    require_tool("bash", &["--version"], "deploy.sh is a bash script");
    let started = Instant::now();
    // One after the other: each takes a free port only once the previous one holds its own.
    let servers: Vec<Moto> = (0..EMULATORS).map(|_| Moto::start()).collect();
    let mut report = Report::default();
    let probe_started = Instant::now();
    let probe = probe(&servers[0], &mut report);
    report
        .timings
        .push(("probe the emulator".into(), probe_started.elapsed()));
    // Longest first, so the last case to start is a short one.
    let cases: [(&'static str, Target); 5] = [
        ("multi-account", Target::Terraform),
        ("role-principal", Target::Terraform),
        ("blog", Target::Terraform),
        ("multi-account", Target::CloudFormation),
        ("blog", Target::CloudFormation),
    ];
    let queue = Mutex::new(cases.iter());
    let done = Mutex::new((report, Vec::new()));
    std::thread::scope(|scope| {
        for moto in &servers {
            let (queue, done, probe) = (&queue, &done, &probe);
            scope.spawn(move || loop {
                let Some(&(name, target)) = queue.lock().unwrap().next() else {
                    break;
                };
                eprintln!("=== {name} ({})", target.as_str());
                let mut report = Report::default();
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    let what = format!("{name} ({}) in total", target.as_str());
                    report.time(what, |report| match target {
                        Target::CloudFormation => deploy_cloudformation(moto, name, probe, report),
                        Target::Terraform => deploy_terraform(moto, name, report),
                    })
                }));
                let mut done = done.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                done.0.gaps.extend(report.gaps);
                done.0.timings.extend(report.timings);
                if outcome.is_err() {
                    done.1.push((name, target));
                }
            });
        }
    });
    let (report, failed) = done.into_inner().unwrap();
    let failures: Vec<String> = cases
        .iter()
        .filter(|case| failed.contains(case))
        .map(|(name, target)| format!("{name} ({})", target.as_str()))
        .collect();
    eprintln!("--- emulator gaps found and covered ---");
    for gap in &report.gaps {
        eprintln!("- {gap}");
    }
    eprintln!(
        "--- all deploy cases: {:.1} s on {EMULATORS} emulators ---",
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "failed deploy cases: {failures:?}");
}

// ---------------------------------------------------------------------------------------------
// Deploy order for real AWS

/// The role ARNs a resource policy names as principals (`Principal.AWS` values that are role
/// ARNs), from a policy as JSON.
fn role_principals_in(policy: &Json) -> Vec<String> {
    let statements = match &policy["Statement"] {
        Json::Array(items) => items.clone(),
        single => vec![single.clone()],
    };
    statements
        .iter()
        .flat_map(|statement| match &statement["Principal"]["AWS"] {
            Json::Array(items) => items.clone(),
            Json::Null => Vec::new(),
            single => vec![single.clone()],
        })
        .map(|principal| match principal {
            Json::String(text) => text,
            other => panic!("a principal that is not literal text: {other}"),
        })
        .filter(|principal| principal.contains(":role/"))
        .collect()
}

/// Per stack of deploy.sh, in the order the script deploys them: the roles it creates and the
/// role principals its key and bucket policies name.
struct StackRoles {
    stack: String,
    creates: BTreeSet<String>,
    names: BTreeSet<String>,
}

fn cloudformation_stack_roles(example: &Example) -> Vec<StackRoles> {
    let dir = example.out.path().join("cloudformation");
    let script = std::fs::read_to_string(dir.join("deploy.sh")).expect("deploy.sh");
    let scenario = example.scenario();
    script
        .lines()
        .filter(|line| line.starts_with("deploy "))
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (stack, template, profile) = (words[1], words[2], words[3]);
            let account = scenario
                .accounts
                .values()
                .find(|account| account.profile == profile)
                .unwrap_or_else(|| panic!("deploy.sh uses unknown profile {profile}"));
            let source = std::fs::read_to_string(dir.join(template)).expect("template");
            let template = Template {
                stem: template.to_string(),
                yaml: serde_yaml::from_str(&source).expect("template YAML"),
            };
            let no_keys = BTreeMap::new();
            let creates = template
                .of_type("AWS::IAM::Role")
                .map(|(_, role)| {
                    let properties = &role["Properties"];
                    format!(
                        "arn:aws:iam::{}:role{}{}",
                        account.id,
                        properties["Path"].as_str().unwrap_or("/"),
                        properties["RoleName"].as_str().expect("RoleName")
                    )
                })
                .collect();
            let mut names = BTreeSet::new();
            for (_, key) in template.of_type("AWS::KMS::Key") {
                let policy = template_json(&key["Properties"]["KeyPolicy"], &template, &no_keys);
                names.extend(role_principals_in(&parse_embedded(&policy)));
            }
            for (_, policy) in template.of_type("AWS::S3::BucketPolicy") {
                let document =
                    template_json(&policy["Properties"]["PolicyDocument"], &template, &no_keys);
                names.extend(role_principals_in(&document));
            }
            StackRoles {
                stack: stack.to_string(),
                creates,
                names,
            }
        })
        .collect()
}

/// The module blocks of a root `main.tf`: module name → (source directory, inputs).
fn terraform_modules(main: &str) -> BTreeMap<String, (String, BTreeMap<String, String>)> {
    let mut modules = BTreeMap::new();
    let mut current: Option<(String, String, BTreeMap<String, String>)> = None;
    for line in main.lines() {
        if let Some(rest) = line.strip_prefix("module \"") {
            let name = rest.split('"').next().unwrap_or_default().to_string();
            current = Some((name, String::new(), BTreeMap::new()));
        } else if line == "}" {
            if let Some((name, source, inputs)) = current.take() {
                modules.insert(name, (source, inputs));
            }
        } else if let Some((_, source, inputs)) = current.as_mut() {
            if let Some((key, value)) = line.split_once('=') {
                let (key, value) = (key.trim(), value.trim());
                if key == "source" {
                    *source = value.trim_matches('"').trim_start_matches("./").to_string();
                } else if !value.starts_with('{') {
                    inputs.insert(key.to_string(), value.to_string());
                }
            }
        }
    }
    modules
}

/// Every `AWS = …` principal inside the `Principal = { … }` blocks of a module's HCL, one
/// expression per item (a literal ARN in quotes, or a reference such as `var.role_arn_app`).
fn terraform_principals(hcl: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut inside = false;
    for line in hcl.lines() {
        let line = line.trim();
        if line.starts_with("Principal = {") || line == "Principal = {" {
            inside = true;
        } else if inside && line.starts_with('}') {
            inside = false;
        } else if inside {
            if let Some((key, value)) = line.split_once('=') {
                if key.trim() == "AWS" {
                    let value = value.trim().trim_start_matches('[').trim_end_matches(']');
                    out.extend(
                        value
                            .split(',')
                            .map(str::trim)
                            .filter(|item| !item.is_empty())
                            .map(String::from),
                    );
                }
            }
        }
    }
    out
}

/// For Terraform: every role a key or bucket policy names as its principal reaches the owner
/// module as a module input wired to the output of the module that creates the role (which is
/// what makes Terraform create the role first); a role ARN written as literal text would not
/// order anything. Returns the role ARNs named that way.
fn terraform_role_principals(example: &Example) -> BTreeSet<String> {
    let dir = example.out.path().join("terraform");
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    };
    let scenario = example.scenario();
    let modules = terraform_modules(&read(dir.join("main.tf")));
    let mut named = BTreeSet::new();
    for (module, (source, inputs)) in &modules {
        let main = read(dir.join(source).join("main.tf"));
        for principal in terraform_principals(&main) {
            if let Some(literal) = principal.strip_prefix('"') {
                let literal = literal.trim_end_matches('"');
                assert!(
                    !literal.contains(":role/"),
                    "{}: module {module} names role {literal} as literal text: Terraform would \
                     not create the role first",
                    example.name
                );
                continue;
            }
            let variable = principal.strip_prefix("var.").unwrap_or_else(|| {
                panic!(
                    "{}: principal {principal} in module {module} is not a module input",
                    example.name
                )
            });
            let wiring = inputs.get(variable).unwrap_or_else(|| {
                panic!(
                    "{}: input {variable} of module {module} is not wired in main.tf",
                    example.name
                )
            });
            let mut parts = wiring.split('.');
            let (Some("module"), Some(producer), Some(output), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                panic!("{}: input {variable} of module {module} is `{wiring}`, not another module's output", example.name);
            };
            assert_ne!(
                producer, module,
                "{}: a module wired to itself",
                example.name
            );
            let (producer_source, _) = &modules[producer];
            let outputs = read(dir.join(producer_source).join("outputs.tf"));
            let value = outputs
                .split("output \"")
                .find(|block| block.starts_with(&format!("{output}\"")))
                .and_then(|block| block.lines().find(|line| line.trim().starts_with("value")))
                .and_then(|line| line.split_once('='))
                .map(|(_, value)| value.trim().to_string())
                .unwrap_or_else(|| {
                    panic!("{}: module {producer} has no output {output}", example.name)
                });
            let resource = value
                .strip_prefix("aws_iam_role.")
                .and_then(|rest| rest.strip_suffix(".arn"))
                .unwrap_or_else(|| {
                    panic!(
                        "{}: output {producer}.{output} is `{value}`, not a role's ARN",
                        example.name
                    )
                });
            let role = scenario
                .roles
                .values()
                .find(|role| crossgrant::names::snake(&role.name) == resource)
                .unwrap_or_else(|| {
                    panic!(
                        "{}: aws_iam_role.{resource} is no role of the scenario",
                        example.name
                    )
                });
            let producer_main = read(dir.join(producer_source).join("main.tf"));
            assert!(
                producer_main.contains(&format!("resource \"aws_iam_role\" \"{resource}\" {{")),
                "{}: module {producer} does not create aws_iam_role.{resource}",
                example.name
            );
            named.insert(scenario.role_arn(&role.name));
        }
    }
    named
}

/// The roles that lowering puts into key and bucket policies as principals, by deploy step;
/// each must be created by an earlier step.
fn check_plan_order(example: &Example) -> BTreeSet<String> {
    let lowered = &example.lowered;
    let scenario = example.scenario();
    let step_of = |unit: &crossgrant::lower::UnitId| {
        example
            .steps
            .iter()
            .position(|step| &step.id == unit)
            .expect("every unit is planned")
    };
    let creator = |arn: &str| {
        lowered.units.iter().find_map(|unit| {
            unit.resources.iter().find_map(|resource| match resource {
                Resource::Role { role, .. } if scenario.role_arn(role) == arn => {
                    Some(step_of(&unit.id))
                }
                _ => None,
            })
        })
    };
    let mut named = BTreeSet::new();
    for step in &example.steps {
        let unit = &lowered.units[step.unit];
        let here = step_of(&unit.id);
        for resource in &unit.resources {
            let policy = match resource {
                Resource::Key { policy, .. } | Resource::BucketPolicy { policy, .. } => policy,
                _ => continue,
            };
            for value in policy.statements.iter().flat_map(principal_values) {
                let arn = match value {
                    Value::Ref(Ref::RoleArn(role)) => scenario.role_arn(role),
                    Value::Lit(text) if text.contains(":role/") => text.clone(),
                    _ => continue,
                };
                let Some(created) = creator(&arn) else {
                    continue;
                };
                assert!(
                    created < here,
                    "{}: step {} ({}) names {arn}, which step {} creates",
                    example.name,
                    here + 1,
                    step.stem,
                    created + 1
                );
                named.insert(arn);
            }
        }
    }
    named
}

fn check_deploy_order(name: &'static str) -> (BTreeSet<String>, BTreeSet<String>) {
    let example = Example::synth(name, "all");
    let planned = check_plan_order(&example);

    let stacks = cloudformation_stack_roles(&example);
    assert_eq!(
        stacks
            .iter()
            .map(|stack| stack.stack.clone())
            .collect::<Vec<_>>(),
        example
            .steps
            .iter()
            .map(|step| step.stack_name.clone())
            .collect::<Vec<_>>(),
        "{name}: deploy.sh deploys the stacks in plan order"
    );
    let mut cloudformation = BTreeSet::new();
    for (index, stack) in stacks.iter().enumerate() {
        for arn in &stack.names {
            let created = stacks.iter().position(|other| other.creates.contains(arn));
            let scenario_role = example
                .scenario()
                .roles
                .keys()
                .any(|role| &example.scenario().role_arn(role) == arn);
            if created.is_none() && !scenario_role {
                continue; // A principal that exists before the scenario (e.g. an administrator).
            }
            assert!(
                created.is_some_and(|created| created < index),
                "{name}: stack {} names {arn} as a principal, but {} creates it",
                stack.stack,
                created.map_or("no stack".to_string(), |i| format!(
                    "the later stack {}",
                    stacks[i].stack
                ))
            );
            cloudformation.insert(arn.clone());
        }
    }
    assert_eq!(
        cloudformation, planned,
        "{name}: the templates name the role principals that lowering decided"
    );
    let terraform = terraform_role_principals(&example);
    assert_eq!(
        terraform, planned,
        "{name}: the Terraform modules name the role principals that lowering decided"
    );
    (planned, terraform)
}

/// Account style names the consumer account's root and pins the role in a condition, which is
/// never existence-checked: no policy of the owner names a role, in any target.
#[test]
fn account_style_names_no_role_principal() {
    let (planned, terraform) = check_deploy_order("blog");
    assert!(
        planned.is_empty(),
        "blog names role principals: {planned:?}"
    );
    assert!(terraform.is_empty());
}

/// Role style names the role itself, which S3 and KMS check exists: the role's stack is
/// deployed before the owner's, and the owner's Terraform module gets the role ARN from the
/// consumer module's output.
#[test]
fn role_style_creates_each_principal_before_the_policy_naming_it() {
    let (planned, _) = check_deploy_order("role-principal");
    assert_eq!(
        planned,
        BTreeSet::from(["arn:aws:iam::222222222222:role/app-s3-cross-account".to_string()])
    );
}
