//! Distinguished names in keytool's `-dname` syntax: `CN=Jane, OU=Mobile, O=Acme, C=US`.
//!
//! keytool lists the most specific attribute first and encodes the name in the reverse
//! order (X.501 order, country first); signet does the same, so a name written with
//! `--dname` prints back identically in `keytool -list -v`.

use std::fmt;

use crate::{FormatError, Result};

/// One attribute type keytool accepts in `-dname`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    /// `CN`, common name (2.5.4.3).
    CommonName,
    /// `OU`, organizational unit (2.5.4.11).
    OrganizationalUnit,
    /// `O`, organization (2.5.4.10).
    Organization,
    /// `L`, locality (2.5.4.7).
    Locality,
    /// `ST` (or `S`), state or province (2.5.4.8).
    State,
    /// `C`, two-letter country code (2.5.4.6).
    Country,
    /// `STREET`, street address (2.5.4.9).
    Street,
    /// `EMAILADDRESS`, e-mail address (1.2.840.113549.1.9.1).
    Email,
    /// `DC`, domain component (0.9.2342.19200300.100.1.25).
    DomainComponent,
    /// `UID`, user id (0.9.2342.19200300.100.1.1).
    UserId,
}

impl Attribute {
    fn from_keyword(k: &str) -> Option<Attribute> {
        Some(match k.to_ascii_uppercase().as_str() {
            "CN" => Attribute::CommonName,
            "OU" => Attribute::OrganizationalUnit,
            "O" => Attribute::Organization,
            "L" => Attribute::Locality,
            "ST" | "S" => Attribute::State,
            "C" => Attribute::Country,
            "STREET" => Attribute::Street,
            "EMAILADDRESS" | "EMAIL" | "E" => Attribute::Email,
            "DC" => Attribute::DomainComponent,
            "UID" => Attribute::UserId,
            _ => return None,
        })
    }

    /// The keyword keytool prints.
    pub fn keyword(self) -> &'static str {
        match self {
            Attribute::CommonName => "CN",
            Attribute::OrganizationalUnit => "OU",
            Attribute::Organization => "O",
            Attribute::Locality => "L",
            Attribute::State => "ST",
            Attribute::Country => "C",
            Attribute::Street => "STREET",
            Attribute::Email => "EMAILADDRESS",
            Attribute::DomainComponent => "DC",
            Attribute::UserId => "UID",
        }
    }

    /// The attribute's OID arcs.
    pub fn oid(self) -> &'static [u64] {
        match self {
            Attribute::CommonName => &[2, 5, 4, 3],
            Attribute::OrganizationalUnit => &[2, 5, 4, 11],
            Attribute::Organization => &[2, 5, 4, 10],
            Attribute::Locality => &[2, 5, 4, 7],
            Attribute::State => &[2, 5, 4, 8],
            Attribute::Country => &[2, 5, 4, 6],
            Attribute::Street => &[2, 5, 4, 9],
            Attribute::Email => &[1, 2, 840, 113_549, 1, 9, 1],
            Attribute::DomainComponent => &[0, 9, 2342, 19_200_300, 100, 1, 25],
            Attribute::UserId => &[0, 9, 2342, 19_200_300, 100, 1, 1],
        }
    }
}

/// A distinguished name, attributes in the order written (most specific first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistinguishedName {
    attributes: Vec<(Attribute, String)>,
}

