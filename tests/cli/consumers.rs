//! Consumers other than EC2: EKS Pod Identity and IAM roles for service accounts get the trust
//! policies those services require, and every way their settings can be wrong is refused at
//! the line.

use crate::common;
use crossgrant::policy::{Clause, Principal, Value};

fn eks() -> String {
    std::fs::read_to_string(common::root().join("examples/eks.toml")).unwrap()
}

#[test]
fn pod_identity_and_service_account_roles_get_the_trust_their_service_needs() {
    let scenario = crossgrant::load_scenario(&common::root().join("examples/eks.toml")).unwrap();
    let lowered = crossgrant::lower::lower(scenario);
    let pods = &lowered.trust_policies["reader"].statements[0];
    assert_eq!(
        pods.action,
        Clause::Is(vec!["sts:AssumeRole".into(), "sts:TagSession".into()])
    );
    let irsa = &lowered.trust_policies["exporter"].statements[0];
    assert_eq!(
        irsa.action,
        Clause::Is(vec!["sts:AssumeRoleWithWebIdentity".into()])
    );
    let Some(Clause::Is(Principal::Typed(principal))) = &irsa.principal else {
        panic!("a federated principal: {irsa:?}");
    };
    assert_eq!(
        principal["Federated"],
        vec![Value::lit(
            "arn:aws:iam::333333333333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE"
        )]
    );
    let issuer = "oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    let equals = &irsa.condition["StringEquals"];
    assert_eq!(
        equals[&format!("{issuer}:sub")],
        vec![Value::lit(
            "system:serviceaccount:analytics:events-exporter"
        )]
    );
    assert_eq!(
        equals[&format!("{issuer}:aud")],
        vec![Value::lit("sts.amazonaws.com")]
    );
}

#[test]
fn bad_consumer_trust_settings_are_refused_at_their_line() {
    let text = eks();
    let provider = "arn:aws:iam::333333333333:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
    for (edit, place, message) in [
        (
            text.replace(
                "name = \"events-exporter\"\n",
                "name = \"events-exporter\"\nservice = \"lambda.amazonaws.com\"\n",
            ),
            "scenario.toml:33:8",
            "is set beside `service`",
        ),
        (
            text.replace(provider, &provider.replace("333333333333", "111111111111")),
            "scenario.toml:32:25",
            "is in another account than the role",
        ),
        (
            text.replace(provider, "arn:aws:iam::333333333333:role/oidc"),
            "scenario.toml:32:25",
            "does not name an OIDC provider",
        ),
        (
            text.replace(
                "system:serviceaccount:analytics:events-exporter",
                "system:serviceaccount:analytics:*",
            ),
            "scenario.toml:32:",
            "`*`",
        ),
        (
            text.replace(
                "system:serviceaccount:analytics:events-exporter",
                "system:serviceaccount:Analytics:events-exporter",
            ),
            "scenario.toml:32:",
            "has a namespace that is not a Kubernetes name",
        ),
        (
            text.replace(
                "service = \"pods.eks.amazonaws.com\"\n",
                "service = \"pods.eks.amazonaws.com\"\ninstance_profile = true\n",
            ),
            "scenario.toml:28:20",
            "is only for roles EC2 assumes",
        ),
    ] {
        let stderr = common::check_refuses(&edit);
        assert!(stderr.contains(place), "{message}: at {place}:\n{stderr}");
        assert!(stderr.contains(message), "{message}:\n{stderr}");
    }
}

fn owner_role() -> String {
    std::fs::read_to_string(common::root().join("examples/owner-role.toml")).unwrap()
}

