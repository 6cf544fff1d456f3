//! Scenario files that are not what a TOML scenario should be: not UTF-8, UTF-16, or holding a
//! value megabytes long. Each is refused with exit 2, the file, line and column of the problem,
//! and a message short enough to read.

use crate::common;

#[test]
fn a_scenario_that_is_not_utf8_is_located_at_its_first_bad_byte() {
    let blog = std::fs::read(common::root().join("examples/blog.toml")).unwrap();
    // A Latin-1 `é` at the start of line 3, column 3.
    let mut lines: Vec<Vec<u8>> = blog.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    lines[2] = [b"# ".as_slice(), &[0xE9], b" caf\xE9"].concat();
    let stderr = common::check_refuses(lines.join(&b'\n'));
    assert!(stderr.contains("scenario.toml:3:3"), "{stderr}");
    assert!(stderr.contains("not UTF-8"), "{stderr}");
}

#[test]
fn a_utf16_scenario_is_named_as_such() {
    let blog = std::fs::read_to_string(common::root().join("examples/blog.toml")).unwrap();
    let mut bytes = vec![0xFF, 0xFE];
    for unit in blog.encode_utf16() {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    let stderr = common::check_refuses(&bytes);
    assert!(stderr.contains("scenario.toml:1:1"), "{stderr}");
    assert!(stderr.contains("UTF-16"), "{stderr}");
    assert!(!stderr.contains('\0'), "no raw UTF-16 is echoed");
}

/// A value of a megabyte in any field that reaches a message is shown cut, never whole, and the
/// problem is still located.
#[test]
fn a_message_never_echoes_a_megabyte_value() {
    let blog = std::fs::read_to_string(common::root().join("examples/blog.toml")).unwrap();
    let huge = "a".repeat(1 << 20);
    let spaced = format!("{} b", "a ".repeat(1 << 19));
    for (field, value) in [
        ("name = \"acme-shared-data\"", &huge),
        ("name = \"app-s3-cross-account\"", &huge),
        ("alias = \"shared-data\"", &huge),
        ("region = \"ap-northeast-1\"", &huge),
        ("access = \"read-write\"", &huge),
        ("instance_type = \"t3.micro\"", &spaced),
    ] {
        assert!(blog.contains(field), "{field} is in the blog example");
        let key = field.split(" = ").next().unwrap();
        let text = blog.replacen(field, &format!("{key} = \"{value}\""), 1);
        let stderr = common::check_refuses(&text);
        assert!(
            stderr.len() < 4096,
            "{key}: {} bytes of diagnostics:\n{}",
            stderr.len(),
            &stderr[..stderr.len().min(2000)]
        );
        assert!(
            stderr.contains("scenario.toml:"),
            "{key}: located: {stderr}"
        );
        assert!(
            stderr.contains("more characters") || stderr.contains(" …"),
            "{key}: {stderr}"
        );
    }
}
