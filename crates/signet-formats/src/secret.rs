//! Secret values: passwords and private key bytes that never print themselves.

use std::fmt;

use zeroize::Zeroizing;

/// A password, wiped from memory when dropped; `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// Wraps a password.
    pub fn new(value: impl Into<String>) -> Password {
        Password(Zeroizing::new(value.into()))
    }

    /// Generates a random password of 32 lowercase hexadecimal characters (128 bits), the
    /// form eas-cli gives generated keystore passwords.
    pub fn generate() -> crate::Result<Password> {
        Ok(Password(Zeroizing::new(random_hex32()?)))
    }

    /// The password itself. Call sites should be few and obvious.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The password as Java's `char[]` in UTF-16 big-endian, the form JKS hashes it in.
    pub(crate) fn utf16be(&self) -> Zeroizing<Vec<u8>> {
        let mut out = Zeroizing::new(Vec::with_capacity(self.0.len() * 2));
        for unit in self.0.encode_utf16() {
            out.extend_from_slice(&unit.to_be_bytes());
        }
        out
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// 32 random lowercase hexadecimal characters, used for generated aliases and passwords.
pub fn random_hex32() -> crate::Result<String> {
    let mut bytes = Zeroizing::new([0u8; 16]);
    aws_lc_rs::rand::fill(bytes.as_mut())
        .map_err(|_| crate::FormatError::Crypto("random number generator"))?;
    Ok(crate::hex_lower(bytes.as_ref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let p = Password::new("hunter2");
        assert_eq!(format!("{p:?}"), "Password([redacted])");
    }

    #[test]
    fn utf16be_matches_java_char_array() {
        let p = Password::new("a\u{e9}");
        assert_eq!(&*p.utf16be(), &[0, b'a', 0, 0xe9]);
    }

    #[test]
    fn generated_passwords_are_32_hex_and_differ() {
        let a = Password::generate().unwrap();
        let b = Password::generate().unwrap();
        assert_eq!(a.expose().len(), 32);
        assert!(a.expose().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
