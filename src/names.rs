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

/// Where an account's resources of one region render: the account's name in the scenario's
/// home region, `<account>-<region>` elsewhere. The Terraform module directory, and with the
/// deploy phase the CloudFormation file and stack names.
pub fn unit_dir(account: &str, region: &str, home_region: &str) -> String {
    if region == home_region {
        account.to_string()
    } else {
        format!("{account}-{region}")
    }
}

/// `<unit_dir>-<phase>`: a CloudFormation template's file stem.
pub fn unit_stem(dir: &str, phase: &str) -> String {
    format!("{dir}-{phase}")
}

/// The stem of part `part` of a unit's stacks: the unit's own stem for part 1 (so a stack
/// that fits keeps its name), `<stem>-<part>` for the parts a split adds.
pub fn part_stem(stem: String, part: u32) -> String {
    if part <= 1 {
        stem
    } else {
        format!("{stem}-{part}")
    }
}

/// `<scenario>-<stem>`: a CloudFormation stack name.
pub fn stack_name(scenario: &str, stem: &str) -> String {
    format!("{scenario}-{stem}")
}

/// Whether CloudFormation accepts `name` as a stack name: a letter, then letters, digits and
/// `-`, at most 128 characters.
pub fn is_stack_name(name: &str) -> bool {
    name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The session name of the role each Terraform provider assumes.
pub fn session_name(scenario: &str) -> String {
    format!("crossgrant-{scenario}")
}

/// Whether STS accepts `name` as a role session name: 2 to 64 of `[A-Za-z0-9_+=,.@-]`.
pub fn is_session_name(name: &str) -> bool {
    (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c))
}

/// `owner-001` → `OWNER_001`: an account's or instance's name in the environment variables
/// `deploy.sh` reads.
pub fn environment_name(account: &str) -> String {
    account.replace('-', "_").to_uppercase()
}

/// The shell variable `deploy.sh` keeps a key's ARN in, once looked up.
pub fn key_variable(key: &str) -> String {
    format!("KEY_ARN_{}", key.replace('-', "_").to_uppercase())
}

/// FNV-1a over 128 bits: a hash of `text` that is the same across runs and platforms, for
/// names and ids derived from the scenario.
pub fn stable_hash(text: &str) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    text.bytes().fold(OFFSET, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(PRIME)
    })
}
