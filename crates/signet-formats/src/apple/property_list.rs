//! Property-list errors in words: the `plist` crate displays its errors in Rust's `Debug`
//! form (`Io(Error { kind: UnexpectedEof, .. }) (offset 0)`), which no message of ours shows.

/// What is wrong with a property list, as a sentence fragment: "ends early (empty or
/// truncated)", "invalid xml syntax at offset 12".
pub fn plist_problem(e: &plist::Error) -> String {
    if e.is_eof() {
        return "too short (empty or truncated)".to_owned();
    }
    if let Some(io) = e.as_io() {
        if io.kind() == std::io::ErrorKind::UnexpectedEof {
            return "too short (empty or truncated)".to_owned();
        }
        return io.to_string();
    }
    // `Kind (offset N)` or `Kind { field: .. } (offset N)` or `Serde("message")`.
    let shown = e.to_string();
    let (kind, position) = match shown.rsplit_once(" (offset ") {
        Some((kind, rest)) => (kind, rest.strip_suffix(')')),
        None => (shown.as_str(), None),
    };
    let words = match kind
        .strip_prefix("Serde(\"")
        .and_then(|m| m.strip_suffix("\")"))
    {
        Some(message) => message.to_owned(),
        None => words_of(kind.split(['{', '(', ' ']).next().unwrap_or(kind)),
    };
    match position {
        Some(offset) => format!("{words} at offset {offset}"),
        None => words,
    }
}

/// `InvalidXmlSyntax` → `invalid xml syntax`.
fn words_of(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push(' ');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        }
    }
    if out.is_empty() {
        "not a property list".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::plist_problem;

    fn problem(bytes: &[u8]) -> String {
        let e = plist::from_bytes::<plist::Value>(bytes).expect_err("not a plist");
        plist_problem(&e)
    }

    #[test]
    fn no_debug_rendering_reaches_the_message() {
        assert_eq!(problem(b""), "too short (empty or truncated)");
        let xml = problem(b"<?xml version=\"1.0\"?><plist><dict><key>a</key></plist>");
        assert!(
            !xml.contains(['{', '(', '"', '_']) && xml.starts_with(char::is_lowercase),
            "{xml}"
        );
        let unclosed = problem(b"<?xml version=\"1.0\"?><plist><dict>");
        assert!(
            !unclosed.contains('{') && !unclosed.contains("Error"),
            "{unclosed}"
        );
    }
}
