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
