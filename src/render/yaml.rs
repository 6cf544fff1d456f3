//! A small, strict YAML emitter for CloudFormation values. Strings are left plain only when
//! no YAML 1.1 or 1.2 reader could take them for anything else (a date such as `2012-10-17`,
//! a boolean such as `yes`, a number); everything else is double-quoted with escapes.
//! Single-key intrinsic functions become the short tags (`!Ref`, `!GetAtt`, `!Sub`).

use serde_json::Value as Json;

/// A scalar or intrinsic as it stands after `key: `, or `None` for a block value.
pub fn inline(value: &Json) -> Option<String> {
    let mut out = String::new();
    write_inline(value, &mut out).then_some(out)
}

/// Writes `value` as it stands after `key: ` and says so, or writes nothing and says it is a
/// block value.
fn write_inline(value: &Json, out: &mut String) -> bool {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(flag) => put!(out, "{flag}"),
        Json::Number(number) => put!(out, "{number}"),
        Json::String(text) if text.contains('\n') => return false,
        Json::String(text) => write_scalar(text, out),
        Json::Array(items) if items.is_empty() => out.push_str("[]"),
        Json::Object(map) if map.is_empty() => out.push_str("{}"),
        Json::Object(_) => return write_intrinsic(value, out),
        Json::Array(_) => return false,
    }
    true
}

fn write_intrinsic(value: &Json, out: &mut String) -> bool {
    let Some((name, argument)) = value
        .as_object()
        .filter(|map| map.len() == 1)
        .and_then(|map| map.iter().next())
    else {
        return false;
    };
    match (name.as_str(), argument) {
        ("Ref", Json::String(target)) => {
            out.push_str("!Ref ");
            write_scalar(target, out);
        }
        ("Fn::GetAtt", Json::Array(parts)) if parts.len() == 2 => {
            let (Some(resource), Some(attribute)) = (parts[0].as_str(), parts[1].as_str()) else {
                return false;
            };
            out.push_str("!GetAtt ");
            write_scalar(&format!("{resource}.{attribute}"), out);
        }
        ("Fn::Sub", Json::String(text)) if !text.contains('\n') => {
            out.push_str("!Sub ");
            write_quoted(text, out);
        }
        _ => return false,
    }
    true
}

/// A string scalar, plain when unambiguous.
pub fn scalar(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_scalar(text, &mut out);
    out
}

fn write_scalar(text: &str, out: &mut String) {
    const RESERVED: [&str; 9] = ["true", "false", "yes", "no", "on", "off", "y", "n", "null"];
    let plain_byte = |c: u8| c.is_ascii_alphanumeric() || b"_./:*@+=-".contains(&c);
    let plain = text.starts_with(|c: char| c.is_ascii_alphabetic())
        && text.bytes().all(plain_byte)
        && !text.ends_with(':')
        && !RESERVED.iter().any(|word| word.eq_ignore_ascii_case(text));
    if plain {
        out.push_str(text);
    } else {
        write_quoted(text, out);
    }
}

/// A double-quoted scalar with every special character escaped.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_quoted(text, &mut out);
    out
}