#[test]
fn an_access_role_in_the_owner_account_is_the_consumers_only_way_in() {
    let scenario =
        crossgrant::load_scenario(&common::root().join("examples/owner-role.toml")).unwrap();
    let lowered = crossgrant::lower::lower(scenario);
    let access = &lowered.scenario.roles["app-access-data"];
    assert_eq!(access.account, "data");
    assert_eq!(access.role_name, "archive-reader-access");
    // The consumer may assume that one role, and nothing else.
    let consumer = &lowered.role_policies["app"].statements;
    assert_eq!(consumer.len(), 1, "{consumer:?}");
    assert_eq!(
        consumer[0].action,
        Clause::Is(vec!["sts:AssumeRole".into()])
    );
    let trust = &lowered.trust_policies["app-access-data"].statements[0];
    assert_eq!(
        trust.condition["ArnEquals"]["aws:PrincipalArn"],
        vec![Value::lit("arn:aws:iam::222222222222:role/archive-reader")]
    );
    assert_eq!(
        trust.condition["StringEquals"]["sts:ExternalId"],
        vec![Value::lit("acme-archive-reader")]
    );
    // No resource policy names the consumer's account.
    for policy in lowered.bucket_policies.values() {
        let text = format!("{policy:?}");
        assert!(!text.contains("222222222222"), "{text}");
    }
    let report = crossgrant::eval::check(&lowered);
    assert!(report.passed());
    let assumed: Vec<_> = report
        .results
        .iter()
        .filter(|result| result.probe.operation.name() == "sts:AssumeRole")
        .collect();
    assert!(assumed.iter().any(|result| result.probe.intended
        && result.outcome() == crossgrant::eval::check::Outcome::Allowed));
    assert!(
        assumed
            .iter()
            .filter(|result| !result.probe.intended)
            .count()
            >= 5,
        "other roles of the consumer account, look-alikes, strangers and anonymous are asked"
    );
}

#[test]
fn check_fails_when_an_access_role_trusts_the_whole_consumer_account() {
    let scenario =
        crossgrant::load_scenario(&common::root().join("examples/owner-role.toml")).unwrap();
    let mut lowered = crossgrant::lower::lower(scenario);
    let trust = lowered.trust_policies.get_mut("app-access-data").unwrap();
    trust.statements[0].condition.remove("ArnEquals");
    let report = crossgrant::eval::check(&lowered);
    let wrong: Vec<String> = report
        .failures()
        .map(|failure| {
            format!(
                "{} {}",
                failure.probe.caller_kind,
                failure.probe.operation.name()
            )
        })
        .collect();
    assert!(
        wrong
            .iter()
            .any(|line| line == "admin role in app sts:AssumeRole"),
        "{wrong:?}"
    );
}

#[test]
fn bad_access_role_settings_are_refused_at_their_line() {
    let text = owner_role();
    for (edit, message) in [
        (
            text.replace("via = \"owner-role\"\n", ""),
            "Add via = \"owner-role\" to the grant (role `app` will assume a role in account `data`",
        ),
        (
            text.replace("via = \"owner-role\"", "via = \"assume\""),
            "`assume` is not a valid via",
        ),
        (
            text.replace("via = \"owner-role\"\n", ""),
            "external_id `acme-archive-reader` names a part of an access role",
        ),
        (
            text.replace("acme-archive-reader", "a"),
            "is not an external id STS accepts",
        ),
        (
            text.replace(
                "account = \"app\"\nname = \"archive-reader\"",
                "account = \"data\"\nname = \"archive-reader\"",
            ),
            "this role is in the bucket's account already",
        ),
        (
            text.replace("external_id", "access_role = \"bad role\"\nexternal_id"),
            "`bad role` is not a valid IAM role name",
        ),
    ] {
        let stderr = common::check_refuses(&edit);
        assert!(stderr.contains(message), "{message}:\n{stderr}");
        assert!(stderr.contains("scenario.toml:"), "{stderr}");
    }
}

