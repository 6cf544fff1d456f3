//! Wildcard matching as IAM does it: `*` matches any run of characters (including none) and `?`
//! exactly one. Actions compare case-insensitively, resources and condition values exactly; ARN
//! condition operators compare each of the six colon-separated ARN fields on its own, so a
//! wildcard there never spans a colon.

/// Whether `text` matches `pattern`, where `*` and `?` in the pattern are wildcards.
pub fn glob(pattern: &str, text: &str) -> bool {
    if pattern.is_ascii() && text.is_ascii() {
        // Bytes are characters here: no need to decode.
        return glob_units(pattern.as_bytes(), text.as_bytes(), b'*', b'?');
    }
    glob_units(
        &pattern.chars().collect::<Vec<_>>(),
        &text.chars().collect::<Vec<_>>(),
        '*',
        '?',
    )
}

/// [`glob`] ignoring ASCII case, as IAM compares action names.
pub fn glob_ignore_case(pattern: &str, text: &str) -> bool {
    glob(&pattern.to_ascii_lowercase(), &text.to_ascii_lowercase())
}

fn glob_units<T: PartialEq + Copy>(pattern: &[T], text: &[T], star_unit: T, any_unit: T) -> bool {
    // Iterative matcher with one backtrack point: linear in practice, no recursion blow-up on
    // patterns with many stars.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == any_unit || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == star_unit {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&unit| unit == star_unit)
}

/// ARN matching of `ArnEquals`/`ArnLike`: both sides must be ARNs (six colon-separated fields,
/// the last one may hold further colons) and each field matches on its own.
pub fn arn_like(pattern: &str, arn: &str) -> bool {
    let pattern_fields: Vec<&str> = pattern.splitn(6, ':').collect();
    let arn_fields: Vec<&str> = arn.splitn(6, ':').collect();
    pattern_fields.len() == 6
        && arn_fields.len() == 6
        && pattern_fields
            .iter()
            .zip(&arn_fields)
            .all(|(pattern, field)| glob(pattern, field))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks() {
        assert!(glob("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b"));
        assert!(glob("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/"));
        assert!(!glob("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket"));
        assert!(glob("a?c", "abc"));
        assert!(!glob("a?c", "ac"));
        assert!(glob("*", ""));
        assert!(glob("a*b*c", "axxbyyc"));
        assert!(!glob("a*b*c", "axxbyy"));
        assert!(!glob("Bucket", "bucket"));
        assert!(glob_ignore_case("Get*", "GETOBJECT"));
    }

    #[test]
    fn arn_fields_match_separately() {
        assert!(arn_like(
            "arn:aws:iam::*:role/app",
            "arn:aws:iam::222222222222:role/app"
        ));
        assert!(!arn_like(
            "arn:aws:iam::*",
            "arn:aws:iam::222222222222:role/app"
        ));
        assert!(arn_like(
            "arn:aws:iam::222222222222:*",
            "arn:aws:iam::222222222222:role/app"
        ));
        assert!(!arn_like("*", "arn:aws:iam::222222222222:role/app"));
    }
}
