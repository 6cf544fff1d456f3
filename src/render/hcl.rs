//! HCL text for Terraform: escaped string literals, policy values as `jsonencode` object
//! expressions, and the `=` alignment `terraform fmt` applies, so generated files pass
//! `terraform fmt -check` as written.

use serde_json::Value as Json;

/// The JSON key that marks a Terraform expression inside a policy value
/// (`{"$expr": "aws_kms_key.data.arn"}` prints as the bare expression).
pub const EXPRESSION_MARKER: &str = "$expr";

pub fn expression(text: impl Into<String>) -> Json {
    serde_json::json!({ EXPRESSION_MARKER: text.into() })
}

/// A quoted HCL string literal; `${` and `%{` are escaped so no text is ever interpolated.
pub fn string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    write_string(text, &mut out);
    out
}

fn write_string(text: &str, out: &mut String) {
    out.push('"');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => put!(out, "\\u{:04X}", c as u32),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn is_identifier(key: &str) -> bool {
    key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

fn write_key(text: &str, out: &mut String) {
    if is_identifier(text) {
        out.push_str(text);
    } else {
        write_string(text, out);
    }
}

fn pad(width: usize, out: &mut String) {
    out.extend(std::iter::repeat_n(' ', width));
}

/// A value as an HCL expression; nested objects and lists open on this line and close at
/// `indent` spaces.
pub fn value(value: &Json, indent: usize) -> String {
    let mut out = String::new();
    write_value(value, indent, &mut out);
    out
}

/// A list stays on one line while it is shorter than this, as people write them.
const LINE_WIDTH: usize = 100;

fn write_value(value: &Json, indent: usize, out: &mut String) {
    match value {
        Json::Null => out.push_str("null"),
        Json::Bool(flag) => put!(out, "{flag}"),
        Json::Number(number) => put!(out, "{number}"),
        Json::String(text) => write_string(text, out),
        Json::Object(map) => {
            if let (1, Some(Json::String(expr))) = (map.len(), map.get(EXPRESSION_MARKER)) {
                out.push_str(expr);
                return;
            }
            if map.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{\n");
            for (name, item) in map {
                pad(indent + 2, out);
                write_key(name, out);
                out.push_str(" = ");
                write_value(item, indent + 2, out);
                out.push('\n');
            }
            pad(indent, out);
            out.push('}');
        }
        Json::Array(items) => {
            // One line when every item fits on it, else one item per line.
            let start = out.len();
            out.push('[');
            let mut one_line = true;
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push_str(", ");
                }
                let item_start = out.len();
                write_value(item, indent, out);
                if out[item_start..].contains('\n') || out.len() - start - 1 + indent >= LINE_WIDTH
                {
                    one_line = false;
                    break;
                }
            }
            if one_line {
                out.push(']');
                return;
            }
            out.truncate(start);
            out.push_str("[\n");
            for item in items {
                pad(indent + 2, out);
                write_value(item, indent + 2, out);
                out.push_str(",\n");
            }
            pad(indent, out);
            out.push(']');
        }
    }
}

/// Net bracket depth change of a line, ignoring brackets inside string literals.
fn bracket_balance(line: &str) -> i32 {
    let mut depth = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in line.bytes() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' | b'(' => depth += 1,
            b'}' | b']' | b')' => depth -= 1,
            _ => {}
        }
    }
    depth
}

/// Where the `=` of an attribute line stands, if the line is a single-line attribute: the end
/// of its key, and where the value starts.
fn assignment(line: &str) -> Option<(usize, usize)> {
    let trimmed = line.trim_start();
    let lead = line.len() - trimmed.len();
    let key_len = if let Some(rest) = trimmed.strip_prefix('"') {
        let mut escaped = false;
        let end = rest.bytes().position(|c| {
            if escaped {
                escaped = false;
                false
            } else if c == b'\\' {
                escaped = true;
                false
            } else {
                c == b'"'
            }
        })?;
        end + 2
    } else {
        trimmed
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .filter(|&end| end > 0)?
    };
    let after = &trimmed[key_len..];
    let rest = after.trim_start_matches(' ');
    if !rest.starts_with('=') || rest.starts_with("==") || rest.starts_with("=>") {
        return None;
    }
    let value = rest[1..].trim_start_matches(' ');
    (bracket_balance(rest) == 0).then_some((lead + key_len, line.len() - value.len()))
}