#[test]
fn permission_set_roles_are_matched_exactly_and_their_policy_goes_to_a_file() {
    use crossgrant::eval::probe::World;
    use crossgrant::eval::request::{Caller, Context};
    use crossgrant::eval::{evaluate, NamedPolicy, PolicySet, Request};
    let scenario =
        crossgrant::load_scenario(&common::root().join("examples/identity-center.toml")).unwrap();
    let lowered = crossgrant::lower::lower(scenario);
    let world = World::build(&lowered);
    let (name, bucket_policy) = &world.bucket_policies["reports"];
    let admin = crossgrant::eval::probe::admin_policy();
    let get = |role: &str| {
        let caller = Caller::role(format!("arn:aws:iam::555555555555:role{role}")).unwrap();
        let request = Request {
            context: Context::of_caller(&caller, true),
            caller,
            action: "s3:GetObject".into(),
            resource: "arn:aws:s3:::acme-analytics-reports/a.csv".into(),
            resource_account: "111111111111".into(),
        };
        let policies = PolicySet {
            identity: vec![NamedPolicy {
                name: "AdministratorAccess",
                document: &admin,
            }],
            resource: Some(NamedPolicy {
                name,
                document: bucket_policy,
            }),
            ..PolicySet::default()
        };
        evaluate(&request, &policies).unwrap().verdict.is_allowed()
    };
    let path = "/aws-reserved/sso.amazonaws.com/";
    assert!(get(&format!(
        "{path}AWSReservedSSO_DataAnalyst_0123456789abcdef"
    )));
    assert!(get(&format!(
        "{path}us-east-1/AWSReservedSSO_DataAnalyst_0123456789abcdef"
    )));
    for other in [
        format!("{path}us-east-1/AWSReservedSSO_DataAnalyst_x_0123456789abcdef"),
        format!("{path}AWSReservedSSO_DataAnalystAdmin_0123456789abcdef"),
        format!("{path}us-east-1/AWSReservedSSO_XAWSReservedSSO_DataAnalyst_0123456789abcdef"),
        "/AWSReservedSSO_DataAnalyst_0123456789abcdef".to_string(),
    ] {
        assert!(
            !get(&other),
            "{other} is another set's role, or not Identity Center's"
        );
    }
    // No policy is attached to the roles; the set's policy is a file of the output.
    assert!(lowered.units.iter().all(|unit| unit
        .resources
        .iter()
        .all(|resource| resource.table() != ("role", &"analysts".to_string()))));
    let out = tempfile::tempdir().unwrap();
    common::synth(
        &common::root().join("examples/identity-center.toml"),
        out.path(),
        &["--target", "terraform"],
    );
    let file =
        std::fs::read_to_string(out.path().join("identity-center/DataAnalyst.json")).unwrap();
    assert!(file.contains("\"Resource\": \"${KEY_ARN_DATA}\""), "{file}");
}

#[test]
fn a_permission_set_role_must_be_existing_and_named_by_the_set_only() {
    let text =
        std::fs::read_to_string(common::root().join("examples/identity-center.toml")).unwrap();
    for (edit, message) in [
        (
            text.replace(
                "permission_set = \"DataAnalyst\"\nexisting = true\n",
                "permission_set = \"DataAnalyst\"\n",
            ),
            "names roles IAM Identity Center makes, so the role must be `existing = true`",
        ),
        (
            text.replace(
                "permission_set = \"DataAnalyst\"",
                "permission_set = \"DataAnalyst\"\nname = \"analysts\"",
            ),
            "is chosen by IAM Identity Center for the roles of a permission set",
        ),
        (
            text.replace(
                "permission_set = \"DataAnalyst\"",
                "permission_set = \"Data Analyst\"",
            ),
            "is not a permission set name IAM Identity Center accepts",
        ),
        (
            text.replace("permission_set = \"DataAnalyst\"\n", ""),
            "role `analysts` has no `name`",
        ),
    ] {
        let stderr = common::check_refuses(&edit);
        assert!(stderr.contains(message), "{message}:\n{stderr}");
    }
}

#[test]
fn explain_decides_assuming_an_access_role_from_its_trust_policy() {
    let out = tempfile::tempdir().unwrap();
    common::synth(
        &common::root().join("examples/owner-role.toml"),
        out.path(),
        &["--target", "cloudformation", "--format", "json"],
    );
    let read = |file: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(out.path().join(file)).unwrap()).unwrap()
    };
    let trust = out.path().join("trust.json");
    std::fs::write(
        &trust,
        read("cloudformation/data-access.json")["Resources"]["AppAccessDataRole"]["Properties"]
            ["AssumeRolePolicyDocument"]
            .to_string(),
    )
    .unwrap();
    let identity = out.path().join("identity.json");
    std::fs::write(
        &identity,
        read("cloudformation/app-access.json")["Resources"]["AppManagedPolicy1"]["Properties"]
            ["PolicyDocument"]
            .to_string(),
    )
    .unwrap();
    let ask = |principal: &str, external_id: Option<&str>| {
        let mut args = vec![
            "explain",
            "--principal",
            principal,
            "--action",
            "sts:AssumeRole",
            "--role-arn",
            "arn:aws:iam::111111111111:role/archive-reader-access",
            "--trust-policy",
            trust.to_str().unwrap(),
            "--identity-policy",
            identity.to_str().unwrap(),
        ];
        if let Some(id) = external_id {
            args.extend(["--external-id", id]);
        }
        let output = common::crossgrant(&args);
        (output.status.code(), common::text(&output.stdout))
    };
    let consumer = "arn:aws:iam::222222222222:role/archive-reader";
    let (code, stdout) = ask(consumer, Some("acme-archive-reader"));
    assert_eq!(code, Some(0), "{stdout}");
    assert!(stdout.contains("trust policy: allows"), "{stdout}");
    let (code, stdout) = ask(consumer, None);
    assert_eq!(code, Some(1), "without the external id: {stdout}");
    let (code, stdout) = ask(
        "arn:aws:iam::222222222222:role/archive-reader-2",
        Some("acme-archive-reader"),
    );
    assert_eq!(code, Some(1), "another role of the account: {stdout}");
    let output = common::crossgrant(&[
        "explain",
        "--principal",
        consumer,
        "--action",
        "sts:AssumeRole",
        "--no-identity-policy",
    ]);
    let stderr = common::text(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("--role-arn ARN") && stderr.contains("--trust-policy FILE"),
        "{stderr}"
    );
}

