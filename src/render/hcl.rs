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
                        out.push_str(&format!("{pad}  {},\n", self::value(item, indent + 2)));
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

#[cfg(test)]
mod tests {
    use super::*;
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
}
