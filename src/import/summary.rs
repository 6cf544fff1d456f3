//! What `import` tells the user: the grants it found, then every statement of every live
//! document and what became of it — which grant re-generates it, or why it is kept as it is in
//! the copy, or what narrowing it dropped — and what it assumed.

use super::error::DocumentKind;
use super::statements::{Fate, Kept, StatementReport};
use crate::model::{Access, ObjectOwnership};
use std::fmt::Write;

/// A grant as the report names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantLine {
    /// The role's table in the scenario.
    pub role: String,
    pub role_arn: String,
    pub bucket_name: String,
    pub prefix: String,
    pub access: Access,
    pub actions: Vec<&'static str>,
}

/// One live document and what became of its statements.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentReport {
    pub kind: DocumentKind,
    pub source: String,
    /// The role an identity policy belongs to.
    pub role: Option<String>,
    pub statements: Vec<StatementReport>,
    /// The copy holding its kept statements, relative to the scenario file.
    pub copy: Option<String>,
    /// Kept statements whose Sid is one crossgrant generates (it would replace them), and the
    /// Sid their copy carries instead.
    pub renamed: Vec<(String, String)>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub grants: Vec<GrantLine>,
    pub documents: Vec<DocumentReport>,
    /// Set when the ownership was inferred from writers being allowed `s3:PutObjectAcl`.
    pub inferred_ownership: Option<ObjectOwnership>,
    /// Roles with grants whose identity policies were not given.
    pub unknown_identity: Vec<String>,
    /// Roles the documents name that get no grant.
    pub without_grants: Vec<String>,
}

fn grant_names(grants: &[usize]) -> String {
    let names: Vec<String> = grants
        .iter()
        .map(|index| format!("#{}", index + 1))
        .collect();
    match names.len() {
        0 => "no grant".to_string(),
        1 => format!("grant {}", names[0]),
        _ => format!("grants {}", names.join(", ")),
    }
}

fn kept_reason(kept: &Kept) -> String {
    match kept {
        Kept::Deny => "a Deny".to_string(),
        Kept::Administrator => {
            "it lets its principals administer the key (a key policy must keep an administrator)"
                .to_string()
        }
        Kept::NotARole { principals } => format!(
            "it names principals that are not roles ({}), which get no grants",
            principals.join(", ")
        ),
        Kept::Unevaluable { error } => format!(
            "crossgrant's evaluator cannot read it ({}), so no grant is derived from it",
            error.problem
        ),
        Kept::BeyondGrants { grants, beyond } => format!(
            "it allows more than {}: {}",
            grant_names(grants),
            beyond.join(", ")
        ),
        Kept::NoEffect => "it allows the roles it names nothing on this bucket or key".to_string(),
    }
}

fn statement_name(statement: &StatementReport) -> String {
    match &statement.sid {
        Some(sid) => format!("#{} \"{sid}\"", statement.index),
        None => format!("#{}", statement.index),
    }
}

impl Summary {
    /// The report, as printed.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if self.grants.is_empty() {
            text.push_str("Grants: none\n");
        } else {
            text.push_str("Grants:\n");
        }
        for (index, grant) in self.grants.iter().enumerate() {
            let place = if grant.prefix.is_empty() {
                "the whole bucket".to_string()
            } else {
                format!("prefix {}", grant.prefix)
            };
            let _ = write!(
                text,
                "  #{} role {} ({}): {} on {} of {}",
                index + 1,
                grant.role,
                grant.role_arn,
                grant.access.as_str(),
                place,
                grant.bucket_name
            );
            if !grant.actions.is_empty() {
                let _ = write!(text, ", and {}", grant.actions.join(", "));
            }
            text.push('\n');
        }
        for document in &self.documents {
            text.push('\n');
            let _ = match (&document.role, &document.copy) {
                (Some(role), _) => writeln!(
                    text,
                    "Identity policy of {role} ({}), which stays on the role:",
                    document.source
                ),
                (None, Some(copy)) if document.statements.iter().any(|s| s.fate.is_kept()) => {
                    writeln!(
                        text,
                        "{} ({}), kept statements copied to {copy}:",
                        capitalized(document.kind.label()),
                        document.source
                    )
                }
                (None, Some(copy)) => writeln!(
                    text,
                    "{} ({}), no statement kept ({copy} holds none):",
                    capitalized(document.kind.label()),
                    document.source
                ),
                (None, None) => writeln!(
                    text,
                    "{} ({}), no statement kept:",
                    capitalized(document.kind.label()),
                    document.source
                ),
            };
            for statement in &document.statements {
                let name = statement_name(statement);
                let line = match (&statement.fate, document.role.is_some()) {
                    (Fate::Granted { grants }, false) => {
                        format!("became {}; crossgrant generates it", grant_names(grants))
                    }
                    (Fate::Granted { grants }, true) => {
                        format!("takes part in {}", grant_names(grants))
                    }
                    (Fate::Narrowed { grants, dropped }, _) => format!(
                        "narrowed to {} (left out); dropped: {}",
                        grant_names(grants),
                        dropped.join(", ")
                    ),
                    (Fate::Kept(kept), false) => {
                        let mut line = format!("kept as is: {}", kept_reason(kept));
                        if let Kept::BeyondGrants { .. } = kept {
                            if document.kind == DocumentKind::KeyPolicy {
                                line.push_str(
                                    " (--narrow-key-use leaves it out when all it adds is key use outside S3)",
                                );
                            }
                        }
                        line
                    }
                    (Fate::Kept(kept), true) => kept_reason(kept),
                };
                let _ = writeln!(text, "  {name}: {line}");
            }
            for (from, to) in &document.renamed {
                let _ = writeln!(
                    text,
                    "  (the copy of \"{from}\" is named \"{to}\": crossgrant generates a statement named \"{from}\" and would replace it)"
                );
            }
        }
        let mut notes = Vec::new();
        if let Some(ownership) = self.inferred_ownership {
            notes.push(format!(
                "writers are allowed s3:PutObjectAcl, so the bucket is taken to honour ACLs (object_ownership = \"{}\"); pass --object-ownership to state the live setting",
                ownership.as_str()
            ));
        }
        for role in &self.unknown_identity {
            notes.push(format!(
                "no identity policy was given for {role} (--role {role}=FILE): its grants follow from the bucket and key policies alone"
            ));
        }
        for role in &self.without_grants {
            notes.push(format!(
                "{role} gets no grant: the documents do not allow it all of a read or a write anywhere in the bucket"
            ));
        }
        if !notes.is_empty() {
            text.push_str("\nNotes:\n");
            for note in notes {
                let _ = writeln!(text, "  - {note}");
            }
        }
        text
    }
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