fn china() -> String {
    std::fs::read_to_string(common::root().join("examples/china.toml")).unwrap()
}

/// Every ARN and `kms:ViaService` value of a rendered scenario, from every file.
fn rendered_values(scenario: &str) -> (String, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.toml");
    std::fs::write(&path, scenario).unwrap();
    let out = dir.path().join("out");
    common::synth(&path, &out, &[]);
    let all: String = common::tree(&out)
        .values()
        .map(|bytes| common::text(bytes))
        .collect();
    (all, dir)
}

fn arn_partitions(text: &str) -> std::collections::BTreeSet<String> {
    text.match_indices("arn:")
        .filter_map(|(at, _)| text[at + 4..].split(':').next())
        // The key ARN parameter's AllowedPattern (`arn:aws[a-z-]*:kms:…`) is no ARN.
        .filter(|partition| {
            partition.starts_with("aws")
                && partition
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-')
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn every_arn_and_endpoint_takes_the_partition_of_the_regions() {
    for (scenario, partition, via_service) in [
        (china(), "aws-cn", "s3.cn-north-1.amazonaws.com.cn"),
        (
            china()
                .replace("cn-northwest-1", "us-gov-east-1")
                .replace("cn-north-1", "us-gov-west-1"),
            "aws-us-gov",
            "s3.us-gov-west-1.amazonaws.com",
        ),
    ] {
        let (all, _dir) = rendered_values(&scenario);
        assert_eq!(
            arn_partitions(&all),
            [partition.to_string()].into(),
            "{partition}"
        );
        assert!(all.contains(via_service), "{via_service}");
        // The deploy script refuses credentials of another partition.
        assert!(
            all.contains(&format!(
                "check_account analytics 222222222222 analytics {partition}"
            )),
            "{partition}"
        );
        // Service principals keep their global form, which AWS accepts in every partition.
        assert!(all.contains("lambda.amazonaws.com"));
        assert!(!all.contains("amazonaws.com.cn\n") || partition == "aws-cn");

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scenario.toml");
        std::fs::write(&path, &scenario).unwrap();
        let check = common::crossgrant(&["check", path.to_str().unwrap()]);
        let report = common::text(&check.stdout);
        assert_eq!(check.status.code(), Some(0), "{report}");
        // Look-alikes are asked about in the partition they could exist in.
        assert!(
            report.contains(&format!(
                "arn:{partition}:iam::999999999999:role/lake-reader"
            )),
            "{report}"
        );
    }
}

#[test]
fn a_region_or_arn_of_another_partition_is_refused_at_its_line() {
    let text = china();
    for (edit, place, message) in [
        (
            text.replace("region = \"cn-northwest-1\"", "region = \"eu-west-1\""),
            "scenario.toml:39:10",
            "region `eu-west-1` is in the aws partition, but the scenario's region `cn-north-1` is in aws-cn",
        ),
        (
            text.replace(
                "alias = \"china-data\"",
                "alias = \"china-data\"\nadministrators = [\"arn:aws:iam::111111111111:role/KeyAdmin\"]",
            ),
            "scenario.toml:17:19",
            "key administrator ARN `arn:aws:iam::111111111111:role/KeyAdmin` is in the aws partition",
        ),
        (
            text.replace(
                "[keys.data]\naccount = \"data\"\nalias = \"china-data\"",
                "[keys.data]\naccount = \"data\"\nexisting = true\narn = \"arn:aws-us-gov:kms:cn-north-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
            ),
            "scenario.toml:17:7",
            "has no AWS region of its partition",
        ),
    ] {
        let stderr = common::check_refuses(&edit);
        assert!(stderr.contains(message), "{message}:\n{stderr}");
        assert!(stderr.contains(place), "{place}:\n{stderr}");
    }
}