fn write_quoted(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' || c == '\u{2028}' || c == '\u{2029}' => {
                put!(out, "\\u{:04x}", c as u32)
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn pad(width: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', width));
}

/// A value as YAML lines at `indent` spaces, ending without a newline. Mappings and
/// sequences are written in block style; multi-line strings as literal blocks.
pub fn block(value: &Json, indent: usize) -> String {
    let mut out = String::new();
    write_block(value, indent, false, &mut out);
    while out.ends_with('\n') {
        out.pop();
    }
    out
}

/// Writes `value` at `indent` spaces; `continued` when its first line goes on after a `- `
/// already written.
fn write_block(value: &Json, indent: usize, continued: bool, out: &mut String) {
    let line_start = |out: &mut String, first: bool| {
        if !(first && continued) {
            pad(indent, out);
        }
    };
    let start = out.len();
    line_start(out, true);
    if write_inline(value, out) {
        out.push('\n');
        return;
    }
    out.truncate(start);
    match value {
        Json::Object(map) => {
            for (index, (key, item)) in map.iter().enumerate() {
                line_start(out, index == 0);
                write_scalar(key, out);
                out.push(':');
                write_after_key(item, indent, out);
            }
        }
        Json::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                line_start(out, index == 0);
                out.push('-');
                let item_start = out.len();
                out.push(' ');
                if write_inline(item, out) {
                    out.push('\n');
                    continue;
                }
                out.truncate(item_start);
                if let Json::Object(_) = item {
                    // First key on the dash line, the rest aligned under it.
                    out.push(' ');
                    write_block(item, indent + 2, true, out);
                } else {
                    out.push('\n');
                    write_block(item, indent + 2, false, out);
                }
            }
        }
        Json::String(text) => literal(text, indent, out),
        _ => unreachable!("scalars are inline"),
    }
}

fn write_after_key(item: &Json, indent: usize, out: &mut String) {
    let start = out.len();
    out.push(' ');
    if write_inline(item, out) {
        out.push('\n');
        return;
    }
    out.truncate(start);
    match item {
        Json::String(text) => literal(text, indent + 2, out),
        _ => {
            out.push('\n');
            write_block(item, indent + 2, false, out);
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
        write_quoted(text, out);
        out.push('\n');
        return;
    }
    out.push_str(if text.ends_with('\n') {
        " |\n"
    } else {
        " |-\n"
    });
    for line in text.lines() {
        if !line.is_empty() {
            pad(indent, out);
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
    use crate::aws::s3;
    use proptest::prelude::*;
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
            "Statement": [{ "Sid": "A", "Action": [s3::GET_OBJECT, s3::PUT_OBJECT],
                            "Resource": { "Fn::GetAtt": ["Key", "Arn"] } }],
            "Text": "line one\nline two\n",
            "Odd": "{{ ${x} }}: # '\"",
            "Empty": [],
        });
        let text = block(&value, 0);
        assert!(text.contains("Resource: !GetAtt Key.Arn"));
        assert_eq!(to_json(&text).unwrap(), value);
    }

    /// The first, allocation-heavy version of this emitter: the reference the writers above
    /// are held to.
    mod reference {
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
                    c if c.is_control()
                        || c == '\u{feff}'
                        || c == '\u{2028}'
                        || c == '\u{2029}' =>
                    {
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
                    (c.is_control() && c != '\n')
                        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}')
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
    }

    fn hostile_text() -> impl Strategy<Value = String> {
        proptest::string::string_regex(
            "[a-zA-Z0-9 _:/.*@+=\"\\\\${}#'!&|>%\\[\\]\n\t\u{1}\u{2028}\u{feff}é-]{0,24}",
        )
        .unwrap()
    }

    fn json_value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            hostile_text().prop_map(Json::String),
            prop_oneof![
                Just("yes"),
                Just("No"),
                Just("2012-10-17"),
                Just("a:"),
                Just("Ab")
            ]
            .prop_map(|text| Json::String(text.into())),
            hostile_text().prop_map(|target| json!({ "Ref": target })),
            (hostile_text(), hostile_text()).prop_map(|(a, b)| json!({ "Fn::GetAtt": [a, b] })),
            hostile_text().prop_map(|text| json!({ "Fn::Sub": text })),
        ];
        leaf.prop_recursive(4, 48, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Json::Array),
                proptest::collection::btree_map(hostile_text(), inner, 0..6)
                    .prop_map(|map| Json::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn blocks_print_as_the_reference_prints_them(value in json_value(), indent in 0usize..12) {
            prop_assert_eq!(block(&value, indent), reference::block(&value, indent));
            prop_assert_eq!(inline(&value), reference::inline(&value));
        }
    }
}
