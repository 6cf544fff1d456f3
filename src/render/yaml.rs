//! A small, strict YAML emitter for CloudFormation values. Strings are left plain only when
//! no YAML 1.1 or 1.2 reader could take them for anything else (a date such as `2012-10-17`,
//! a boolean such as `yes`, a number); everything else is double-quoted with escapes.
//! Single-key intrinsic functions become the short tags (`!Ref`, `!GetAtt`, `!Sub`).

use serde_json::Value as Json;

/// A scalar or intrinsic as it stands after `key: `, or `None` for a block value.
pub fn inline(value: &Json) -> Option<String> {
    match value {
        Json::Null => Some("null".into()),
        Json::Bool(flag) => Some(flag.to_string()),
        Json::Number(number) => Some(number.to_string()),
        Json::String(text) if text.contains('\n') => None,
        Json::String(text) => Some(scalar(text)),
        Json::Array(items) if items.is_empty() => Some("[]".into()),
        Json::Object(map) if map.is_empty() => Some("{}".into()),
        Json::Object(_) => intrinsic(value),
        Json::Array(_) => None,
    }
}

fn intrinsic(value: &Json) -> Option<String> {
    let map = value.as_object()?;
    if map.len() != 1 {
        return None;
    }
    let (name, argument) = map.iter().next()?;
    match (name.as_str(), argument) {
        ("Ref", Json::String(target)) => Some(format!("!Ref {}", scalar(target))),
        ("Fn::GetAtt", Json::Array(parts)) if parts.len() == 2 => {
            let parts: Option<Vec<&str>> = parts.iter().map(Json::as_str).collect();
            Some(format!("!GetAtt {}", scalar(&parts?.join("."))))
        }
        ("Fn::Sub", Json::String(text)) if !text.contains('\n') => {
            Some(format!("!Sub {}", quoted(text)))
        }
        _ => None,
    }
}

/// A string scalar, plain when unambiguous.
pub fn scalar(text: &str) -> String {
    let plain_char = |c: char| c.is_ascii_alphanumeric() || "_./:*@+=-".contains(c);
    let reserved = ["true", "false", "yes", "no", "on", "off", "y", "n", "null"];
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.chars().all(plain_char)
        && !text.ends_with(':')
        && !reserved.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// A double-quoted scalar with every special character escaped.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A value as YAML lines at `indent` spaces, ending without a newline. Mappings and
/// sequences are written in block style; multi-line strings as literal blocks.
pub fn block(value: &Json, indent: usize) -> String {
    let mut out = String::new();
    write_block(value, indent, &mut out);
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

fn write_block(value: &Json, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    if let Some(text) = inline(value) {
        out.push_str(&pad);
        out.push_str(&text);
        out.push('\n');
        return;
    }
    match value {
        Json::Object(map) => {
            for (key, item) in map {
                out.push_str(&pad);
                out.push_str(&scalar(key));
                out.push(':');
                write_after_key(item, indent, out);
            }
        }
        Json::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match (inline(item), item) {
                    (Some(text), _) => {
                        out.push(' ');
                        out.push_str(&text);
                        out.push('\n');
                    }
                    (None, Json::Object(_)) => {
                        // First key on the dash line, the rest aligned under it.
                        let nested = block(item, indent + 2);
                        out.push(' ');
                        out.push_str(nested.trim_start());
                        out.push('\n');
                    }
                    (None, _) => {
                        out.push('\n');
                        write_block(item, indent + 2, out);
                    }
                }
            }
        }
        Json::String(text) => {
            literal(text, indent, out);
        }
        _ => unreachable!("scalars are inline"),
    }
}

fn write_after_key(item: &Json, indent: usize, out: &mut String) {
    match (inline(item), item) {
        (Some(text), _) => {
            out.push(' ');
            out.push_str(&text);
            out.push('\n');
        }
        (None, Json::String(text)) => literal(text, indent + 2, out),
        (None, Json::Array(_)) => {
            out.push('\n');
            write_block(item, indent + 2, out);
        }
        (None, _) => {
            out.push('\n');
            write_block(item, indent + 2, out);
        }
    }
}

/// A multi-line string as a literal block scalar, or double-quoted when a block cannot hold
/// it exactly (leading spaces, control characters, trailing blank lines).
fn literal(text: &str, indent: usize, out: &mut String) {
    // YAML readers also break lines at U+2028 and U+2029, and drop a BOM.
    let representable = !text.starts_with([' ', '\n'])
        && !text.chars().any(|c| {
            (c.is_control() && c != '\n') || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
        })
        && !text.ends_with("\n\n")
        && text.lines().all(|line| !line.ends_with(' '));
    if !representable {
        out.push(' ');
        out.push_str(&quoted(text));
        out.push('\n');
        return;
    }
    out.push_str(if text.ends_with('\n') {
        " |\n"
    } else {
        " |-\n"
    });
    let pad = " ".repeat(indent);
    for line in text.lines() {
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
        out.push('\n');
    }
}

/// The document parsed back and written as JSON: CloudFormation's other input format. Short
/// intrinsic tags become their long form.
pub fn to_json(yaml_text: &str) -> Result<Json, serde_yaml::Error> {
    let value: serde_yaml::Value = serde_yaml::from_str(yaml_text)?;
    Ok(untag(value))
}

fn untag(value: serde_yaml::Value) -> Json {
    use serde_yaml::Value as Y;
    match value {
        Y::Null => Json::Null,
        Y::Bool(flag) => Json::Bool(flag),
        Y::Number(number) => serde_json::to_value(number).unwrap_or(Json::Null),
        Y::String(text) => Json::String(text),
        Y::Sequence(items) => Json::Array(items.into_iter().map(untag).collect()),
        Y::Mapping(map) => Json::Object(
            map.into_iter()
                .map(|(key, item)| {
                    let key = match key {
                        Y::String(text) => text,
                        other => serde_yaml::to_string(&other)
                            .unwrap_or_default()
                            .trim()
                            .to_string(),
                    };
                    (key, untag(item))
                })
                .collect(),
        ),
        Y::Tagged(tagged) => {
            let name = tagged.tag.to_string();
            let name = name.trim_start_matches('!');
            let argument = untag(tagged.value);
            match (name, &argument) {
                ("GetAtt", Json::String(path)) => {
                    let (resource, attribute) = path.split_once('.').unwrap_or((path, ""));
                    serde_json::json!({ "Fn::GetAtt": [resource, attribute] })
                }
                ("Ref", _) => serde_json::json!({ "Ref": argument }),
                (other, _) => serde_json::json!({ format!("Fn::{other}"): argument }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ambiguous_strings_are_quoted_and_plain_ones_are_not() {
        assert_eq!(scalar("2012-10-17"), "\"2012-10-17\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("123"), "\"123\"");
        assert_eq!(scalar("arn:aws:s3:::bucket/*"), "arn:aws:s3:::bucket/*");
        assert_eq!(scalar("a \"b\"\n"), "\"a \\\"b\\\"\\n\"");
    }

    #[test]
    fn block_round_trips_through_a_yaml_reader() {
        let value = json!({
            "Version": "2012-10-17",
            "Statement": [{ "Sid": "A", "Action": ["s3:GetObject", "s3:PutObject"],
                            "Resource": { "Fn::GetAtt": ["Key", "Arn"] } }],
            "Text": "line one\nline two\n",
            "Odd": "{{ ${x} }}: # '\"",
            "Empty": [],
        });
        let text = block(&value, 0);
        assert!(text.contains("Resource: !GetAtt Key.Arn"));
        assert_eq!(to_json(&text).unwrap(), value);
    }
}