impl DistinguishedName {
    /// Parses keytool's `-dname` syntax: `KEY=VALUE` pairs separated by commas; a value may
    /// be double-quoted or use `\` to escape a comma. Keys are case-insensitive. Attributes
    /// with an empty value are left out, as keytool's prompts do.
    pub fn parse(s: &str) -> Result<DistinguishedName> {
        let bad = |m: String| FormatError::BadDistinguishedName(m);
        let mut attributes: Vec<(Attribute, String)> = Vec::new();
        let mut chars = s.chars().peekable();
        loop {
            // Key.
            let mut key = String::new();
            for c in chars.by_ref() {
                if c == '=' {
                    break;
                }
                key.push(c);
            }
            let key = key.trim();
            if key.is_empty() && chars.peek().is_none() {
                break;
            }
            let attr = Attribute::from_keyword(key).ok_or_else(|| {
                bad(format!(
                    "unknown attribute `{key}` (use CN, OU, O, L, ST, C)"
                ))
            })?;
            // Value.
            let mut value = String::new();
            let mut quoted = false;
            while chars.peek() == Some(&' ') {
                chars.next();
            }
            if chars.peek() == Some(&'"') {
                quoted = true;
                chars.next();
            }
            let mut closed = !quoted;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some(n) => value.push(n),
                        None => return Err(bad("dangling `\\` at the end".into())),
                    },
                    '"' if quoted => {
                        closed = true;
                        // Only spaces may follow a closing quote before the separator.
                        for c in chars.by_ref() {
                            match c {
                                ',' => break,
                                ' ' => {}
                                other => {
                                    return Err(bad(format!(
                                        "unexpected `{other}` after a quoted value"
                                    )));
                                }
                            }
                        }
                        break;
                    }
                    ',' if !quoted => break,
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(bad("unterminated quoted value".into()));
            }
            let value = if quoted {
                value
            } else {
                value.trim().to_owned()
            };
            if value.is_empty() {
                continue;
            }
            if attr == Attribute::Country
                && !(value.len() == 2 && value.chars().all(|c| c.is_ascii_alphabetic()))
            {
                return Err(bad(format!("country `{value}` must be a two-letter code")));
            }
            if attributes.iter().any(|(a, _)| *a == attr) {
                return Err(bad(format!("attribute {} given twice", attr.keyword())));
            }
            attributes.push((attr, value));
        }
        if attributes.is_empty() {
            return Err(bad(
                "no attributes; for example `CN=Jane Doe, O=Acme, C=US`".into(),
            ));
        }
        Ok(DistinguishedName { attributes })
    }

    /// The attributes, most specific first.
    pub fn attributes(&self) -> &[(Attribute, String)] {
        &self.attributes
    }
}

impl fmt::Display for DistinguishedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (a, v)) in self.attributes.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{}={v}", a.keyword())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    macro_rules! dname {
        ($name:ident, $input:expr, $expected:expr) => {
            #[test]
            fn $name() {
                let dn = DistinguishedName::parse($input).unwrap();
                let got: Vec<(&str, &str)> = dn
                    .attributes()
                    .iter()
                    .map(|(a, v)| (a.keyword(), v.as_str()))
                    .collect();
                assert_eq!(got, $expected);
            }
        };
    }

    dname!(
        simple,
        "CN=Jane, O=Acme, C=US",
        vec![("CN", "Jane"), ("O", "Acme"), ("C", "US")]
    );
    dname!(
        lower_keys_and_s,
        "cn=a,s=Bavaria",
        vec![("CN", "a"), ("ST", "Bavaria")]
    );
    dname!(
        quoted_comma,
        "CN=\"Acme, Inc.\", C=DE",
        vec![("CN", "Acme, Inc."), ("C", "DE")]
    );
    dname!(
        escaped_comma,
        "O=Acme\\, Inc., CN=x",
        vec![("O", "Acme, Inc."), ("CN", "x")]
    );
    dname!(empty_values_dropped, "CN=app, OU=, O=", vec![("CN", "app")]);
    dname!(
        spaces_trimmed,
        "  CN = Jane Doe ,O=Acme  ",
        vec![("CN", "Jane Doe"), ("O", "Acme")]
    );

    #[test]
    fn refuses_bad_names() {
        for (bad, why) in [
            ("", "no attributes"),
            ("XX=1", "unknown attribute `XX`"),
            ("C=USA", "country `USA` must be a two-letter code"),
            ("CN=a, CN=b", "attribute CN given twice"),
            ("CN=\"open", "unterminated quoted value"),
            ("CN=a\\", "dangling `\\` at the end"),
            ("CN=\"a\" b", "unexpected `b` after a quoted value"),
        ] {
            assert!(
                matches!(
                    DistinguishedName::parse(bad),
                    Err(FormatError::BadDistinguishedName(d)) if d.starts_with(why)
                ),
                "{bad:?}: {:?}",
                DistinguishedName::parse(bad)
            );
        }
    }
}