/// Aligns the `=` of consecutive single-line attributes, as `terraform fmt` does: a line
/// that opens a multi-line value, a blank line or a closing bracket ends a run.
pub fn align(text: &str) -> String {
    let lines: Vec<(&str, Option<(usize, usize)>)> =
        text.lines().map(|line| (line, assignment(line))).collect();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < lines.len() {
        let run = lines[i..]
            .iter()
            .take_while(|(_, assignment)| assignment.is_some())
            .count();
        if run == 0 {
            out.push_str(lines[i].0.trim_end());
            out.push('\n');
            i += 1;
            continue;
        }
        let width = lines[i..i + run]
            .iter()
            .filter_map(|(_, assignment)| assignment.map(|(key_end, _)| key_end))
            .max()
            .unwrap_or(0);
        for (line, assignment) in &lines[i..i + run] {
            let (key_end, value_start) = assignment.unwrap_or((0, 0));
            let value = &line[value_start..];
            out.push_str(&line[..key_end]);
            pad(width - key_end + 1, &mut out);
            out.push('=');
            if !value.is_empty() {
                out.push(' ');
                out.push_str(value.trim_end());
            }
            out.push('\n');
        }
        i += run;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn strings_never_interpolate() {
        assert_eq!(
            string("${var.x} %{if} \"q\"\n"),
            r#""$${var.x} %%{if} \"q\"\n""#
        );
    }

    #[test]
    fn alignment_follows_runs_of_single_line_attributes() {
        let text = "a = 1\nlonger = 2\nobj = {\n  x = [\"a\", \"b\"]\n  yy = \"}\"\n}\n";
        assert_eq!(
            align(text),
            "a      = 1\nlonger = 2\nobj = {\n  x  = [\"a\", \"b\"]\n  yy = \"}\"\n}\n"
        );
    }

    #[test]
    fn policy_values_print_expressions_bare() {
        let policy = json!({ "Resource": expression("aws_kms_key.data.arn"), "aws:x": ["a"] });
        assert_eq!(
            value(&policy, 0),
            "{\n  Resource = aws_kms_key.data.arn\n  \"aws:x\" = [\"a\"]\n}"
        );
    }

    /// The first, allocation-heavy version of this module: the reference the writers above
    /// are held to.
    mod reference {
        use super::super::EXPRESSION_MARKER;
        use serde_json::Value as Json;

        /// A quoted HCL string literal; `${` and `%{` are escaped so no text is ever interpolated.
        pub fn string(text: &str) -> String {
            let mut out = String::with_capacity(text.len() + 2);
            out.push('"');
            let mut chars = text.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    '\r' => out.push_str("\\r"),
                    '\t' => out.push_str("\\t"),
                    '$' | '%' if chars.peek() == Some(&'{') => {
                        out.push(c);
                        out.push(c);
                    }
                    c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        }

        fn is_identifier(key: &str) -> bool {
            key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        }

        fn key(text: &str) -> String {
            if is_identifier(text) {
                text.to_string()
            } else {
                string(text)
            }
        }

        /// A value as an HCL expression; nested objects and lists open on this line and close at
        /// `indent` spaces.
        pub fn value(value: &Json, indent: usize) -> String {
            let pad = " ".repeat(indent);
            match value {
                Json::Null => "null".into(),
                Json::Bool(flag) => flag.to_string(),
                Json::Number(number) => number.to_string(),
                Json::String(text) => string(text),
                Json::Object(map) => {
                    if let (1, Some(Json::String(expr))) = (map.len(), map.get(EXPRESSION_MARKER)) {
                        return expr.clone();
                    }
                    if map.is_empty() {
                        return "{}".into();
                    }
                    let mut out = String::from("{\n");
                    for (name, item) in map {
                        out.push_str(&format!(
                            "{pad}  {} = {}\n",
                            key(name),
                            self::value(item, indent + 2)
                        ));
                    }
                    out.push_str(&pad);
                    out.push('}');
                    out
                }
                Json::Array(items) => {
                    let scalars: Option<Vec<String>> = items
                        .iter()
                        .map(|item| match item {
                            Json::Object(_) | Json::Array(_) => {
                                let text = self::value(item, indent);
                                (!text.contains('\n')).then_some(text)
                            }
                            _ => Some(self::value(item, indent)),
                        })
                        .collect();
                    match scalars {
                        Some(parts) if parts.join(", ").len() + indent < 100 => {
                            format!("[{}]", parts.join(", "))
                        }
                        _ => {
                            let mut out = String::from("[\n");
                            for item in items {
                                out.push_str(&format!(
                                    "{pad}  {},\n",
                                    self::value(item, indent + 2)
                                ));
                            }
                            out.push_str(&pad);
                            out.push(']');
                            out
                        }
                    }
                }
            }
        }

        /// Net bracket depth change of a line, ignoring brackets inside string literals.
        fn bracket_balance(line: &str) -> i32 {
            let mut depth = 0;
            let mut in_string = false;
            let mut escaped = false;
            for c in line.chars() {
                if in_string {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '"' => in_string = false,
                        _ => {}
                    }
                    continue;
                }
                match c {
                    '"' => in_string = true,
                    '{' | '[' | '(' => depth += 1,
                    '}' | ']' | ')' => depth -= 1,
                    _ => {}
                }
            }
            depth
        }

        /// Where the `=` of an attribute line stands, if the line is a single-line attribute.
        fn assignment(line: &str) -> Option<usize> {
            let trimmed = line.trim_start();
            let lead = line.len() - trimmed.len();
            let key_len = if let Some(rest) = trimmed.strip_prefix('"') {
                let mut escaped = false;
                let end = rest.char_indices().find_map(|(i, c)| {
                    if escaped {
                        escaped = false;
                        None
                    } else if c == '\\' {
                        escaped = true;
                        None
                    } else if c == '"' {
                        Some(i)
                    } else {
                        None
                    }
                })?;
                end + 2
            } else {
                trimmed
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
                    .filter(|&end| end > 0)?
            };
            let after = &trimmed[key_len..];
            let spaces = after.len() - after.trim_start_matches(' ').len();
            let rest = &after[spaces..];
            if !rest.starts_with('=') || rest.starts_with("==") || rest.starts_with("=>") {
                return None;
            }
            (bracket_balance(rest) == 0).then_some(lead + key_len)
        }

        /// Aligns the `=` of consecutive single-line attributes, as `terraform fmt` does: a line
        /// that opens a multi-line value, a blank line or a closing bracket ends a run.
        pub fn align(text: &str) -> String {
            let lines: Vec<&str> = text.lines().collect();
            let mut out = String::with_capacity(text.len() + 256);
            let mut i = 0;
            while i < lines.len() {
                let mut j = i;
                while j < lines.len() && assignment(lines[j]).is_some() {
                    j += 1;
                }
                if j == i {
                    out.push_str(lines[i].trim_end());
                    out.push('\n');
                    i += 1;
                    continue;
                }
                let width = (i..j)
                    .filter_map(|k| assignment(lines[k]))
                    .max()
                    .unwrap_or(0);
                for line in &lines[i..j] {
                    let key_end = assignment(line).unwrap_or(0);
                    let rest = line[key_end..].trim_start_matches(' ');
                    let value = rest[1..].trim_start_matches(' ');
                    out.push_str(&line[..key_end]);
                    out.push_str(&" ".repeat(width - key_end + 1));
                    out.push('=');
                    if !value.is_empty() {
                        out.push(' ');
                        out.push_str(value.trim_end());
                    }
                    out.push('\n');
                }
                i = j;
            }
            out
        }
    }

    fn hostile_text() -> impl Strategy<Value = String> {
        proptest::string::string_regex("[a-z0-9 _:/.*=\"\\\\${}%\\[\\]()\n\t\u{1}é-]{0,24}")
            .unwrap()
    }

    fn json_value() -> impl Strategy<Value = Json> {
        let leaf = prop_oneof![
            Just(Json::Null),
            any::<bool>().prop_map(Json::Bool),
            any::<i32>().prop_map(|n| json!(n)),
            hostile_text().prop_map(Json::String),
            hostile_text().prop_map(expression),
        ];
        leaf.prop_recursive(4, 48, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Json::Array),
                proptest::collection::btree_map(hostile_text(), inner, 0..6)
                    .prop_map(|map| Json::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn values_print_as_the_reference_prints_them(value in json_value(), indent in 0usize..12) {
            prop_assert_eq!(super::value(&value, indent), reference::value(&value, indent));
        }

        #[test]
        fn alignment_matches_the_reference(value in json_value(), names in proptest::collection::vec(hostile_text(), 0..6)) {
            let mut text = String::new();
            for name in &names {
                text.push_str(&format!("{} = {}\n", reference::string(name), reference::value(&value, 0)));
                text.push_str(&format!("x{} = [\"=\"]\n\n  ", name.len()));
            }
            text.push_str(&format!("  policy = jsonencode({})\n", reference::value(&value, 2)));
            prop_assert_eq!(align(&text), reference::align(&text));
        }
    }
}
