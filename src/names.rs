//! Identifiers crossgrant derives from scenario names: CloudFormation logical ids and Sids
//! (PascalCase), Terraform identifiers (snake_case), and the names of the policies it puts on
//! roles. Validation rejects scenario names that would collide once turned into these.

/// `"shared-data"` → `"SharedData"`: CloudFormation logical ids and policy Sids.
pub fn pascal(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// `"shared-data"` → `"shared_data"`: Terraform identifiers.
pub fn snake(name: &str) -> String {
    name.replace('-', "_")
}

/// The logical id of a key in the stack that creates it.
pub fn key_logical(key: &str) -> String {
    format!("{}Key", pascal(key))
}

/// The parameter through which a stack receives a key ARN from the stack that creates it.
pub fn key_parameter(key: &str) -> String {
    format!("{}KeyArn", pascal(key))
}

/// The name of the inline policy crossgrant puts on each role.
pub fn access_policy_name(scenario: &str) -> String {
    format!("crossgrant-{scenario}")
}

/// The name of a managed policy holding part of a role's access (unique in the account: role
/// names of one scenario and account are).
pub fn managed_policy_name(scenario: &str, role: &str, number: usize) -> String {
    format!("crossgrant-{scenario}-{role}-{number}")
}
